"""Transcript flags on sample lines of both languages, as spoken in Cameroon: what must be
flagged for an operator, and ordinary lesson talk that must not be."""

import pytest

from prepskul.domain.flag_rules import Rule
from prepskul.domain.flags import Line, scan


def _line(text: str, speaker: str = "Dr. Ngono") -> Line:
    return Line(index=3, speaker=speaker, speaker_email="ngono@tutors.prepskul.test",
                text=text, timestamp="00:12:04")


FLAGGED = [
    # English
    ("Next time just pay me directly, it is cheaper for you.", "pay_directly"),
    ("You can send the money to my Orange Money instead.", "mobile_money_to_person"),
    ("Pay outside the app and I give you two extra lessons.", "pay_directly"),
    ("Add me on WhatsApp so we can arrange the next lessons.", "contact_off_platform"),
    ("My number is 677 12 34 56.", "phone_number"),
    ("Call me on +237 6 99 88 77 66 tomorrow.", "phone_number"),
    ("Text me at 655123456.", "phone_number"),
    # French
    ("La prochaine fois, paie-moi directement, c'est plus simple.", "pay_directly"),
    ("Envoie-moi l'argent par Orange Money directement.", "pay_directly"),
    ("Tu peux faire le dépôt sur mon MoMo, ça ira plus vite.", "mobile_money_to_person"),
    ("On peut continuer sans passer par l'application.", "pay_directly"),
    ("Écris-moi sur WhatsApp ce soir.", "contact_off_platform"),
    ("Mon numéro c'est le 6 91 23 45 67.", "phone_number"),
    ("Appelle-moi au 00237 670 000 111.", "phone_number"),
    ("Payez-moi en dehors de PrepSkul, par OM.", "pay_directly"),
]

NOT_FLAGGED = [
    "I paid with my Orange Money through the app, it was quick.",
    "Mon père a payé par Orange Money sur PrepSkul.",
    "Page 6, exercise 12: solve 3x + 6 = 0.",
    "The answer is 650 000 francs after the discount.",
    "Le vecteur OM a pour coordonnées (2 ; 3).",
    "WhatsApp is a messaging application owned by Meta.",
    "On remplace directement x par 2 dans l'équation.",
    "In 1960 Cameroon became independent; in 1961 the two parts reunited.",
    "Ton exercice 6, tu l'envoies sur la plateforme avant vendredi.",
]


@pytest.mark.parametrize(("text", "rule"), FLAGGED)
def test_attempts_to_go_around_the_platform_are_flagged(text: str, rule: str) -> None:
    assert rule in {f.rule for f in scan([_line(text)])}


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_ordinary_lesson_talk_is_not_flagged(text: str) -> None:
    assert scan([_line(text)]) == []


def test_a_flag_carries_the_speaker_and_an_excerpt_of_the_original_text() -> None:
    long = ("Bon, pour la suite " * 6) + "paie-moi directement et on oublie l'application. " * 2
    [flag] = [f for f in scan([_line(long, speaker="Dr. Ngono")]) if f.rule == "pay_directly"]
    assert flag.line.speaker == "Dr. Ngono" and flag.line.timestamp == "00:12:04"
    assert "paie-moi directement" in flag.excerpt  # accents and case as spoken
    assert flag.excerpt.startswith("…") and len(flag.excerpt) < len(long)


def test_each_rule_flags_a_line_once_and_lines_keep_their_order() -> None:
    lines = [_line("677 12 34 56 or 699 88 77 66"),
             Line(7, "Sam", None, "pay me directly please")]
    assert [(f.line.index, f.rule) for f in scan(lines)] == [(3, "phone_number"),
                                                            (7, "pay_directly")]


def test_rules_are_data_a_new_one_needs_no_code() -> None:
    rules = [Rule("bank_transfer", "a bank account", r"\biban\b")]
    assert [f.rule for f in scan([_line("Mon IBAN est CM21…")], rules)] == ["bank_transfer"]
