"""What we tell people, in French and English (the product serves Cameroon)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from jinja2 import Environment, select_autoescape

from prepskul.db.models import TutoringSession
from prepskul.domain.people import local_time_text

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
    "move_proposed": {
        "en": "A new time is proposed for your session",
        "fr": "Un nouvel horaire est proposé pour votre séance",
    },
    "move_declined": {
        "en": "Proposed new time declined: the session stays",
        "fr": "Nouvel horaire refusé : la séance ne change pas",
    },
    "move_expired": {
        "en": "Proposed new time unanswered: the session stays",
        "fr": "Nouvel horaire sans réponse : la séance ne change pas",
    },
    "cancelled": {"en": "Session cancelled", "fr": "Séance annulée"},
    "reminder": {"en": "Your session starts soon", "fr": "Votre séance commence bientôt"},
    "approval_reminder": {
        "en": "A booking request awaits your answer",
        "fr": "Une demande de séance attend votre réponse",
    },
    "hold_lapsed": {
        "en": "Booking released: not paid in time",
        "fr": "Réservation libérée : non payée à temps",
    },
    "request_lapsed": {
        "en": "Booking request lapsed: no answer in time",
        "fr": "Demande de séance expirée : pas de réponse à temps",
    },
    "notes_ready": {"en": "Lesson notes are ready", "fr": "Les notes de la séance sont prêtes"},
    "outcome_completed": {
        "en": "Lesson held: confirm it or report a problem",
        "fr": "Séance tenue : confirmez-la ou signalez un problème"},
    "outcome_student_no_show": {
        "en": "Lesson recorded as missed by the learner: confirm or report a problem",
        "fr": "Séance notée comme manquée par l'élève : confirmez ou signalez un problème"},
    "outcome_tutor_no_show": {
        "en": "Lesson recorded as missed by the tutor: confirm or report a problem",
        "fr": "Séance notée comme manquée par le tuteur : confirmez ou signalez un problème"},
    "outcome_disputed": {"en": "Lesson under review by PrepSkul",
                         "fr": "Séance en cours d'examen par PrepSkul"},
    "outcome_unresolved": {"en": "Lesson under review by PrepSkul",
                           "fr": "Séance en cours d'examen par PrepSkul"},
    "problem_reported": {"en": "A problem was reported with the lesson",
                         "fr": "Un problème a été signalé pour la séance"},
    "lesson_settled": {"en": "Lesson outcome confirmed", "fr": "Issue de la séance confirmée"},
    "review_received": {"en": "New review of your lesson", "fr": "Nouvel avis sur votre séance"},
    "review_reply": {"en": "The tutor replied to your review",
                     "fr": "Le tuteur a répondu à votre avis"},
}

TUTOR_MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "tutor_review": {
        "en": ("A tutor profile awaits review", "{name} updated their profile."),
        "fr": ("Un profil de tuteur attend validation", "{name} a mis à jour son profil."),
    },
    "tutor_approved": {
        "en": ("Your tutor profile is approved", "Students can now book you, {name}."),
        "fr": ("Votre profil de tuteur est validé",
               "Les élèves peuvent maintenant vous réserver, {name}."),
    },
    "tutor_suspended": {
        "en": ("Your tutor profile is suspended", "No new bookings for now. {reason}"),
        "fr": ("Votre profil de tuteur est suspendu",
               "Plus de nouvelles réservations pour l'instant. {reason}"),
    },
}


PLAN_MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "plan_proposed": {
        "en": ("A plan of regular lessons awaits your answer", "{subject}: {detail}."),
        "fr": ("Un forfait de cours réguliers attend votre réponse", "{subject} : {detail}."),
    },
    "plan_approved": {
        "en": ("Plan accepted: its times are reserved", "{subject}: pay the first invoice."),
        "fr": ("Forfait accepté : ses horaires sont réservés",
               "{subject} : payez la première facture."),
    },
    "plan_declined": {
        "en": ("Plan declined", "{subject}: {detail}"),
        "fr": ("Forfait refusé", "{subject} : {detail}"),
    },
    "invoice_issued": {
        "en": ("New invoice for your plan", "{subject}: {detail}."),
        "fr": ("Nouvelle facture pour votre forfait", "{subject} : {detail}."),
    },
    "invoice_reminder": {
        "en": ("Invoice due soon", "{subject}: {detail}."),
        "fr": ("Facture bientôt due", "{subject} : {detail}."),
    },
    "invoice_paid": {
        "en": ("Invoice paid: the lessons are booked", "{subject}: {detail}."),
        "fr": ("Facture payée : les cours sont réservés", "{subject} : {detail}."),
    },
    "plan_paused_unpaid": {
        "en": ("Plan paused: invoice unpaid", "{subject}: its times are released. Paying the"
               " invoice resumes it if they are still free."),
        "fr": ("Forfait suspendu : facture impayée", "{subject} : ses horaires sont libérés."
               " Payer la facture le reprend s'ils sont encore libres."),
    },
    "plan_paused": {
        "en": ("Plan paused", "{subject}: its times are released."),
        "fr": ("Forfait suspendu", "{subject} : ses horaires sont libérés."),
    },
    "plan_resumed": {
        "en": ("Plan resumed", "{subject}: its times are reserved again."),
        "fr": ("Forfait repris", "{subject} : ses horaires sont de nouveau réservés."),
    },
    "plan_changed": {
        "en": ("Plan times changed", "{subject}: {detail}."),
        "fr": ("Horaires du forfait modifiés", "{subject} : {detail}."),
    },
    "plan_ended": {
        "en": ("Plan ended", "{subject}: {detail}."),
        "fr": ("Forfait terminé", "{subject} : {detail}."),
    },
}


PLAN_DETAILS: dict[str, dict[str, str]] = {
    "invoice": {"en": "{total} XAF for {n} lessons, due {when} ({zone})",
                "fr": "{total} XAF pour {n} cours, échéance le {when} ({zone})"},
    "lessons": {"en": "{n} lessons from {when} ({zone})",
                "fr": "{n} cours à partir du {when} ({zone})"},
}


def plan_detail(kind: str, language: str, *, n: int, when: datetime | None, zone: str,
                total: int = 0) -> str:
    """The variable part of a plan message, in the person's language and zone."""
    lang = language if language in ("fr", "en") else "fr"
    shown = local_time_text(when, zone, lang) if when else "—"
    return PLAN_DETAILS[kind][lang].format(total=total, n=n, when=shown, zone=zone)


def render_plan(kind: str, language: str, subject: str, detail: str) -> tuple[str, str]:
    lang = language if language in ("fr", "en") else "fr"
    title, body = PLAN_MESSAGES[kind][lang]
    return title, body.format(subject=subject, detail=detail)


def render_tutor(kind: str, language: str, name: str, reason: str | None) -> tuple[str, str]:
    lang = language if language in ("fr", "en") else "fr"
    title, body = TUTOR_MESSAGES[kind][lang]
    return title, body.format(name=name, reason=reason or "").strip()


BODIES: dict[str, str] = {
    "en": "{subject}, {when} ({zone}).",
    "fr": "{subject}, {when} ({zone}).",
}


def render(kind: str, language: str, session: TutoringSession, zone: str) -> tuple[str, str]:
    lang = language if language in ("fr", "en") else "fr"
    title = TITLES.get(kind, {}).get(lang, kind)
    when = local_time_text(session.starts_at, zone, lang)
    return title, BODIES[lang].format(subject=session.subject, when=when, zone=zone)


EMAIL_HTML = Environment(autoescape=select_autoescape(default=True)).from_string(
    """<!doctype html><html lang="{{ lang }}"><body style="font-family:sans-serif">
<h2>{{ title }}</h2><p>{{ body }}</p>
<p><a href="{{ link }}">{{ open }}</a></p>
<p style="color:#777;font-size:small">PrepSkul</p></body></html>"""
)
OPEN = {"en": "Open the session", "fr": "Ouvrir la séance"}


def email_message(
    *, to: str, title: str, body: str, language: str, link: str, message_id: str,
    sent_at: datetime,
) -> EmailMessage:
    """A text + HTML email, complete as RFC 5322 wants it (`Date`, `Message-ID`; `From` is
    the mailer's). Its Message-ID derives from the notification, so even a resend after a
    crash is recognised as the same message by mail clients. Both parts are UTF-8 in
    quoted-printable (French stays readable in the source, and every line short), and it
    says it was sent by a machine, so vacation replies are not sent back (RFC 3834)."""
    lang = language if language in OPEN else "fr"
    msg = EmailMessage()
    msg["To"], msg["Subject"], msg["Message-ID"] = to, title, message_id
    msg["Date"] = format_datetime(sent_at.astimezone(UTC))
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"  # Exchange's own switch for the same
    msg.set_content(f"{body}\n\n{OPEN[lang]}: {link}\n", charset="utf-8",
                    cte="quoted-printable")
    msg.add_alternative(EMAIL_HTML.render(lang=lang, title=title, body=body, link=link,
                                          open=OPEN[lang]), subtype="html", charset="utf-8",
                        cte="quoted-printable")
    msg["Content-Language"] = lang  # after the parts: setting content drops Content-* headers
    return msg
