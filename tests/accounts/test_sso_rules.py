"""The linking rules of single sign-on, whatever the protocol, with what an IdP could send."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from program.accounts.sso import Asserted, sign_in_with
from program.admin.models import InstitutionSettings
from program.db import DomainError
from program.extensions import db
from program.people.models import Person


def asserted(**changes: object) -> Asserted:
    fields = {
        "provider": "oidc:uni",
        "subject": "idp-1",
        "email": "grace.hopper@example.edu",
        "email_verified": True,
        "name": "Grace Hopper",
    }
    return Asserted(**{**fields, **changes})  # type: ignore[arg-type]


def test_an_identifier_too_long_to_keep_is_refused(app, make):
    make.person("Grace Hopper", email="grace.hopper@example.edu")
    with app.test_request_context(), pytest.raises(DomainError, match="did not say who you are"):
        sign_in_with(asserted(subject="x" * 256))


def test_an_address_too_long_to_keep_still_signs_in_by_identifier(app, make):
    grace = make.person("Grace Hopper", email="grace.hopper@example.edu")
    with app.test_request_context():
        assert sign_in_with(asserted()).id == grace.id
        long = "g" * 330 + "@example.edu"
        assert sign_in_with(asserted(email=long)).id == grace.id
        db.session.commit()


def test_a_self_registered_name_is_kept_to_what_a_name_field_holds(app):
    with app.test_request_context():
        db.session.add(InstitutionSettings(id=1, sso_self_registration=True))
        db.session.flush()
        person = sign_in_with(
            asserted(email="nia@example.edu", name="Nia\x00 \u202eFellow\n" + "x" * 300)
        )
        assert person.name.startswith("Nia Fellow") and len(person.name) == 200
        assert all(c.isprintable() for c in person.name)
        with pytest.raises(DomainError, match="roster"):
            sign_in_with(asserted(subject="idp-2", email="no-at-sign"))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)) == 0


def test_an_address_not_released_is_said_apart_from_one_not_confirmed(app, make):
    """An IdP whose attribute release drops the address (SimpleSAMLphp's default filter with
    OID-named attributes) is told as such: the address was not sent, ask IT to release it."""
    make.person("Grace Hopper", email="grace.hopper@example.edu")
    with app.test_request_context():
        with pytest.raises(DomainError, match="did not send Hallway your e-mail address"):
            sign_in_with(asserted(email=None))
        with pytest.raises(DomainError, match="did not confirm your e-mail address"):
            sign_in_with(asserted(email_verified=False))
