"""What we tell people, in French and English (the product serves Cameroon)."""

from __future__ import annotations

from email.message import EmailMessage
from zoneinfo import ZoneInfo

from jinja2 import Environment, select_autoescape

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


EMAIL_HTML = Environment(autoescape=select_autoescape(default=True)).from_string(
    """<!doctype html><html lang="{{ lang }}"><body style="font-family:sans-serif">
<h2>{{ title }}</h2><p>{{ body }}</p>
<p><a href="{{ link }}">{{ open }}</a></p>
<p style="color:#777;font-size:small">PrepSkul</p></body></html>"""
)
OPEN = {"en": "Open the session", "fr": "Ouvrir la séance"}


def email_message(
    *, to: str, title: str, body: str, language: str, link: str, message_id: str
) -> EmailMessage:
    """A text + HTML email. Its Message-ID derives from the notification, so even a resend
    after a crash is recognised as the same message by mail clients."""
    lang = language if language in OPEN else "fr"
    msg = EmailMessage()
    msg["To"], msg["Subject"], msg["Message-ID"] = to, title, message_id
    msg.set_content(f"{body}\n\n{OPEN[lang]}: {link}\n")
    msg.add_alternative(EMAIL_HTML.render(lang=lang, title=title, body=body, link=link,
                                          open=OPEN[lang]), subtype="html")
    return msg
