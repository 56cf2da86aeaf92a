"""Authentication and the signed, expiring, single-use links for invitations and resets.

A link carries the person's id and a digest of their security stamp. Setting a password rotates
the stamp, so a link works once; deactivating an account rotates it too, ending every link and
session at once.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from program import links
from program.audit.services import record
from program.db import DomainError, utc_now
from program.extensions import db
from program.institution import get_settings
from program.links import external_url
from program.messages.models import Message
from program.messages.services import queue_message, queue_messages, unwritten_message
from program.people.models import Person
from program.programs.models import Membership


class LinkPurpose(enum.Enum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password-reset"  # noqa: S105  (a link purpose, not a password)


# A hash computed once, so that signing in as an unknown address costs as much as a known one
# and the response time does not reveal who has an account.
_DUMMY_HASH = generate_password_hash("not a real password")


def find_person_by_email(email: str) -> Person | None:
    return db.session.scalar(sa.select(Person).where(Person.email == Person.normalise_email(email)))


PASSWORDS_OFF = (
    "Passwords are turned off here: sign in with your institution's account, with the button above."
)


def institution_sign_in_configured() -> bool:
    config = current_app.config
    return bool(config.get("OIDC_PROVIDERS") or config.get("SAML"))


def passwords_off() -> bool:
    """The institution's sign-in is the only way in (for all but the break-glass administrator).
    Only while one is configured: a server whose SSO settings were removed lets passwords back
    in rather than lock everyone out."""
    return get_settings().sso_only and institution_sign_in_configured()


def passwords_allowed_for(person: Person | None) -> bool:
    """Whether this person may use a Hallway password: everyone, unless the institution's
    sign-in is the only way in; then the break-glass administrator alone."""
    return not passwords_off() or (
        person is not None and person.id == get_settings().break_glass_id
    )


def authenticate(email: str, password: str) -> Person:
    """The person with this e-mail and password, or a DomainError that does not say which failed."""
    person = find_person_by_email(email)
    if not passwords_allowed_for(person):
        # The same answer, and the same time, whether the password was right or not.
        check_password_hash(_DUMMY_HASH, password)
        raise DomainError(PASSWORDS_OFF)
    if person is None or not person.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        raise DomainError("That e-mail and password do not match an account.")
    if not person.check_password(password):
        raise DomainError("That e-mail and password do not match an account.")
    if not person.is_active:
        raise DomainError("This account has been deactivated. Ask your program coordinator.")
    person.last_login_at = utc_now()
    db.session.flush()
    if passwords_off():
        record(person, "account.break_glass_sign_in", person, summary="Signed in with a password")
    return person


def end_sessions(person: Person) -> None:
    """Sign the person out everywhere, server-side: every session cookie carries their security
    stamp (see Person.get_id), so a new stamp makes any copy of an old cookie worthless, for the
    rest of its 12 hours as for ever. Used by sign-out; deactivation and an institution's single
    logout rotate the stamp too."""
    person.rotate_security_stamp()
    db.session.flush()


def _stamp_digest(person: Any) -> str:
    return hashlib.sha256(person.security_stamp.encode()).hexdigest()[:20]


def _max_age(purpose: LinkPurpose) -> timedelta:
    if purpose is LinkPurpose.INVITATION:
        return timedelta(days=current_app.config["INVITATION_MAX_AGE_DAYS"])
    return timedelta(hours=current_app.config["PASSWORD_RESET_MAX_AGE_HOURS"])


def make_link_token(person: Any, purpose: LinkPurpose) -> str:
    return links.sign(purpose.value, {"p": person.id, "s": _stamp_digest(person)})


def person_for_token(token: str, purpose: LinkPurpose) -> Person:
    """The person a link was made for, if it is genuine, fresh and unused; else LinkRefused."""
    person, _ = links.read_record(
        purpose.value,
        token,
        _max_age(purpose),
        Person,
        "p",
        valid=lambda person, _: person.active,
        version=_stamp_digest,
        version_key="s",
    )
    return person


def set_password_with_token(token: str, purpose: LinkPurpose, password: str) -> Person:
    """Use a link once: set the password, which rotates the stamp and so spends the link."""
    person = person_for_token(token, purpose)
    if not passwords_allowed_for(person):
        raise DomainError(PASSWORDS_OFF)
    person.set_password(password)
    db.session.flush()
    record(person, f"account.{purpose.value}_used", person, summary="Password set from a link")
    return person


def what_you_will_do(
    roles: Iterable[str], tracks: Iterable[str] = ("formal", "coffee"), program_name: str = ""
) -> list[str]:
    """What someone will do in Hallway, in their invitation's words, by role and track
    ("trainee", "mentor", "coordinator", "dean", "admin"; tracks "formal", "coffee")."""
    roles, tracks = set(roles), set(tracks)
    program = program_name or "your program"
    doing = []
    if "trainee" in roles and "formal" in tracks:
        doing.append("meet your formal mentor: their contact, a first note ready, times agreed")
    if "mentor" in roles and "formal" in tracks:
        doing.append("say each term how many mentees you can take, and meet them")
    if roles & {"trainee", "mentor"} and "coffee" in tracks:
        doing.append("have a coffee chat about once a month with someone from another department")
    if roles & {"trainee", "mentor"}:
        doing.append("check in with one click after you meet")
    if "coordinator" in roles:
        doing.append(
            f"run {program}: import its roster, publish matches and coffee rounds, and see "
            "who needs your attention"
        )
    if "dean" in roles:
        doing.append("download the semester reports that compare the two tracks")
    if "admin" in roles:
        doing.append("set up programs and name their coordinators")
    return doing or [f"see what {program} offers you"]


def current_doing(person: Person, program_name: str = "") -> list[str]:
    """`what_you_will_do` for a stored person, from the roles and tracks they hold now."""
    roles: set[str] = set()
    tracks: set[str] = set()
    for membership in db.session.scalars(
        sa.select(Membership).where(Membership.person_id == person.id, Membership.is_current)
    ):
        roles.add(membership.role.value)
        tracks |= membership.tracks
    roles |= {r for r, on in (("dean", person.is_dean), ("admin", person.is_admin)) if on}
    return what_you_will_do(roles, tracks, program_name)


def invitation(
    person: Any,
    invited_by: Person | None,
    program_name: str = "",
    doing: list[str] | None = None,
) -> dict[str, Any]:
    """The invitation to set a password (its link expires and works once), saying what the
    person will do in Hallway (`doing`, see `what_you_will_do`); written when it is sent, so
    the link's days count from then.

    `person` is a Person or anything with its id and email.
    """
    return unwritten_message(
        person,
        "invitation",
        template="invitation",
        details={
            "invited_by": invited_by.id if invited_by else None,
            "program_name": program_name,
            "doing": doing or what_you_will_do((), (), program_name),
        },
    )


def send_invitation(person: Person, invited_by: Person | None, program_name: str = "") -> None:
    """Queue an invitation for one person (saying what their roles now let them do), and
    audit it."""
    queue_messages(
        [invitation(person, invited_by, program_name, current_doing(person, program_name))]
    )
    record(invited_by, "account.invited", person, summary=f"Invitation queued for {person.email}")


RESET_RESEND_AFTER = timedelta(minutes=5)


def send_password_reset(email: str) -> None:
    """Queue a reset link if the address has an active account; say nothing either way.

    At most one link per person every few minutes, so the form cannot be used to flood someone's
    mailbox (the per-address rate limit does not stop requests spread over many addresses).
    """
    person = find_person_by_email(email)
    if person is None or not person.is_active or not passwords_allowed_for(person):
        return
    recent = db.session.scalar(
        sa.select(Message.id).where(
            Message.recipient_id == person.id,
            Message.kind == "password_reset",
            Message.created_at > utc_now() - RESET_RESEND_AFTER,
        )
    )
    if recent is not None:
        return
    token = make_link_token(person, LinkPurpose.PASSWORD_RESET)
    queue_message(
        person,
        "password_reset",
        template="password_reset",
        context={
            "person": person,
            "link": external_url("accounts.reset_password", token=token),
            "valid_hours": current_app.config["PASSWORD_RESET_MAX_AGE_HOURS"],
        },
    )
    record(None, "account.password_reset_requested", person)
