"""Coffee rounds: previewed, published (each chat introduced by e-mail), scheduled and published
when due, their details, and what a participant sees of their chats."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from program.audit.services import record
from program.checkins.models import CheckIn, CheckInStatus
from program.coffee.models import Chat, ChatMember, Enrollment, Round, RoundStatus
from program.coffee.pool import (
    Taking,
    default_seed,
    eligible,
    next_number,
    pool_state,
    round_inputs,
)
from program.db import DomainError, insert_rows, utc_now
from program.extensions import db
from program.kept import kept
from program.matching import coffee as pairing
from program.matching.formal import DepartmentPreference
from program.messages.intros import (
    coffee_ask,
    first_mover,
    mailto,
)
from program.messages.services import queue_messages, unwritten_message
from program.people.models import Person
from program.programs.models import Membership, Program


@dataclass
class Preview:
    program: Program
    number: int
    seed: int
    scheduled_for: date
    plan: pairing.RoundPlan
    people: dict[int, Taking] = field(default_factory=dict)

    @property
    def has_trio(self) -> bool:
        return any(len(chat) == 3 for chat in self.plan.chats)


def preview_round(
    program: Program, seed: int | None = None, on: date | None = None, *, keep: bool = False
) -> Preview:
    """The next round as it would be published now; writes nothing. With `keep`, the one
    worked out for the same pool and settings is served again (see `pool_state`): the
    coordinator's page opens in milliseconds, not the second it takes at 10,000 people, and
    publishing publishes the plan the page showed."""
    on = on or utc_now().date()
    number = next_number(program)
    draft = db.session.scalar(
        sa.select(Round).where(Round.program_id == program.id, Round.status == RoundStatus.DRAFT)
    )
    if draft is not None:
        number = draft.number
        seed = draft.seed if seed is None else seed
    seed = default_seed(program, number) if seed is None else seed
    settings = (program.coffee_repeat_window, program.coffee_department_preference.value)
    key = (program.id, number, seed, on, settings, pool_state(program, on)) if keep else None
    found = kept("coffee_previews").get(key) if keep else None
    if found is None:
        people = eligible(program, on)
        participants, history, formal = round_inputs(program, number, people)
        plan = pairing.plan_round(
            participants,
            history=history,
            forbidden=formal,
            repeat_window=program.coffee_repeat_window,
            preference=DepartmentPreference(program.coffee_department_preference.value),
            seed=seed,
        )
        found = (plan, {p.id: p for p in people})
        if keep:
            kept("coffee_previews").put(key, found)
    plan, people_by_id = found
    return Preview(program, number, seed, on, plan, people_by_id)


def publish_round(
    actor: Person | None,
    program: Program,
    seed: int | None = None,
    now: datetime | None = None,
) -> Round:
    """Pair everyone taking part, save the round and queue one intro to each person."""
    now = now or utc_now()
    # The plan the coordinator saw, where nothing it is made from has changed since (the kept
    # preview's key holds the pool's exact state): at 50,000 people, a third of publishing.
    preview = preview_round(program, seed, now.date(), keep=True)
    if not preview.plan.chats:
        raise DomainError("Nobody can be paired: fewer than two people are taking part right now.")
    round_ = db.session.scalar(
        sa.select(Round).where(Round.program_id == program.id, Round.status == RoundStatus.DRAFT)
    )
    if round_ is None:
        round_ = Round(program_id=program.id, number=preview.number)
        db.session.add(round_)
    round_.seed = preview.seed
    round_.scheduled_for = now.date()
    round_.status = RoundStatus.PUBLISHED
    round_.published_at = now
    round_.quality = {
        **preview.plan.quality.as_dict(),
        "people": sum(len(c) for c in preview.plan.chats),
        "left_out": len(preview.plan.left_out),
        "relaxed": len(preview.plan.relaxed),
    }
    db.session.flush()
    chat_ids = db.session.scalars(
        sa.insert(Chat).returning(Chat.id, sort_by_parameter_order=True),
        [
            {"round_id": round_.id, "program_id": program.id, "created_at": now}
            for _ in preview.plan.chats
        ],
    ).all()
    chats = list(zip(chat_ids, preview.plan.chats, strict=True))
    members = [
        {"chat_id": chat_id, "round_id": round_.id, "person_id": pid, "position": k}
        for chat_id, people_ids in chats
        for k, pid in enumerate(people_ids)
    ]
    if members:
        insert_rows(db.session, ChatMember, members)
    db.session.expire(round_, ["chats"])  # written in bulk, behind the ORM's back
    addresses = {pid: taking.email for pid, taking in preview.people.items()}
    introduce_chats(program, chats, addresses)
    record(
        actor,
        "coffee.round_published",
        round_,
        program_id=program.id,
        details={**round_.quality, "seed": round_.seed},
        summary=f"Coffee round {round_.number}: {len(chats)} chats",
    )
    return round_


def introduce_chats(
    program: Program, chats: list[tuple[int, tuple[int, ...]]], addresses: dict[int, str]
) -> None:
    """One introduction to each person of each chat, written when it is sent (see
    `_compose_intros`): here only who gets which, addressed as everyone's address is now."""
    queue_messages(
        [
            unwritten_message(
                SimpleNamespace(id=pid, email=addresses[pid]),
                "intro",
                template="intro",
                program_id=program.id,
                dedupe_key=f"intro:chat:{chat_id}:{pid}",
                reply_to=[addresses[other] for other in ids if other != pid],
                chat_id=chat_id,
            )
            for chat_id, ids in chats
            for pid in ids
        ]
    )


def schedule_round(actor: Person, program: Program, on: date, seed: int | None = None) -> Round:
    """Plan the next round for a date: `flask tick` publishes it then, with whoever takes part."""
    if on < utc_now().date():
        raise DomainError("Choose today or a later date.", field="on")
    round_ = db.session.scalar(
        sa.select(Round).where(Round.program_id == program.id, Round.status == RoundStatus.DRAFT)
    )
    if round_ is None:
        number = next_number(program)
        round_ = Round(program_id=program.id, number=number)
        db.session.add(round_)
    round_.scheduled_for = on
    round_.seed = default_seed(program, round_.number) if seed is None else seed
    db.session.flush()
    record(
        actor,
        "coffee.round_scheduled",
        round_,
        program_id=program.id,
        summary=f"Coffee round {round_.number} scheduled for {on:%d %b %Y}",
    )
    return round_


def too_soon(program: Program, on: date | None = None) -> str | None:
    """Why a round on `on` (today if None) comes before the program's cadence allows, or None."""
    on = on or utc_now().date()
    last = db.session.scalar(
        sa.select(Round)
        .where(Round.program_id == program.id, Round.status == RoundStatus.PUBLISHED)
        .order_by(Round.scheduled_for.desc())
        .limit(1)
    )
    if last is None:
        return None
    gap = (on - last.scheduled_for).days
    if gap >= program.coffee_cadence_days:
        return None
    after = "the same day as" if gap == 0 else f"{gap} day{'s' if gap != 1 else ''} after"
    return (
        f"This round would go out {after} round {last.number} "
        f"({last.scheduled_for:%d %B %Y}); this program's rounds are every "
        f"{program.coffee_cadence_days} days. People already have a chat from that round."
    )


def publish_as_planned(
    actor: Person | None, program: Program, on: date | None, seed: int | None = None
) -> Round:
    """The round as it goes out on `on` (today if None): published there and then, so that
    what a scheduled round will e-mail can be counted (and undone) before it is scheduled."""
    when = on or utc_now().date()
    return publish_round(actor, program, seed, now=datetime.combine(when, time(9), tzinfo=UTC))


def publish_or_schedule(
    actor: Person, program: Program, on: date | None, seed: int | None = None
) -> Round:
    """Publish the next round now (no date, or today), or schedule it for a later date."""
    if on is not None and on > utc_now().date():
        return schedule_round(actor, program, on, seed)
    if on is not None and on < utc_now().date():
        raise DomainError("Choose today or a later date.", field="on")
    return publish_round(actor, program, seed)


def publish_due_rounds(now: datetime) -> int:
    """Publish every scheduled round whose date has come (for `flask tick`)."""
    due = db.session.scalars(
        sa.select(Round)
        .where(Round.status == RoundStatus.DRAFT, Round.scheduled_for <= now.date())
        .options(selectinload(Round.program))
    ).all()
    published = 0
    for round_ in due:
        try:
            with db.session.begin_nested():
                publish_round(None, round_.program, now=now)
            published += 1
        except DomainError as exc:
            current_app.logger.warning("coffee round %s not published: %s", round_.id, exc)
    return published


# How a chat went, from its members' latest answers: the best news any of them gave.
CHAT_OUTCOMES = (
    ("met", "Met"),
    ("scheduled", "Time set"),
    ("not_yet", "Not yet"),
    ("wont_happen", "Won't happen"),
    ("unanswered", "No answer yet"),
)


@dataclass
class RoundDetail:
    round: Round
    chats: list[list[Person]]
    outcomes: dict[str, int]  # chats per outcome (counts only: who answered what stays theirs)
    asked: int
    answered: int


def round_detail(program: Program, number: int) -> RoundDetail | None:
    """A published round's chats and how they went, as counts; three queries."""
    round_ = db.session.scalar(
        sa.select(Round).where(
            Round.program_id == program.id,
            Round.number == number,
            Round.status == RoundStatus.PUBLISHED,
        )
    )
    if round_ is None:
        return None
    chats: dict[int, list[Person]] = {}
    for chat_id, person in db.session.execute(
        sa.select(ChatMember.chat_id, Person)
        .join(Person, Person.id == ChatMember.person_id)
        .where(ChatMember.round_id == round_.id)
        .order_by(ChatMember.chat_id, ChatMember.position)
    ):
        chats.setdefault(chat_id, []).append(person)
    said: dict[int, set[str]] = {chat_id: set() for chat_id in chats}
    asked = answered = 0
    for chat_id, status in db.session.execute(
        sa.select(CheckIn.chat_id, CheckIn.status)
        .join(Chat, Chat.id == CheckIn.chat_id)
        .where(Chat.round_id == round_.id)
    ):
        asked += 1
        if status is not None:
            answered += 1
            said[chat_id].add(status.value)
    outcomes = dict.fromkeys((key for key, _ in CHAT_OUTCOMES), 0)
    for answers in said.values():
        best = next((key for key, _ in CHAT_OUTCOMES if key in answers), "unanswered")
        outcomes[best] += 1
    return RoundDetail(round_, list(chats.values()), outcomes, asked, answered)


def rounds(program: Program) -> list[Round]:
    return list(
        db.session.scalars(
            sa.select(Round).where(Round.program_id == program.id).order_by(Round.number.desc())
        )
    )


@dataclass
class MyCoffee:
    program: Program
    enrollment: Enrollment | None
    current: list[Person]  # this round's partners
    current_round: Round | None
    met: list[Person]  # people met in this program's chats (own "we met" answers)
    departments: int
    months: int  # months taking part, for "one a month"
    # This round's chat: who writes first, and a link that opens a note to the partners (with
    # the ready ask for the one who writes first).
    first_mover: Person | None = None
    write_link: str = ""
    chat_id: int | None = None


def my_coffee(person: Person) -> list[MyCoffee]:
    """Per program in which the person may join coffee chats: enrollment, partner, network."""
    programs = db.session.scalars(
        sa.select(Program)
        .join(Membership, Membership.program_id == Program.id)
        .where(
            Membership.person_id == person.id,
            Membership.is_current,
            Membership.coffee_track.is_(True),
            Program.active.is_(True),
        )
        .distinct()
        .order_by(Program.name)
    ).all()
    if not programs:
        return []
    program_ids = [p.id for p in programs]
    enrollments = {
        e.program_id: e
        for e in db.session.scalars(
            sa.select(Enrollment).where(
                Enrollment.person_id == person.id,
                Enrollment.program_id.in_(program_ids),
                Enrollment.withdrawn_at.is_(None),
            )
        )
    }
    first_enrolled = dict(
        db.session.execute(
            sa.select(Enrollment.program_id, sa.func.min(Enrollment.enrolled_at))
            .where(Enrollment.person_id == person.id, Enrollment.program_id.in_(program_ids))
            .group_by(Enrollment.program_id)
        ).all()
    )
    mine = db.session.execute(
        sa.select(Round, ChatMember.chat_id)
        .join(ChatMember, ChatMember.round_id == Round.id)
        .where(
            ChatMember.person_id == person.id,
            Round.program_id.in_(program_ids),
            Round.status == RoundStatus.PUBLISHED,
        )
        .order_by(Round.number.desc())
    ).all()
    latest: dict[int, tuple[Round, int]] = {}
    for round_, chat_id in mine:
        latest.setdefault(round_.program_id, (round_, chat_id))
    partners: dict[int, list[Person]] = {}
    chat_ids = [chat_id for _, chat_id in latest.values()]
    if chat_ids:
        for chat_id, other in db.session.execute(
            sa.select(ChatMember.chat_id, Person)
            .join(Person, Person.id == ChatMember.person_id)
            .where(ChatMember.chat_id.in_(chat_ids), ChatMember.person_id != person.id)
        ):
            partners.setdefault(chat_id, []).append(other)
    met_rows = db.session.execute(
        sa.select(Chat.program_id, Person)
        .select_from(CheckIn)
        .join(Chat, Chat.id == CheckIn.chat_id)
        .join(ChatMember, ChatMember.chat_id == Chat.id)
        .join(Person, Person.id == ChatMember.person_id)
        .where(
            CheckIn.person_id == person.id,
            CheckIn.status == CheckInStatus.MET,
            ChatMember.person_id != person.id,
            Chat.program_id.in_(program_ids),
        )
        .order_by(Chat.id.desc())
    ).all()
    met: dict[int, dict[int, Person]] = {}
    for program_id, other in met_rows:
        met.setdefault(program_id, {})[other.id] = other
    now = utc_now()
    result = []
    for program in programs:
        people_met = list(met.get(program.id, {}).values())
        since = first_enrolled.get(program.id)
        months = max(1, round((now - since).days / 30.4)) if since else 0
        current_round, chat_id = latest.get(program.id, (None, None))
        current = partners.get(chat_id, []) if chat_id else []
        first, link = None, ""
        if current:
            first = first_mover([person, *current], f"chat:{chat_id}")
            others = [p for p in (person, *current) if p is not first]
            ask = coffee_ask(first, others, program.name) if first is person else None
            link = mailto([p.email for p in current], ask)
        result.append(
            MyCoffee(
                program=program,
                enrollment=enrollments.get(program.id),
                current=current,
                current_round=current_round,
                met=people_met,
                departments=len({p.department_id for p in people_met if p.department_id}),
                months=months,
                first_mover=first,
                write_link=link,
                chat_id=chat_id,
            )
        )
    return result
