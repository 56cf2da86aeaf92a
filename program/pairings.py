"""What a pairing is: a formal pair (an assignment) or a coffee chat. Check-ins, meetings, intros
and messages are all about one; each such row names it by one of two columns, `assignment_id` or
`chat_id`. This module is the one place that reads a pairing from those columns, knows its
people and says what a check-in is about, so no other module branches on the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from program.checkins.models import CheckIn
from program.coffee.models import Chat, ChatMember, Round
from program.db import chunks
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus
from program.people.models import Person
from program.programs.models import Program, Term

KINDS = ("assignment", "chat")


def ref(row: Any) -> tuple[str, int]:
    """("assignment" | "chat", id): the pairing a row about one (a check-in, a meeting, a
    message) names."""
    if row.assignment_id is not None:
        return "assignment", row.assignment_id
    return "chat", row.chat_id


def key(row: Any) -> str:
    """ "assignment:12" or "chat:7": the pairing in a dedupe key."""
    kind, pairing_id = ref(row)
    return f"{kind}:{pairing_id}"


def columns(kind: str, pairing_id: int) -> dict[str, int | None]:
    """Both reference columns of a row about this pairing, one of them empty (rows inserted in
    bulk have one shape)."""
    return {f"{k}_id": pairing_id if k == kind else None for k in KINDS}


@dataclass
class Pairing:
    """A formal pair or a coffee chat: whom a meeting is between, and in which program."""

    kind: str  # "assignment" or "chat"
    id: int
    members: list[Person]
    program: Program

    @property
    def label(self) -> str:
        return "mentoring meeting" if self.kind == "assignment" else "coffee chat"

    def where(self, model: Any) -> Any:
        """The clause that picks `model`'s rows about this pairing (a meeting, a check-in)."""
        return getattr(model, f"{self.kind}_id") == self.id

    def columns(self) -> dict[str, int | None]:
        """Both reference columns of a row about this pairing (one of them empty)."""
        return columns(self.kind, self.id)


def pairing(kind: str, pairing_id: int) -> Pairing | None:
    if kind == "assignment":
        a = db.session.get(Assignment, pairing_id)
        if a is None or a.status is not AssignmentStatus.ACTIVE:
            return None
        return Pairing(kind, a.id, [a.trainee, a.mentor], a.term.program)
    if kind == "chat":
        chat = db.session.get(Chat, pairing_id)
        if chat is None:
            return None
        return Pairing(kind, chat.id, [m.person for m in chat.members], chat.program)
    return None


def pairing_of(row: Any) -> Pairing | None:
    """The live pairing a row about one names; None once it has ended or gone."""
    return pairing(*ref(row))


@dataclass(frozen=True)
class About:
    """The pairing a check-in asks about, as its author may see it: the partners' names only."""

    track: str  # "formal" or "coffee"
    partners: list[str]
    period_label: str
    program_id: int

    @property
    def partner_names(self) -> str:
        names = self.partners
        return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)


def abouts(check_ins: Sequence[CheckIn]) -> dict[int, About]:
    """What each check-in is about, in at most two queries for any number (one per track),
    read as names and numbers: loading the pairings' rows as objects cost the one-click answer
    more than the rest of its work. Each check-in keeps its answer for as long as it is loaded
    (a pairing's people do not change under an answer), so pages, services and e-mails that
    ask again ask no more queries."""
    found: dict[int, About] = {}
    formal: dict[int, list[CheckIn]] = {}
    coffee: dict[int, list[CheckIn]] = {}
    for check_in in check_ins:
        kept_about = sa.inspect(check_in).info.get("about")
        if kept_about is not None:
            found[check_in.id] = kept_about
        elif check_in.assignment_id is not None:
            formal.setdefault(check_in.assignment_id, []).append(check_in)
        else:
            coffee.setdefault(check_in.chat_id, []).append(check_in)  # type: ignore[arg-type]
    for row in pairs_with_people(formal):
        for check_in in formal[row.id]:
            other = row.trainee_name if row.mentor_id == check_in.person_id else row.mentor_name
            found[check_in.id] = About(
                "formal", [other], check_in.period_start.strftime("%B %Y"), row.program_id
            )
    for chunk in chunks(list(coffee)):
        rows = db.session.execute(
            sa.select(
                Chat.id,
                Chat.program_id,
                Chat.created_at,
                Round.number,
                ChatMember.person_id,
                Person.name,
            )
            .outerjoin(Round, Round.id == Chat.round_id)
            .join(ChatMember, ChatMember.chat_id == Chat.id)
            .join(Person, Person.id == ChatMember.person_id)
            .where(Chat.id.in_(chunk))
            .order_by(Chat.id, ChatMember.position, ChatMember.id)
        ).all()
        for chat_id, members in groupby(rows, key=lambda row: row.id):
            members = list(members)
            first = members[0]
            label = (
                f"coffee-chat round {first.number}"
                if first.number is not None
                else f"coffee chat of {first.created_at:%B %Y}"
            )
            for check_in in coffee[chat_id]:
                others = [m.name for m in members if m.person_id != check_in.person_id]
                found[check_in.id] = About("coffee", others, label, first.program_id)
    for check_in in check_ins:
        sa.inspect(check_in).info["about"] = found[check_in.id]
    return found


def about(check_in: CheckIn) -> About:
    return abouts([check_in])[check_in.id]


def pairs_with_people(assignment_ids: Iterable[int]) -> Iterator[Any]:
    """Each of these pairs as a row of names and numbers: its id, its program's, and each
    side's id, name and address (`mentor_id`, `mentor_name`, `mentor_email`, the same for
    `trainee_`), a query per chunk of ids. What intros and check-ins say of a pair, without
    loading its people as objects."""
    mentor, trainee = aliased(Person, name="mentor"), aliased(Person, name="trainee")
    for chunk in chunks(list(assignment_ids)):
        yield from db.session.execute(
            sa.select(
                Assignment.id,
                Term.program_id,
                mentor.id.label("mentor_id"),
                mentor.name.label("mentor_name"),
                mentor.email.label("mentor_email"),
                trainee.id.label("trainee_id"),
                trainee.name.label("trainee_name"),
                trainee.email.label("trainee_email"),
            )
            .join(Term, Term.id == Assignment.term_id)
            .join(mentor, mentor.id == Assignment.mentor_id)
            .join(trainee, trainee.id == Assignment.trainee_id)
            .where(Assignment.id.in_(chunk))
            .order_by(Assignment.id)
        )
