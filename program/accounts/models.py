"""SignInIdentity: a person's account at their institution's identity provider."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from program.db import UTCDateTime, utc_now
from program.extensions import db
from program.people.models import Person


class SignInIdentity(db.Model):
    """How single sign-on finds a person again: the provider's stable identifier for them (an
    OpenID `sub`, a SAML eduPersonPrincipalName or persistent NameID), never their e-mail
    address, which can change while the account stays theirs."""

    __tablename__ = "sign_in_identity"
    __table_args__ = (
        sa.UniqueConstraint("provider", "subject"),
        # One account per provider and person: a second one with the same e-mail address is
        # someone else's, or a mistake an administrator should see.
        sa.UniqueConstraint("person_id", "provider"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    # "oidc:<name>" or "saml:<entity id>", as configured.
    provider: Mapped[str] = mapped_column(sa.String(300))
    subject: Mapped[str] = mapped_column(sa.String(255))
    # The address the provider gave at the last sign-in (shown to administrators only).
    email: Mapped[str | None] = mapped_column(sa.String(320))
    # SAML: the NameID of the last sign-in, which the IdP's single logout names them by.
    name_id: Mapped[str | None] = mapped_column(sa.String(1000), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    person: Mapped[Person] = relationship()


class SamlRequest(db.Model):
    """A SAML AuthnRequest Hallway sent and is waiting to see answered. Kept here, not in the
    session: the IdP's answer arrives as a cross-site POST, which carries no session cookie."""

    __tablename__ = "saml_request"

    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    # Where the person was going, for after they are signed in (a path on this site).
    next_url: Mapped[str | None] = mapped_column(sa.String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)


class SamlSeen(db.Model):
    """An assertion already accepted, kept until it could no longer pass its time checks, so
    the same assertion posted again signs nobody in."""

    __tablename__ = "saml_seen"

    id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
