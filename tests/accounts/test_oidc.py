"""Signing in with OpenID Connect, against a real provider on loopback (Authlib's server side,
tests/accounts/oidc_provider.py): the code flow with PKCE, linking to people on a roster, and
every answer an attacker or a broken provider could send, refused with nobody signed in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from program.accounts.models import SignInIdentity
from program.accounts.services import (
    LinkPurpose,
    make_link_token,
    send_invitation,
    set_password_with_token,
)
from program.admin.models import InstitutionSettings
from program.audit.models import AuditEvent
from program.config import oidc_providers
from program.db import DomainError
from program.extensions import db
from program.messages.models import Message
from program.people.models import Person
from tests.accounts.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.conftest import empty_all_tables, leaves_for, login, new_app, outbox
from tests.factories import PASSWORD, Factory

CALLBACK = "http://localhost/login/sso/uni/callback"
REFUSED = "did not work"


@pytest.fixture
def provider() -> Iterator[Provider]:
    found = Provider([CALLBACK]).start()
    found.add("ada", sub="idp-0001", email="Ada.Lovelace@Example.edu", name="Ada Lovelace")
    found.signed_in = "ada"
    yield found
    found.stop()


@pytest.fixture
def app(database_url: str, tmp_path: Path, provider: Provider) -> Iterator[Flask]:
    application = new_app(database_url, tmp_path, OIDC_PROVIDERS=[provider.settings()])
    yield application
    empty_all_tables(application)


@pytest.fixture
def ada(make: Factory) -> Any:
    return make.person("Ada Lovelace", email="ada.lovelace@example.edu")


def go_to_provider(client: FlaskClient, path: str = "/login/sso/uni") -> str:
    """Hallway's redirect, followed to the provider; returns where the provider sends back."""
    start = client.get(path)
    assert start.status_code == 302, start.get_data(as_text=True)
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = answer.headers["Location"]
    assert back.startswith(CALLBACK + "?")
    return back.removeprefix("http://localhost")


def sign_in(client: FlaskClient) -> Any:
    return client.get(go_to_provider(client))


def signed_in_as(client: FlaskClient) -> str | None:
    home = client.get("/")
    if home.status_code != 200:
        return None
    return home.get_data(as_text=True)


def identities(app: Flask) -> list[tuple[int, str, str]]:
    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(
                sa.select(SignInIdentity.person_id, SignInIdentity.provider, SignInIdentity.subject)
            )
        ]


# --- the journey ----------------------------------------------------------------------------


def test_a_person_on_a_roster_signs_in_and_is_linked_by_the_providers_identifier(app, client, ada):
    response = sign_in(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Ada Lovelace" in signed_in_as(client)
    assert identities(app) == [(ada.id, "oidc:uni", "idp-0001")]
    with app.app_context():
        person = db.session.get(Person, ada.id)
        assert person.last_login_at is not None
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.object_id == ada.id))
        assert event.action == "account.sso_linked"


def test_a_changed_email_address_at_the_provider_keeps_the_account(app, client, provider, ada):
    sign_in(client)
    client.post("/logout")
    provider.accounts["ada"].email = "ada.byron@example.edu"
    assert sign_in(client).status_code == 302
    assert "Ada Lovelace" in signed_in_as(client)
    assert identities(app) == [(ada.id, "oidc:uni", "idp-0001")]


def test_where_they_were_going_is_kept_but_never_another_site(app, client, ada, make):
    destination = "/account/notifications"
    back = client.get(go_to_provider(client, f"/login/sso/uni?next={destination}"))
    assert back.headers["Location"] == destination
    other = app.test_client()
    away = other.get(go_to_provider(other, "/login/sso/uni?next=https://evil.example/"))
    assert away.headers["Location"] == "/"


def test_signing_out_signs_out_at_the_provider_too(app, client, provider, ada):
    """A shared workstation: the next person's "Sign in with" must not find Ada signed in."""
    sign_in(client)
    out = client.post("/logout")
    # A page that goes there by itself, not a redirect: the browser would hold a form's
    # redirect to another site to the page's form-action 'self' and never leave.
    there = leaves_for(out)
    page = out.get_data(as_text=True)
    assert there.startswith(f"{provider.issuer}/logout?client_id=")
    assert "Continue to sign out of Example University" in page
    assert signed_in_as(client) is None
    back = requests.get(there, allow_redirects=False, timeout=10)
    # The ID token goes as the hint, so the provider need not ask "Do you want to log out?".
    assert provider.last_logout["id_token_hint"].count(".") == 2
    assert back.headers["Location"] == "http://localhost/login"
    start = client.get("/login/sso/uni")
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 200 and "Password" in at_provider.text  # asks again


def test_an_address_given_at_the_userinfo_endpoint_only_is_read_there(app, client, provider, ada):
    """LemonLDAP::NG's default: the ID token has no e-mail; the userinfo endpoint has it."""
    provider.address_in_userinfo_only = True
    provider.accounts["ada"].email_verified = True
    assert sign_in(client).headers["Location"] == "/"
    assert "Ada Lovelace" in signed_in_as(client)
    assert identities(app) == [(ada.id, "oidc:uni", "idp-0001")]


def test_a_userinfo_answer_about_someone_else_is_ignored(app, client, provider, ada):
    provider.address_in_userinfo_only = True
    provider.accounts["ada"].email_verified = True
    provider.userinfo_sub = "idp-somebody-else"
    refused = sign_in(client)
    assert refused.status_code == 403
    assert signed_in_as(client) is None and identities(app) == []


def test_a_password_sign_out_stays_in_hallway(app, client, make):
    grace = make.person("Grace Hopper", email="grace@example.edu")
    login(client, grace.email)
    assert client.post("/logout").headers["Location"] == "/login"


def test_the_sign_in_page_offers_the_institution_first(app, client):
    page = client.get("/login").get_data(as_text=True)
    button = page.index("Sign in with Example University")
    assert button < page.index('name="password"')
    assert 'href="/login/sso/uni' in page


def test_someone_signed_in_already_goes_home(app, client, ada):
    sign_in(client)
    assert client.get("/login/sso/uni").headers["Location"] == "/"


# --- refused: who they are ----------------------------------------------------------------


def test_each_refusal_logs_its_reason_for_it_never_a_token(app, client, provider, caplog):
    """Someone on no roster, and an address the provider does not release: the person reads a
    plain refusal, and IT finds which provider, subject and address, and why, in the log."""
    caplog.set_level("WARNING", logger="program.accounts.sso")
    assert sign_in(client).status_code == 403  # Ada is on no roster here
    provider.accounts["ada"].email_verified = False
    provider.signed_in = "ada"
    other = app.test_client()
    assert sign_in(other).status_code == 403
    said = [r.getMessage() for r in caplog.records]
    assert any(
        "refused (subject 'idp-0001', address 'ada.lovelace@example.edu'): nobody in Hallway" in m
        for m in said
    ), said
    assert any("the address is not verified" in m for m in said), said
    assert not any("eyJ" in m for m in said)  # no JWT, of any kind


def refused(app: Flask, client: FlaskClient, says: str) -> None:
    response = sign_in(client)
    assert response.status_code == 403
    assert says in response.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert identities(app) == []


def test_someone_on_no_roster_is_not_let_in(app, client, make):
    make.person("Someone Else", email="someone@example.edu")
    refused(app, client, "no Hallway program has you on its roster")


def test_an_address_the_provider_does_not_vouch_for_links_nobody(app, client, provider, ada):
    provider.accounts["ada"].email_verified = False
    refused(app, client, "did not confirm your e-mail address")


def test_a_deactivated_person_cannot_sign_in_linked_or_not(app, client, make):
    gone = make.person("Ada Lovelace", email="ada.lovelace@example.edu", active=False)
    refused(app, client, "deactivated")
    with app.app_context():
        db.session.get(Person, gone.id).active = True
        db.session.commit()
    assert sign_in(client).status_code == 302
    client.post("/logout")
    with app.app_context():
        db.session.get(Person, gone.id).active = False
        db.session.commit()
    response = sign_in(client)
    assert response.status_code == 403
    assert signed_in_as(client) is None


def test_a_second_account_at_the_provider_cannot_take_a_linked_person(app, client, provider, ada):
    assert sign_in(client).status_code == 302
    client.post("/logout")
    # Someone at the provider given the same address later (a reused mailbox).
    provider.add("impostor", sub="idp-9999", email="ada.lovelace@example.edu", name="Ada L.")
    provider.signed_in = "impostor"
    response = sign_in(client)
    assert response.status_code == 403
    assert "already linked to a different account" in response.get_data(as_text=True)
    assert identities(app) == [(ada.id, "oidc:uni", "idp-0001")]


# --- refused: what the provider sent --------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param({"claims": {"nonce": "not-the-one-sent"}}, id="wrong nonce"),
        pytest.param({"claims": {"iss": "http://issuer.evil.example"}}, id="wrong issuer"),
        pytest.param({"claims": {"aud": "another-app"}}, id="wrong audience"),
        pytest.param(
            {"claims": {"aud": "another-app", "azp": CLIENT_ID}},
            id="another app's token naming this one as its party",
        ),
        pytest.param(
            {"claims": {"exp": int(time.time()) - 600, "iat": int(time.time()) - 4200}},
            id="expired",
        ),
        pytest.param({"sign_with_stranger_key": True}, id="signed with an unpublished key"),
        pytest.param({"no_id_token": True}, id="no ID token"),
        pytest.param(
            {
                "metadata_issuer": "http://issuer.evil.example",
                "claims": {"iss": "http://issuer.evil.example"},
            },
            id="discovery names another issuer",
        ),
    ],
)
def test_a_bad_answer_from_the_provider_signs_nobody_in(app, client, provider, ada, attack):
    for knob, value in attack.items():
        setattr(provider, knob, value)
    refused(app, client, REFUSED)


def test_an_answer_meant_for_another_browser_is_refused(app, client, ada):
    """Login CSRF: an attacker's own code and state, delivered to someone else's browser."""
    attacker = app.test_client()
    back = go_to_provider(attacker)
    response = client.get(back)
    assert response.status_code == 403
    assert "started in another window" in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_an_answer_used_once_cannot_be_replayed(app, client, ada):
    back = go_to_provider(client)
    assert client.get(back).status_code == 302
    client.post("/logout")
    again = client.get(back)
    assert again.status_code == 403
    assert signed_in_as(client) is None


def test_the_provider_itself_refuses_a_code_without_its_pkce_verifier(app, client, provider, ada):
    """The code alone is useless: the provider wants the verifier only Hallway's session had."""
    back = go_to_provider(client)
    code = back.split("code=")[1].split("&")[0]
    stolen = requests.post(
        f"{provider.issuer}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert stolen.status_code == 400
    assert "id_token" not in stolen.text


def test_a_provider_that_cannot_be_reached_is_explained_not_a_crash(app, client, provider):
    provider.stop()
    response = client.get("/login/sso/uni")
    assert response.status_code == 503
    assert "Signing in with Example University did not work" in response.get_data(as_text=True)
    # The password form is still there, below.
    assert 'name="password"' in response.get_data(as_text=True)


def test_an_unknown_provider_is_not_found(client):
    assert client.get("/login/sso/elsewhere").status_code == 404
    assert client.get("/login/sso/elsewhere/callback?code=x&state=y").status_code == 404


# --- configuration ---------------------------------------------------------------------------


def test_providers_come_from_the_environment():
    env = {
        "HALLWAY_OIDC_PROVIDERS": "entra, okta",
        "HALLWAY_OIDC_ENTRA_ISSUER": "https://login.microsoftonline.com/t/v2.0",
        "HALLWAY_OIDC_ENTRA_CLIENT_ID": "id",
        "HALLWAY_OIDC_ENTRA_CLIENT_SECRET": "secret",
        "HALLWAY_OIDC_ENTRA_LABEL": "Northwind Health",
        "HALLWAY_OIDC_ENTRA_TRUST_EMAIL": "1",
        "HALLWAY_OIDC_OKTA_ISSUER": "https://example.okta.com",
        "HALLWAY_OIDC_OKTA_CLIENT_ID": "id2",
        "HALLWAY_OIDC_OKTA_CLIENT_SECRET": "secret2",
    }
    entra, okta = oidc_providers(env)
    assert entra["label"] == "Northwind Health" and entra["trust_email"] is True
    assert okta["label"] == "your institution" and okta["trust_email"] is False
    with pytest.raises(RuntimeError, match="HALLWAY_OIDC_OKTA_CLIENT_SECRET"):
        oidc_providers({**env, "HALLWAY_OIDC_OKTA_CLIENT_SECRET": ""})
    with pytest.raises(RuntimeError, match="short name"):
        oidc_providers({"HALLWAY_OIDC_PROVIDERS": "a/b"})


def test_the_admins_people_page_shows_how_each_person_signs_in(app, client, make, ada):
    sign_in(client)
    client.post("/logout")
    admin = make.admin()
    make.person("Never Came", email="never@example.edu", password=None)
    login(client, admin.email)
    page = client.get("/admin/people").get_data(as_text=True)
    row = page[page.index("Ada Lovelace") :].split("</tr>")[0]
    assert "Password, Example University" in row
    assert "Never" not in row
    never = page[page.index("Never Came") :].split("</tr>")[0]
    assert "—" in never and "Never" in never.split("</td>")[-2]


# --- institution sign-in only, with a break-glass administrator -----------------------------


def turn_on_sso_only(app: Flask, client: FlaskClient, admin: Any) -> Any:
    login(client, admin.email)
    return client.post(
        "/admin/settings/sign-in", data={"mode": "sso_only", "break_glass_id": str(admin.id)}
    )


def test_an_admin_turns_on_institution_sign_in_only_naming_a_break_glass_admin(app, client, make):
    admin = make.admin()
    login(client, admin.email)
    refused = client.post("/admin/settings/sign-in", data={"mode": "sso_only"})
    assert refused.status_code == 200
    assert "Choose the break-glass administrator" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(InstitutionSettings, 1) is None
    trainee = make.person("Tess Trainee")
    not_an_admin = client.post(
        "/admin/settings/sign-in", data={"mode": "sso_only", "break_glass_id": str(trainee.id)}
    )
    assert "Choose the break-glass administrator" in not_an_admin.get_data(as_text=True)
    saved = client.post(
        "/admin/settings/sign-in", data={"mode": "sso_only", "break_glass_id": str(admin.id)}
    )
    assert saved.status_code == 302
    with app.app_context():
        settings = db.session.get(InstitutionSettings, 1)
        assert settings.sso_only and settings.break_glass_id == admin.id
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "settings.sign_in_changed")
        )
        assert event.actor_id == admin.id


def test_with_institution_sign_in_only_passwords_work_for_the_break_glass_admin_alone(
    app, client, make, ada
):
    admin = make.admin()
    assert turn_on_sso_only(app, client, admin).status_code == 302
    client.post("/logout")
    page = client.get("/login").get_data(as_text=True)
    assert "Emergency sign-in" in page and "<details" in page
    assert "Forgot your password" not in page
    for password in (PASSWORD, "wrong"):
        refused = login(client, ada.email, password)
        assert refused.status_code == 200
        assert "Passwords are turned off here" in refused.get_data(as_text=True)
        assert signed_in_as(client) is None
    assert sign_in(client).status_code == 302  # the institution's way still works
    client.post("/logout")
    assert login(client, admin.email).status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(AuditEvent.actor_id).where(
                    AuditEvent.action == "account.break_glass_sign_in"
                )
            )
            == admin.id
        )


def test_with_institution_sign_in_only_links_set_no_passwords(app, client, make, ada):
    admin = make.admin()
    turn_on_sso_only(app, client, admin)
    client.post("/logout")
    client.post("/password/forgot", data={"email": ada.email})
    client.post("/password/forgot", data={"email": admin.email})
    with app.app_context():
        resets = db.session.scalars(
            sa.select(Message.recipient_id).where(Message.kind == "password_reset")
        ).all()
        assert resets == [admin.id]
        token = make_link_token(db.session.get(Person, ada.id), LinkPurpose.INVITATION)
    welcome = client.get(f"/invitation/{token}")
    assert welcome.status_code == 302 and welcome.headers["Location"] == "/login"
    before = password_hash(app, ada.id)
    new = "a-new-password-1"
    client.post(f"/invitation/{token}", data={"password": new, "confirm": new})
    assert password_hash(app, ada.id) == before
    # And the service itself refuses, whichever page calls it.
    with app.test_request_context(), pytest.raises(DomainError, match="turned off"):
        set_password_with_token(token, LinkPurpose.INVITATION, new)


def password_hash(app: Flask, person_id: int) -> str | None:
    with app.app_context():
        return db.session.get(Person, person_id).password_hash


def test_a_server_whose_institution_sign_in_is_removed_lets_passwords_back_in(
    app, client, make, ada, database_url, tmp_path
):
    """Rather than lock everyone out: the setting waits for the institution's sign-in."""
    turn_on_sso_only(app, client, make.admin())
    other = new_app(database_url, tmp_path).test_client()
    assert login(other, ada.email).status_code == 302


def test_when_the_institution_allows_it_someone_on_no_roster_gets_an_account(
    app, client, make, provider
):
    admin = make.admin()
    login(client, admin.email)
    client.post("/admin/settings/sign-in", data={"mode": "both", "self_registration": "y"})
    client.post("/logout")
    provider.add("new", sub="idp-new", email="New.Fellow@Example.edu", name="Nia Fellow")
    provider.signed_in = "new"
    assert sign_in(client).status_code == 302
    home = signed_in_as(client)
    assert "Nia Fellow" in home and "not in any program yet" in home
    with app.app_context():
        person = db.session.scalar(
            sa.select(Person).where(Person.email == "new.fellow@example.edu")
        )
        assert person.password_hash is None
        assert identities(app) == [(person.id, "oidc:uni", "idp-new")]
        assert db.session.scalar(
            sa.select(AuditEvent.action).where(AuditEvent.action == "account.sso_registered")
        )
    client.post("/logout")
    provider.add("unverified", sub="idp-u", email="u@example.edu", name="U", email_verified=False)
    provider.signed_in = "unverified"
    assert sign_in(client).status_code == 403  # an address nobody vouched for makes no account


def test_with_institution_sign_in_only_one_click_links_still_work(app, client, make):
    from program.checkins.models import CheckIn, CheckInStatus
    from program.checkins.services import make_answer_token

    turn_on_sso_only(app, client, make.admin())
    client.post("/logout")
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall-2026")
    trainee = make.trainee(program, name="Priya Natarajan")
    pair = make.assignment(term, make.mentor(program, name="Dr. Miguel Santos"), trainee)
    check_in_id = make.check_in(trainee, pair)
    with app.app_context():
        token = make_answer_token(db.session.get(CheckIn, check_in_id), CheckInStatus.MET)
    answered = client.post(f"/checkin/{token}", data={"status": "met"})
    assert answered.status_code == 200
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).status is CheckInStatus.MET


def test_with_institution_sign_in_only_an_invitation_says_how_to_get_in(app, client, make, ada):
    turn_on_sso_only(app, client, make.admin())
    with app.test_request_context():
        send_invitation(db.session.get(Person, ada.id), None, "Internal Medicine")
        db.session.commit()
        (sent,) = outbox(Message.kind == "invitation")
    assert "Sign in with your institution's account" in sent.body_text
    assert "http://localhost/login" in sent.body_text
    assert "password here" not in sent.body_text and "/invitation/" not in sent.body_text
    assert "Sign in with your institution" in sent.body_html
