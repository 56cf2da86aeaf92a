"""Single sign-on, whatever the protocol: who an identity provider's answer signs in.

OpenID Connect (`program.accounts.oidc`) and SAML (`program.accounts.saml`) turn a validated ID
token or assertion into an `Asserted`; this module decides which Hallway account, if any, it
stands for. The rules:

- A provider's stable identifier, once linked, signs in its person, whatever e-mail address
  either side holds now.
- The first sign-in links by e-mail address, and only to someone already on a roster: nobody
  becomes a Hallway user by having an account at the institution, unless an administrator
  lets them (self-registration, off by default). The address must be one the
  provider vouches for (OpenID's `email_verified`, or a provider configured as the institution's
  own directory), or anyone able to set their own address there could take another's account.
- A deactivated person cannot sign in, however they arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from program.accounts.models import SignInIdentity
from program.accounts.services import find_person_by_email, institution_sign_in_configured
from program.audit.services import record, record_changes
from program.db import DomainError, utc_now
from program.extensions import db
from program.institution import get_settings, stored_settings
from program.people.models import Person

log = logging.getLogger(__name__)

NOT_ON_A_ROSTER = (
    "You signed in at your institution, but no Hallway program has you on its roster yet. "
    "Ask your program coordinator to add you, with the e-mail address your institution uses."
)
DEACTIVATED = "This account has been deactivated. Ask your program coordinator."


@dataclass(frozen=True)
class Asserted:
    """What an identity provider vouched for, after its signature and claims were checked."""

    provider: str  # "oidc:<name>"
    subject: str
    email: str | None
    email_verified: bool
    name: str | None = None
    name_id: str | None = None  # SAML's, for single logout


def _refused(asserted: Asserted, why: str, message: str) -> DomainError:
    """A refusal for the person, with its reason logged for IT: which provider, subject and
    address (never a token or an assertion), so "Grace cannot get in" can be answered."""
    log.warning(
        "Sign-in with %s refused (subject %r, address %r): %s",
        asserted.provider,
        asserted.subject[:255],
        (asserted.email or "")[:320],
        why,
    )
    return DomainError(message)


def sign_in_with(asserted: Asserted, now: datetime | None = None) -> Person:
    """The person this provider's answer signs in (linking them on their first sign-in), or a
    DomainError saying why not."""
    now = now or utc_now()
    if not asserted.subject or len(asserted.subject) > 255:
        raise _refused(
            asserted,
            "no subject, or one over 255 characters",
            "The sign-in service did not say who you are. Try again.",
        )
    identity = db.session.scalar(
        sa.select(SignInIdentity).where(
            SignInIdentity.provider == asserted.provider,
            SignInIdentity.subject == asserted.subject,
        )
    )
    if identity is None:
        identity = _link(asserted, now)
    person = identity.person
    if not person.active:
        raise _refused(asserted, "the account is deactivated", DEACTIVATED)
    identity.last_used_at = now
    # Kept only when they fit their columns (the identifier above is what matters).
    if asserted.email and len(asserted.email) <= 320:
        identity.email = asserted.email
    if asserted.name_id and len(asserted.name_id) <= 1000:
        identity.name_id = asserted.name_id
    person.last_login_at = now
    db.session.flush()
    return person


def _link(asserted: Asserted, now: datetime) -> SignInIdentity:
    if not asserted.email:
        # Most often the IdP's attribute release (its filter keeps what Hallway asks for).
        raise _refused(
            asserted,
            "no e-mail address released (check the IdP's attribute release for Hallway)",
            "Your institution's sign-in did not send Hallway your e-mail address, so Hallway "
            "cannot tell which account is yours. Ask your institution's IT service desk to "
            "release it to Hallway.",
        )
    if not asserted.email_verified:
        raise _refused(
            asserted,
            "the address is not verified",
            "Your institution's sign-in did not confirm your e-mail address, so Hallway cannot "
            "tell which account is yours. Ask your program coordinator.",
        )
    person = find_person_by_email(asserted.email)
    if person is None:
        person = _registered(asserted)
    if person.is_guest:
        raise _refused(
            asserted,
            "the address is a directory guest's",
            "This address belongs to a guest of a program's directory, who has no account. "
            "Ask your program coordinator.",
        )
    if not person.active:
        raise _refused(asserted, "the account is deactivated", DEACTIVATED)
    taken = db.session.scalar(
        sa.select(SignInIdentity.id).where(
            SignInIdentity.person_id == person.id, SignInIdentity.provider == asserted.provider
        )
    )
    if taken is not None:
        # Another account at the same provider claims this address: an address reused for a
        # new person, or someone's attempt. An administrator decides, not the first to arrive.
        raise _refused(
            asserted,
            "the Hallway account is linked to another subject at this provider",
            "This Hallway account is already linked to a different account at your "
            "institution. Ask an administrator to check it.",
        )
    identity = SignInIdentity(
        person_id=person.id,
        provider=asserted.provider,
        subject=asserted.subject,
        created_at=now,
        last_used_at=now,
    )
    db.session.add(identity)
    record(
        person,
        "account.sso_linked",
        person,
        summary=f"Linked to {asserted.provider} on first sign-in",
        details={"provider": asserted.provider, "subject": asserted.subject},
    )
    return identity


def _registered(asserted: Asserted) -> Person:
    """A new account for someone on no roster, if the institution lets its people in that way."""
    if not get_settings().sso_self_registration:
        raise _refused(asserted, "nobody in Hallway has this address", NOT_ON_A_ROSTER)
    email = asserted.email or ""
    local, _, domain = email.partition("@")
    if not local or not domain or len(email) > 254:
        raise _refused(asserted, "the address cannot make an account", NOT_ON_A_ROSTER)
    # Words from the IdP, kept to what a name field holds: printable, one line, 200 characters.
    name = " ".join("".join(c for c in asserted.name or "" if c.isprintable()).split())[:200]
    person = Person(name=name or local, email=email)
    db.session.add(person)
    db.session.flush()
    record(
        person,
        "account.sso_registered",
        person,
        summary=f"Account made at first sign-in ({asserted.provider})",
    )
    return person


def did_not_work(label: str, provider: str, why: str) -> DomainError:
    """One message for the person, whatever broke in the protocol: the details are for IT, in
    the log."""
    log.warning("Sign-in with %s refused: %s", provider, why)
    return DomainError(
        f"Signing in with {label} did not work. Try again; if it keeps failing, tell your "
        "institution's IT service desk."
    )


def provider_label(provider: str) -> str:
    """A provider's name as people know it ("Northwind Health"), from the configuration; one no
    longer configured keeps its key."""
    kind, _, name = provider.partition(":")
    for configured in current_app.config.get("OIDC_PROVIDERS", []):
        if kind == "oidc" and configured["name"] == name:
            return configured["label"]
    return provider


def sign_in_methods(person_ids: Iterable[int]) -> dict[int, list[str]]:
    """The institutions each person signs in through (by label), for the admin's lists: one
    query for a page of people."""
    found: dict[int, list[str]] = {}
    for person_id, provider in db.session.execute(
        sa.select(SignInIdentity.person_id, SignInIdentity.provider)
        .where(SignInIdentity.person_id.in_(list(person_ids)))
        .order_by(SignInIdentity.person_id, SignInIdentity.provider)
    ):
        found.setdefault(person_id, []).append(provider_label(provider))
    return found


def set_sign_in_mode(
    actor: Person, *, sso_only: bool, break_glass_id: int | None, self_registration: bool = False
) -> Any:
    """Passwords beside the institution's sign-in, or the institution's sign-in only with one
    break-glass administrator who keeps a password; and whether the institution's sign-in makes
    accounts for people on no roster. Audited."""
    if (sso_only or self_registration) and not institution_sign_in_configured():
        raise DomainError(
            "Set up your institution's sign-in first (OpenID Connect or SAML, in the "
            "server's settings): until then a password is the only way in.",
            field="mode",
        )
    if sso_only:
        keeper = db.session.get(Person, break_glass_id) if break_glass_id else None
        if keeper is None or not keeper.is_admin or not keeper.active or not keeper.password_hash:
            raise DomainError(
                "Choose the break-glass administrator: an active administrator with a password, "
                "who can still sign in when the institution's sign-in is down.",
                field="break_glass_id",
            )
    settings = stored_settings()

    def state() -> dict[str, Any]:
        keeper = (
            db.session.get(Person, settings.break_glass_id) if settings.break_glass_id else None
        )
        return {
            "sso_only": bool(settings.sso_only),
            "break_glass": keeper.email if keeper else None,
            "self_registration": bool(settings.sso_self_registration),
        }

    before = state()
    settings.sso_only = sso_only
    settings.break_glass_id = break_glass_id if sso_only else None
    settings.sso_self_registration = self_registration
    record_changes(
        actor,
        "settings.sign_in_changed",
        settings,
        "Sign-in",
        before,
        state(),
        {
            "sso_only": "institution sign-in only",
            "break_glass": "break-glass administrator",
            "self_registration": "accounts made at first sign-in",
        },
    )
    return settings
