"""The patterns that flag a transcript line for an operator: attempts to take payment or
contact off the platform, in French and English as spoken in Cameroon. Data, not code:
add a rule here (and a sample line, true and false, in tests/unit/test_flags.py).

Patterns are matched case-insensitively against the line with accents removed (speech-to-
text is inconsistent with them), so write them without accents. Mobile money alone is not a
flag — families pay us with it — only mobile money *to a person*, or paying around us.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    why: str  # shown to operators
    pattern: str


_MONEY_APP = r"(?:orange\s*money|\bom\b|mo\s*mo|mtn\s*(?:money|momo)|mobile\s*money|\bmomo\b)"
# "my Orange Money" is how a family says it paid us; "to my Orange Money" is not.
_TO_ME = (r"(?:\b(?:to|on|into)\s+my\b|\b(?:sur|a|vers)\s+mon\b|\bsend\s+me\b|"
          r"\benvoie[sz]?[\s-]*moi\b|\bdirect(?:ly|ement)\b|\bnumber\b|\bnumero\b|"
          r"\bpersonal\b|\bpersonnel)")

RULES: tuple[Rule, ...] = (
    Rule("phone_number", "a Cameroonian phone number",
         # +237 6XX XX XX XX, 237 6…, or a bare 9-digit mobile 6XXXXXXXX in any grouping.
         r"(?:(?:\+|00)?\s*237[\s.-]*)?(?<![\d])6(?:[\s.-]?\d){8}(?![\d])"),
    Rule("pay_directly", "asks to be paid directly, outside the app",
         r"\b(?:pay|send|transfer)\s+(?:\S+\s+){0,4}(?:directly|outside|off\s+the\s+app|"
         r"without\s+(?:the\s+app|prepskul|the\s+platform))"
         r"|\b(?:pai[es]|payez|payer|envoie|envoyez|transf[eè]re)[\s-]*(?:moi|me)?\s*"
         r"(?:\S+\s+){0,4}(?:directement|en\s+dehors|hors\s+de|sans\s+passer)"
         r"|\bsans\s+passer\s+par\s+(?:l['\s]?app\w*|la\s+plateforme|prepskul)"
         r"|\b(?:outside|around)\s+(?:of\s+)?(?:the\s+app|prepskul|the\s+platform)\b"),
    Rule("mobile_money_to_person", "mobile money to a person rather than through PrepSkul",
         rf"{_MONEY_APP}.{{0,40}}{_TO_ME}|{_TO_ME}.{{0,25}}{_MONEY_APP}"),
    Rule("contact_off_platform", "offers a private contact (WhatsApp, Telegram, phone)",
         r"\b(?:whats\s*app|telegram|signal)\b.{0,30}(?:\bme\b|\bmoi\b|\bmy\b|\bmon\b|"
         r"\bnumber\b|\bnumero\b|\badd\b|\bajoute|\becris|\bwrite|\bcontact|\bcall|\bappel)"
         r"|(?:\bme\b|\bmoi\b|\bmy\b|\bmon\b|\badd\b|\bajoute|\becris|\bwrite|\bcontact|"
         r"\bcall|\bappel).{0,30}\b(?:whats\s*app|telegram|signal)\b"
         r"|\b(?:call|text)\s+me\s+(?:on|at)\b|\bappelle[sz]?[\s-]*moi\s+(?:au|sur)\b"),
)
