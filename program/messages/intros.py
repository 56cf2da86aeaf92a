"""Who writes first after an introduction, and the words they can send.

The playbook this product is built on: the earlier-career person sends a short, specific,
time-bound ask ("could I grab you for 20 minutes in the next few weeks to ask two or three
questions?"); a first approach to a possible mentor is a personal note of 150-250 words (who you
are, how you came across them, one thing you know of their work, a request for a short meeting).
Plain Python with no Flask, so the rule and the words can be tested alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from program.people.stages import CareerStage

FORMAL_QUESTIONS = [
    "What two or three decisions most changed your path?",
    "What would you stop spending time on if you were me?",
    "What did you want at my stage that turned out to be wrong?",
]
# A first approach to a possible mentor (the playbook's guide).
FORMAL_WORDS = (150, 250)
# How long the other side waits before writing themselves.
EXPECT_WITHIN_DAYS = 7


class Introduced(Protocol):
    id: int
    name: str
    email: str
    stage: CareerStage | None
    department_name: str | None
    interests: Any


@dataclass(frozen=True)
class Ask:
    """A ready-to-send note: the person edits it in their own mail program and sends it."""

    subject: str
    body: str

    @property
    def words(self) -> int:
        return len(self.body.split())


def first_mover(people: Sequence[Introduced], key: str) -> Introduced:
    """Who writes first: the earliest career stage. Between equal (or unrecorded) stages a draw
    fixed by the pair's own key, so that it is the same every time the intro is shown but
    nobody is always the one who waits (an alphabetical rule would be)."""

    def order(person: Introduced) -> tuple[int, str]:
        rank = person.stage.rank if person.stage is not None else len(CareerStage)
        return rank, hashlib.sha256(f"{key}:{person.id}".encode()).hexdigest()

    return min(people, key=order)


def chat_first_mover(people: Sequence[Introduced], chat_id: int, self_started: bool) -> Introduced:
    """Who writes first in a coffee chat: in one a person started with an ask, the asker (seated
    first), who now offers times; in a round's chat, as `first_mover` decides."""
    return people[0] if self_started else first_mover(people, f"chat:{chat_id}")


def shared_interests(mine: Sequence[Any] | None, theirs: Sequence[Any] | None) -> list[str]:
    """The first two of `mine` that are also in `theirs`, case aside (a person's interests, or
    a directory listing's topics)."""
    folded = {str(i).casefold() for i in (theirs or [])}
    return [str(i) for i in (mine or []) if str(i).casefold() in folded][:2]


def _who(person: Introduced) -> str:
    stage = person.stage.label if person.stage is not None else ""
    if stage and person.department_name:
        return f"{stage} in {person.department_name}"
    return stage or (person.department_name or "")


def _names(people: Sequence[Introduced]) -> str:
    names = [p.name for p in people]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def formal_ask(trainee: Introduced, mentor: Introduced, program: str) -> Ask:
    """A trainee's first approach to the mentor they were paired with: 150-250 words."""
    who = _who(trainee)
    common = shared_interests(trainee.interests, mentor.interests)
    if common:
        interest = (
            f"I saw that we share an interest in {' and '.join(common)}, and I would value "
            f"hearing how {'they have' if len(common) > 1 else 'it has'} shaped your work and "
            "the choices you made along the way."
        )
    elif mentor.department_name:
        interest = (
            f"I would value hearing how your work in {mentor.department_name} took shape, and "
            "what you wish you had known at my stage."
        )
    else:
        interest = (
            "I would value hearing how your work took shape, and what you wish you had known "
            "at my stage."
        )
    questions = "\n".join(f"- {q}" for q in FORMAL_QUESTIONS)
    body = (
        f"Dear {mentor.name},\n\n"
        f"I am {trainee.name}{', ' + who if who else ''}. The {program} paired us for formal "
        "mentoring this term, and I am glad it did. "
        f"{interest}\n\n"
        "Could we meet for 20 minutes, in person or by video, sometime in the next two weeks? "
        "[Day and time] or [day and time] would suit me; if neither works for you, I will "
        "gladly fit around your schedule.\n\n"
        "For a first meeting I would like to hear about your path rather than talk about "
        f"mine. Three questions I have in mind:\n{questions}\n\n"
        "I know your time is precious, so I will come with these written down and keep to the "
        "20 minutes. Thank you, and I look forward to meeting you.\n\n"
        f"Best wishes,\n{trainee.name}" + (f"\n{who}" if who else "")
    )
    return Ask(f"{program}: could we meet for 20 minutes?", body)


def coffee_ask(sender: Introduced, partners: Sequence[Introduced], program: str) -> Ask:
    """A short, specific, time-bound ask for a coffee chat."""
    who = _who(sender)
    common = [i for p in partners for i in shared_interests(sender.interests, p.interests)][:1]
    if common:
        topic = f"We both list {common[0]}: I would love to hear how you came to it."
    else:
        departments = [p.department_name for p in partners if p.department_name]
        topic = (
            f"I would love to hear what a week of your work in {departments[0]} looks like."
            if departments
            else "I would love to hear what a week of your work looks like."
        )
    body = (
        f"Hi {_names(partners)},\n\n"
        f"The {program} paired us for this round's coffee chat. I am {sender.name}"
        f"{', ' + who if who else ''}. {topic}\n\n"
        "Could I grab you for 20 minutes sometime in the next two weeks, for a coffee or a "
        "video call? [Day and time] or [day and time] would suit me; happy to fit around you.\n\n"
        f"Thanks,\n{sender.name}"
    )
    return Ask(f"Coffee chat ({program}): 20 minutes in the next two weeks?", body)


def yes_ask(sender: Introduced, partners: Sequence[Introduced], program: str) -> Ask:
    """The asker's note once their ask was answered yes: thanks, and two times."""
    body = (
        f"Hi {_names(partners)},\n\n"
        "Thank you for saying yes to a coffee. [Day and time] or [day and time] would suit me, "
        "for 20 minutes in person or by video; if neither works, tell me a time that suits you "
        "and I will fit around it.\n\n"
        f"Thanks again,\n{sender.name}"
    )
    return Ask(f"{program}: a time for our coffee", body)


def mailto(addresses: Sequence[str], ask: Ask | None = None) -> str:
    """A mailto link (RFC 6068) that opens a note to these people, ready to edit and send."""
    to = ",".join(quote(a, safe="@") for a in addresses)
    if ask is None:
        return f"mailto:{to}"
    return f"mailto:{to}?subject={quote(ask.subject, safe='')}&body={quote(ask.body, safe='')}"


def intro_context(
    person: Introduced,
    partners: Sequence[Introduced],
    *,
    first: Introduced,
    ask: Ask,
    program: str,
    track: str,
    today: date,
) -> dict[str, Any]:
    """What one person's introduction says: the partners and how to reach them, and either the
    ready ask (the first mover) or who will write and by when (everyone else)."""
    writes_first = person.id == first.id
    return {
        "person": person,
        "partners": list(partners),
        "track": track,
        "program_name": program,
        "writes_first": writes_first,
        "first_mover": first,
        "ask": ask if writes_first else None,
        "write_link": mailto([p.email for p in partners], ask if writes_first else None),
        "expect_by": today + timedelta(days=EXPECT_WITHIN_DAYS),
    }


def follow_up_ask(sender: Introduced, partners: Sequence[Introduced], program: str) -> Ask:
    """The one polite follow-up the playbook allows, about a week after a first note."""
    body = (
        f"Hi {_names(partners)},\n\n"
        f"Following up on my note from last week about meeting through the {program}, in case "
        "it got buried. Could we find 20 minutes in the next two weeks? [Day and time] or "
        "[day and time] would suit me, or any time that suits you better.\n\n"
        f"Thanks,\n{sender.name}"
    )
    return Ask(f"Following up: 20 minutes in the next two weeks? ({program})", body)
