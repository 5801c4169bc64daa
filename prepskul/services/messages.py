"""What we tell people, in French and English (the product serves Cameroon)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from prepskul.db.models import TutoringSession

TITLES: dict[str, dict[str, str]] = {
    "booked": {"en": "Session booked", "fr": "Séance réservée"},
    "approved": {
        "en": "Session approved: you can pay", "fr": "Séance acceptée : vous pouvez payer",
    },
    "declined": {"en": "Session declined", "fr": "Séance refusée"},
    "paid": {"en": "Payment received", "fr": "Paiement reçu"},
    "payment_failed": {"en": "Payment failed", "fr": "Le paiement a échoué"},
    "meet_ready": {"en": "Your Meet link is ready", "fr": "Votre lien Meet est prêt"},
    "rescheduled": {"en": "Session moved", "fr": "Séance déplacée"},
    "cancelled": {"en": "Session cancelled", "fr": "Séance annulée"},
    "reminder": {"en": "Your session starts soon", "fr": "Votre séance commence bientôt"},
    "notes_ready": {"en": "Lesson notes are ready", "fr": "Les notes de la séance sont prêtes"},
}

BODIES: dict[str, str] = {
    "en": "{subject}, {when} ({zone}).",
    "fr": "{subject}, {when} ({zone}).",
}


def render(kind: str, language: str, session: TutoringSession, zone: str) -> tuple[str, str]:
    lang = language if language in ("fr", "en") else "fr"
    title = TITLES.get(kind, {}).get(lang, kind)
    local = session.starts_at.astimezone(ZoneInfo(zone))
    when = local.strftime("%d/%m/%Y %H:%M") if lang == "fr" else local.strftime("%Y-%m-%d %H:%M")
    return title, BODIES[lang].format(subject=session.subject, when=when, zone=zone)
