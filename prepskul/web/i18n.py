"""The pages' words in French and English (the person's preference, switchable)."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "sign_in": {"en": "Sign in", "fr": "Se connecter"},
    "sign_out": {"en": "Sign out", "fr": "Se déconnecter"},
    "token": {"en": "Supabase access token", "fr": "Jeton d'accès Supabase"},
    "demo_users": {"en": "Demo users (sandbox)", "fr": "Utilisateurs de démonstration"},
    "my_sessions": {"en": "My sessions", "fr": "Mes séances"},
    "book": {"en": "Book a session", "fr": "Réserver une séance"},
    "tutor": {"en": "Tutor", "fr": "Tuteur"},
    "student": {"en": "Student", "fr": "Élève"},
    "for_child": {"en": "For", "fr": "Pour"},
    "subject": {"en": "Subject", "fr": "Matière"},
    "starts": {"en": "Starts", "fr": "Début"},
    "minutes": {"en": "Length (minutes)", "fr": "Durée (minutes)"},
    "kind": {"en": "Kind", "fr": "Type"},
    "trial": {"en": "Trial", "fr": "Essai"},
    "regular": {"en": "Regular", "fr": "Régulière"},
    "price": {"en": "Price", "fr": "Prix"},
    "in_zone": {"en": "times in", "fr": "heures de"},
    "status": {"en": "Status", "fr": "Statut"},
    "pay_link": {"en": "Pay on Fapshi's page", "fr": "Payer sur la page Fapshi"},
    "pay_phone": {"en": "Pay by mobile money prompt", "fr": "Payer par mobile money"},
    "phone": {"en": "Mobile money number", "fr": "Numéro mobile money"},
    "waiting_phone": {"en": "Confirm the payment on your phone; this page updates by itself.",
                      "fr": "Confirmez le paiement sur votre téléphone ; cette page se met "
                            "à jour toute seule."},
    "join": {"en": "Join the lesson", "fr": "Rejoindre la séance"},
    "join_soon": {"en": "Join opens 10 minutes before the start.",
                  "fr": "Le bouton s'active 10 minutes avant le début."},
    "no_link": {"en": "The Meet link appears here once the session is paid.",
                "fr": "Le lien Meet apparaît ici une fois la séance payée."},
    "approve": {"en": "Approve", "fr": "Accepter"},
    "decline": {"en": "Decline", "fr": "Refuser"},
    "reason": {"en": "Reason", "fr": "Motif"},
    "reschedule": {"en": "Move", "fr": "Déplacer"},
    "cancel": {"en": "Cancel the session", "fr": "Annuler la séance"},
    "lesson_happened": {"en": "The lesson happened (sandbox)",
                        "fr": "La séance a eu lieu (bac à sable)"},
    "notes": {"en": "Lesson notes", "fr": "Notes de la séance"},
    "summary": {"en": "Summary", "fr": "Résumé"},
    "action_items": {"en": "Action items", "fr": "Actions"},
    "homework": {"en": "homework, due", "fr": "devoir, pour le"},
    "transcript": {"en": "Transcript", "fr": "Transcription"},
    "attendance": {"en": "Attendance", "fr": "Présence"},
    "nothing": {"en": "Nothing yet.", "fr": "Rien pour l'instant."},
    "ops": {"en": "Operations", "fr": "Opérations"},
    "webhooks": {"en": "Webhook deliveries", "fr": "Webhooks reçus"},
    "replay": {"en": "Replay", "fr": "Rejouer"},
    "jobs": {"en": "Jobs", "fr": "Tâches"},
    "retry": {"en": "Retry", "fr": "Relancer"},
    "purge": {"en": "Purge", "fr": "Supprimer"},
    "unassigned": {"en": "Recordings to assign", "fr": "Enregistrements à attribuer"},
    "assign": {"en": "Assign", "fr": "Attribuer"},
    "attention": {"en": "Sessions needing attention", "fr": "Séances à surveiller"},
    "flagged": {"en": "Flagged payments", "fr": "Paiements signalés"},
    "filter": {"en": "Filter", "fr": "Filtrer"},
    "language": {"en": "Français", "fr": "English"},
    "present": {"en": "present", "fr": "présent"},
    "absent": {"en": "absent", "fr": "absent"},
}

STATUS: dict[str, dict[str, str]] = {
    "requested": {"en": "waiting for the tutor", "fr": "en attente du tuteur"},
    "awaiting_payment": {"en": "awaiting payment", "fr": "en attente de paiement"},
    "paid": {"en": "paid", "fr": "payée"},
    "scheduled": {"en": "scheduled", "fr": "programmée"},
    "completed": {"en": "completed", "fr": "terminée"},
    "declined": {"en": "declined", "fr": "refusée"},
    "cancelled": {"en": "cancelled", "fr": "annulée"},
    "expired": {"en": "expired", "fr": "expirée"},
}


def status_names(language: str) -> dict[str, str]:
    lang = language if language in ("fr", "en") else "fr"
    return {key: by_lang[lang] for key, by_lang in STATUS.items()}


def translator(language: str) -> dict[str, str]:
    lang = language if language in ("fr", "en") else "fr"
    words = {key: by_lang[lang] for key, by_lang in TEXT.items()}
    words.update({f"status_{key}": by_lang[lang] for key, by_lang in STATUS.items()})
    return words
