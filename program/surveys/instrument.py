"""The term survey's instrument: its questions in fixed wording, their answers, and its version.

Stored with every response (`INSTRUMENT`), so that a later release that changes a word never
mixes its answers with this one's in a trend. Plain Python: the report and the pages both read it.
"""

from __future__ import annotations

from dataclasses import dataclass

INSTRUMENT = "hallway-term-survey-1"

# Satisfaction with the mentoring received in a track this term: 1-5, 0 "does not apply".
SATISFACTION = (
    (5, "Very satisfied"),
    (4, "Satisfied"),
    (3, "Neither satisfied nor dissatisfied"),
    (2, "Dissatisfied"),
    (1, "Very dissatisfied"),
    (0, "Does not apply"),
)
SATISFIED = (4, 5)  # "satisfied + very satisfied", the share accreditors read
TRACK_QUESTION = {
    "formal": "How satisfied are you with the mentoring you received this term from your "
    "assigned mentor (or, as a mentor, with your mentoring relationships)?",
    "coffee": "How satisfied are you with the coffee chats you had this term?",
}
CAREER_QUESTION = "I have at least one person I can go to for career advice."
OUTSIDE_QUESTION = (
    "With how many people outside your own department did you have a professional "
    "conversation this term?"
)
OUTSIDE = (("0", "None"), ("1-2", "1 or 2"), ("3-5", "3 to 5"), ("6+", "6 or more"))
LED_TO_QUESTION = (
    "Did any of those conversations lead to something concrete? (Choose all that apply.)"
)
LED_TO = (
    ("collaboration", "A collaboration"),
    ("referral", "A referral"),
    ("opportunity", "An opportunity"),
    ("advice_acted_on", "Advice I acted on"),
    ("none", "None of these"),
)
LOAD_QUESTION = "As a mentor, your mentoring load this term was:"
LOAD = (
    ("about_right", "About right"),
    ("too_much", "Too much"),
    ("could_take_more", "I could take more"),
)

# A coordinator's own questions: at most three per program, in the fixed questions' answer types.
MAX_OWN_QUESTIONS = 3
OWN_KINDS = (("scale", "Very dissatisfied … very satisfied"), ("yes_no", "Yes / no"))
YES_NO = (("yes", "Yes"), ("no", "No"))


@dataclass(frozen=True)
class OwnQuestion:
    """A coordinator's question, as the survey that asks it keeps it."""

    text: str
    kind: str  # one of OWN_KINDS

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "kind": self.kind}


def own_questions(stored: list[dict[str, str]] | None) -> list[OwnQuestion]:
    """The questions a program or survey keeps (a list of {"text", "kind"}), as read back."""
    kinds = {k for k, _ in OWN_KINDS}
    return [
        OwnQuestion(q["text"], q["kind"])
        for q in stored or []
        if isinstance(q, dict) and q.get("text") and q.get("kind") in kinds
    ][:MAX_OWN_QUESTIONS]
