"""Asks: a short personal request to someone in the directory, within humane limits (a few open
at once, never more a month than the recipient offered, a pause after a no), its one-click
answers, the one follow-up and the quiet close, and referrals to people outside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from program import links
from program.asks.directory import (
    ASK_WORDS,
    CLOSE_AFTER_DAYS,
    COFFEE_GUIDE,
    FOLLOW_UP_AFTER_DAYS,
    MAX_OPEN_ASKS,
    MENTOR_GUIDE,
    asks_received,
    hidden_from,
    listed_in,
    listing_of,
    my_interests,
    standing,
)
from program.asks.models import Ask, AskStatus, Listing, OutsideReferral
from program.checkins.models import CheckIn
from program.coffee.models import Chat, ChatMember
from program.coffee.rounds import introduce_chats
from program.db import DomainError, by_id, utc_now
from program.extensions import db
from program.links import external_url
from program.messages.intros import Ask as Note
from program.messages.intros import follow_up_ask, mailto, shared_interests
from program.messages.services import queue_message, queue_messages, render_message
from program.people.models import MailPreference, Person
from program.programs.models import Program


def is_mentor_ask(asker: Person, recipient: Person) -> bool:
    """A first approach to a possible mentor (two or more stages ahead) is longer, per the
    playbook; a coffee between near-peers is shorter."""
    if asker.stage is None or recipient.stage is None:
        return False
    return recipient.stage.rank - asker.stage.rank >= 2


def word_guide(asker: Person, recipient: Person) -> tuple[int, int]:
    return MENTOR_GUIDE if is_mentor_ask(asker, recipient) else COFFEE_GUIDE


def ready_ask(
    asker: Person, recipient: Person, program: Program, referred_by: str | None = None
) -> tuple[str, str]:
    """The prefilled ask (subject, body): who you are, how you came across them, one specific
    thing, a 20-minute coffee or video call in the next few weeks, two or three questions."""
    stage = asker.stage.label if asker.stage is not None else ""
    who = f"{stage} in {asker.department_name}" if stage and asker.department_name else stage
    listing = listing_of(recipient, program)
    topics = list(listing.topics) if listing is not None else []
    common = shared_interests(my_interests(asker, program), topics or recipient.interests)
    if referred_by:
        found = f"{referred_by} suggested I write to you"
    else:
        found = f"I found you in the {program.name} directory"
    if common:
        specific = f"saw that we share an interest in {' and '.join(common)}"
    elif topics:
        specific = f"saw that you are glad to talk about {topics[0]}"
    else:
        specific = "would like to learn from your path"
    mentor = is_mentor_ask(asker, recipient)
    questions = (
        "- How did you choose your direction, and what would you do differently?\n"
        "- What should someone at my stage be doing now that they usually are not?\n"
        "- Who else do you think I should talk to?"
        if mentor
        else "- What does a week of your work look like?\n- Who else should I talk to?"
    )
    more = (
        " I am early in working out where I want to go, and I have been reading and asking "
        "around; hearing how you made your own choices would help me more than anything I can "
        "find written down. I will come with my questions written and keep to the time."
        if mentor
        else ""
    )
    body = (
        f"Dear {recipient.name},\n\n"
        f"I am {asker.name}{', ' + who if who else ''}. {found}, and {specific}.{more}\n\n"
        "Could I take 20 minutes of your time in the next few weeks, for a coffee or a video "
        "call, whichever suits you? A few questions I have in mind:\n"
        f"{questions}\n\n"
        f"Thank you for considering it.\n\n{asker.name}"
    )
    return f"{program.name}: 20 minutes for a coffee?", body


def words(text: str) -> int:
    return len(text.split())


def askable_listing(asker: Person, program: Program, recipient_id: int) -> Listing:
    """The recipient's listing, if the asker may see it in the directory (else "not found")."""
    listing = db.session.scalar(
        listed_in(program).where(
            Listing.person_id == recipient_id,
            Listing.person_id != asker.id,
            hidden_from(asker),
        )
    )
    if listing is None:
        raise LookupError(recipient_id)
    return listing


def send_ask(
    asker: Person,
    program: Program,
    recipient_id: int,
    *,
    subject: str,
    body: str,
    referred_by_id: int | None = None,
    now: datetime | None = None,
) -> Ask:
    """Send an ask from Hallway with the asker as Reply-To, within the limits."""
    now = now or utc_now()
    if asker.is_guest:
        raise DomainError("Guests answer asks; they do not send them.")
    listing = askable_listing(asker, program, recipient_id)
    recipient = listing.person
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject or len(subject) > 200:
        raise DomainError("Give the ask a subject of at most 200 characters.", field="subject")
    low, high = ASK_WORDS
    if not low <= words(body) <= high:
        raise DomainError(
            f"An ask is between {low} and {high} words (this one has {words(body)}): say who you "
            "are, why them, and the one thing you would like to ask.",
            field="body",
        )
    mine = standing(asker.id, now)
    if recipient.id in mine.waiting:
        raise DomainError(f"Your ask to {recipient.name} is still waiting for an answer.")
    if (until := mine.not_before.get(recipient.id)) is not None:
        raise DomainError(
            f"{recipient.name} said not now; you can ask again from {until:%d %B %Y}."
        )
    # One waiting ask per recipient (a unique index), so recipients count asks.
    if len(mine.waiting) >= MAX_OPEN_ASKS:
        raise DomainError(
            f"You have {MAX_OPEN_ASKS} asks waiting for an answer. Wait for one, or withdraw "
            "one from your home page, before asking someone new."
        )
    if asks_received([recipient.id], now).get(recipient.id, 0) >= listing.asks_per_month:
        raise DomainError(
            f"{recipient.name} has had all the asks they take this month; try again later."
        )
    if referred_by_id is not None and referred_by_id not in _suggestions_for(
        asker, program, recipient.id
    ):
        referred_by_id = None  # only a real referral is named in the ask
    ask = Ask(
        program_id=program.id,
        asker_id=asker.id,
        recipient_id=recipient.id,
        referred_by_id=referred_by_id,
        subject=subject,
        body=body,
        created_at=now,
    )
    db.session.add(ask)
    db.session.flush()
    queue_message(
        recipient,
        "ask",
        template="ask",
        context={
            "ask": ask,
            "asker": asker,
            "recipient": recipient,
            "program_name": program.name,
            "referred_by": db.session.get(Person, referred_by_id) if referred_by_id else None,
            "yes_link": answer_link(ask, "yes"),
            "no_link": answer_link(ask, "no"),
            "respond_by": now + timedelta(days=CLOSE_AFTER_DAYS),
            # The same signed answers as a chat card's buttons.
            "answers": [(ASK_LABELS[a], answer_token(ask, a)) for a in ("yes", "no")],
        },
        program_id=program.id,
        dedupe_key=f"ask:{ask.id}",
        reply_to=[asker.email],
    )
    return ask


def _suggestions_for(asker: Person, program: Program, recipient_id: int) -> set[int]:
    """The people whose chats with the asker produced a suggestion to meet the recipient."""
    partner = sa.orm.aliased(ChatMember)
    return set(
        db.session.scalars(
            sa.select(partner.person_id)
            .select_from(CheckIn)
            .join(Chat, Chat.id == CheckIn.chat_id)
            .join(partner, partner.chat_id == Chat.id)
            .where(
                CheckIn.person_id == asker.id,
                CheckIn.suggested_person_id == recipient_id,
                Chat.program_id == program.id,
                partner.person_id != asker.id,
            )
        )
    )


def referrer_for(asker: Person, program: Program, recipient_id: int) -> Person | None:
    found = sorted(_suggestions_for(asker, program, recipient_id))
    return db.session.get(Person, found[0]) if found else None


ANSWERS = ("yes", "no")


ASK_LABELS = {"yes": "Yes, I'll have a coffee", "no": "Not now"}


def answer_token(ask: Ask, answer: str) -> str:
    return links.sign(
        "ask", {"ask": ask.id, "answer": answer, "v": links.version(ask.id, ask.answered_at)}
    )


def answer_link(ask: Ask, answer: str) -> str:
    return external_url("asks.answer_link", token=answer_token(ask, answer))


def read_answer_token(token: str) -> tuple[Ask, str]:
    """The ask and answer a link stands for, if it is genuine, unexpired and still waiting."""
    # Good until a week after the ask closes, so a late click is told it closed.
    ask, data = links.read_record(
        "ask",
        token,
        timedelta(days=CLOSE_AFTER_DAYS + 7),
        Ask,
        "ask",
        valid=lambda _, data: data.get("answer") in ANSWERS,
        version=lambda ask: links.version(ask.id, ask.answered_at),
    )
    return ask, data["answer"]


def answer_ask(person: Person, ask: Ask, answer: str, now: datetime | None = None) -> Ask:
    """Yes: a chat between the two, introduced like a round's. Not now: the asker is told
    kindly, without a reason. One answer: a second (another tab, a double tap) is refused."""
    now = now or utc_now()
    if ask.recipient_id != person.id:
        raise DomainError("This ask was sent to someone else.")
    if answer not in ANSWERS:
        raise DomainError("Answer yes or not now.")
    if ask.status is not AskStatus.WAITING:
        raise DomainError(f"This ask is already answered: {ask.status.label.lower()}.")
    chat_id = None
    if answer == "yes":
        chat = Chat(program_id=ask.program_id, created_at=now)
        db.session.add(chat)
        db.session.flush()
        chat_id = chat.id
        db.session.add_all(
            [
                ChatMember(chat_id=chat.id, person_id=ask.asker_id, position=0),
                ChatMember(chat_id=chat.id, person_id=ask.recipient_id, position=1),
            ]
        )
        db.session.flush()
    status = AskStatus.ACCEPTED if answer == "yes" else AskStatus.DECLINED
    claimed = db.session.execute(
        sa.update(Ask)
        .where(Ask.id == ask.id, Ask.status == AskStatus.WAITING)
        .values(status=status, answered_at=now, chat_id=chat_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise DomainError("This ask was answered a moment ago, and that answer is kept.")
    db.session.refresh(ask)
    program = db.session.get(Program, ask.program_id)
    if chat_id is not None:
        introduce_chats(
            program,
            [(chat_id, (ask.asker_id, ask.recipient_id))],
            {ask.asker_id: ask.asker.email, ask.recipient_id: ask.recipient.email},
        )
    else:
        queue_message(
            ask.asker,
            "ask_answer",
            template="ask_not_now",
            context={
                "ask": ask,
                "program_name": program.name,
                "directory": _directory_url(program),
            },
            program_id=program.id,
            dedupe_key=f"ask_not_now:{ask.id}",
        )
    return ask


def withdraw_ask(person: Person, ask: Ask, now: datetime | None = None) -> Ask:
    if ask.asker_id != person.id:
        raise DomainError("This ask is someone else's.")
    if ask.status is not AskStatus.WAITING:
        raise DomainError("Only an ask still waiting can be withdrawn.")
    ask.status, ask.answered_at = AskStatus.WITHDRAWN, now or utc_now()
    return ask


def _directory_url(program: Program) -> str:
    return external_url("asks.directory", slug=program.slug)


@dataclass
class MyAsks:
    sent: list[Ask]
    received: list[Ask]  # waiting for this person's answer
    said_yes: list[Ask]  # asks they said yes to lately: their chats, with the asker

    def __bool__(self) -> bool:
        return bool(self.sent or self.received or self.said_yes)


def my_asks(person: Person) -> MyAsks:
    """The asks a person sent (waiting, and answered in the last month) and those waiting for
    their answer."""
    since = utc_now() - timedelta(days=30)
    options = (joinedload(Ask.asker), joinedload(Ask.recipient))
    sent = db.session.scalars(
        sa.select(Ask)
        .where(
            Ask.asker_id == person.id,
            sa.or_(Ask.status == AskStatus.WAITING, Ask.answered_at >= since),
        )
        .options(*options)
        .order_by(Ask.created_at.desc())
    ).all()
    received = db.session.scalars(
        sa.select(Ask)
        .where(
            Ask.recipient_id == person.id,
            sa.or_(
                Ask.status == AskStatus.WAITING,
                sa.and_(Ask.status == AskStatus.ACCEPTED, Ask.answered_at >= since),
            ),
        )
        .options(*options)
        .order_by(Ask.created_at)
    ).all()
    return MyAsks(
        list(sent),
        [a for a in received if a.status is AskStatus.WAITING],
        [a for a in received if a.status is AskStatus.ACCEPTED],
    )


def follow_up_asks(now: datetime) -> dict[str, int]:
    """A week without an answer: one prompt to the asker to follow up once. Two weeks: the ask
    closes quietly (nobody is told; the asker sees it on their home page)."""
    closed = db.session.execute(
        sa.update(Ask)
        .where(
            Ask.status == AskStatus.WAITING,
            Ask.created_at <= now - timedelta(days=CLOSE_AFTER_DAYS),
        )
        .values(status=AskStatus.CLOSED, answered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    due = db.session.scalars(
        sa.select(Ask)
        .where(
            Ask.status == AskStatus.WAITING,
            Ask.nudged_at.is_(None),
            Ask.created_at <= now - timedelta(days=FOLLOW_UP_AFTER_DAYS),
        )
        .options(joinedload(Ask.asker), joinedload(Ask.recipient))
    ).all()
    programs = by_id(db.session, Program, {ask.program_id for ask in due})
    rows = []
    for ask in due:
        ask.nudged_at = now
        asker = ask.asker
        if not asker.active or asker.mail_preference is not MailPreference.ALL:
            continue
        program = programs[ask.program_id]
        note = follow_up_ask(asker, [ask.recipient], program.name)
        rows.append(
            render_message(
                asker,
                "ask_follow_up",
                template="ask_follow_up",
                context={
                    "ask": ask,
                    "person": asker,
                    "recipient": ask.recipient,
                    "program_name": program.name,
                    "note": note,
                    "write_link": mailto([ask.recipient.email], note),
                    "closes_on": ask.created_at + timedelta(days=CLOSE_AFTER_DAYS),
                },
                program_id=program.id,
                dedupe_key=f"ask_follow_up:{ask.id}",
                reply_to=[ask.recipient.email],
            )
        )
    queue_messages(rows)
    return {"ask_follow_ups": len(rows), "asks_closed": closed}


def keep_outside_referral(check_in: CheckIn, who: str, by: list[str]) -> OutsideReferral:
    """Someone outside the institution, as "Name <address>": kept for the person to write to
    themselves. Hallway does not e-mail them."""
    name, address = parseaddr(who)
    name, address = " ".join(name.split()), address.strip().lower()
    if not name or "@" not in address or len(address) > 254 or len(name) > 200:
        raise DomainError(
            "We could not find that person among this program's members. For someone outside "
            "the institution, give their name and address: Dr. Kim <kim@example.org>.",
            field="suggest",
        )
    found = db.session.scalar(
        sa.select(OutsideReferral).where(
            OutsideReferral.person_id == check_in.person_id, OutsideReferral.email == address
        )
    )
    if found is None:
        found = OutsideReferral(person_id=check_in.person_id, email=address, name=name)
        db.session.add(found)
    found.check_in_id, found.name, found.suggested_by = check_in.id, name, ", ".join(by)[:400]
    return found


def outside_ask(person: Person, referral: OutsideReferral) -> str:
    """A mailto link with a short ask that names the referrer, for the person to send."""
    by = referral.suggested_by or "A colleague"
    body = (
        f"Dear {referral.name},\n\n"
        f"{by} suggested I get in touch. I am {person.name}"
        f"{', ' + person.stage.label if person.stage else ''}. Could I take 20 minutes of your "
        "time in the next few weeks, by video or for a coffee, to ask two or three questions "
        "about your work?\n\n"
        f"Thank you,\n{person.name}"
    )
    return mailto([referral.email], Note(f"{by} suggested I get in touch", body))
