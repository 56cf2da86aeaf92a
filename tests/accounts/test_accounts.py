"""Signing in and out, security headers, and the invitation and password-reset links."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from flask import Flask

from program import create_app
from program.accounts.services import LinkPurpose, make_link_token, send_invitation
from program.admin.models import InstitutionSettings
from program.extensions import db
from program.messages.models import Message
from program.people.models import Person
from tests.conftest import IN_CI, empty_all_tables, login, make_config, outbox, text_of
from tests.factories import PASSWORD


def count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def snapshot(app: Flask) -> list:
    """Every row of every table, to show that a request wrote nothing."""
    with app.app_context():
        return [
            db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            for table in db.metadata.sorted_tables
        ]


class TestSignIn:
    def test_right_password_signs_in_and_goes_home(self, client, make):
        person = make.person("Priya Natarajan")
        response = login(client, person.email)
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        assert "Hello, Priya Natarajan" in text_of(client.get("/"))

    def test_email_is_matched_case_insensitively(self, client, make):
        make.person(email="priya@example.edu")
        assert login(client, "  Priya@Example.EDU ").status_code == 302

    @pytest.mark.parametrize("email_kind", ["wrong password", "unknown address"])
    def test_failure_says_the_same_thing_either_way(self, client, make, email_kind):
        person = make.person()
        email = person.email if email_kind == "wrong password" else "nobody@example.edu"
        response = login(client, email, "not the password")
        assert response.status_code == 200
        assert "That e-mail and password do not match an account." in text_of(response)
        assert client.get("/").status_code == 302

    def test_inactive_person_cannot_sign_in(self, client, make):
        person = make.person(active=False)
        response = login(client, person.email)
        assert response.status_code == 200
        assert "deactivated" in text_of(response)
        assert client.get("/").status_code == 302

    def test_invited_person_without_password_cannot_sign_in(self, client, make):
        person = make.person(password=None)
        assert login(client, person.email, "").status_code == 200
        assert login(client, person.email, "anything at all").status_code == 200
        assert client.get("/").status_code == 302

    def test_next_is_followed_only_within_the_site(self, client, make):
        person = make.person()
        response = client.post(
            "/login?next=/admin/people", data={"email": person.email, "password": PASSWORD}
        )
        assert response.headers["Location"] == "/admin/people"
        client.post("/logout")
        for evil in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
            response = client.post(
                "/login",
                query_string={"next": evil},
                data={"email": person.email, "password": PASSWORD},
            )
            assert response.headers["Location"] == "/"
            client.post("/logout")

    def test_sign_out_is_a_post_and_ends_the_session(self, client, make):
        person = make.person()
        login(client, person.email)
        assert client.get("/logout").status_code == 405
        assert client.post("/logout").status_code == 302
        assert client.get("/").status_code == 302

    def test_a_copy_of_the_session_cookie_is_worthless_after_sign_out(self, app, client, make):
        person = make.person()
        login(client, person.email)
        copied = client.get_cookie("session").value
        other = app.test_client()  # another browser, holding the copy
        other.set_cookie("session", copied)
        assert other.get("/").status_code == 200
        client.post("/logout")
        refused = other.get("/")
        assert refused.status_code == 302 and "/login" in refused.headers["Location"]
        # Signing in again works, with a new session.
        assert login(client, person.email).status_code == 302
        assert client.get("/").status_code == 200

    def test_deactivating_ends_existing_sessions(self, app, client, make):
        person = make.person()
        login(client, person.email)
        assert client.get("/").status_code == 200
        with app.app_context():
            subject = db.session.get(Person, person.id)
            subject.active = False
            subject.rotate_security_stamp()
            db.session.commit()
        assert client.get("/").status_code == 302

    def test_last_login_is_recorded(self, app, client, make):
        person = make.person()
        login(client, person.email)
        with app.app_context():
            assert db.session.get(Person, person.id).last_login_at is not None


def test_sign_in_is_rate_limited(database_url, make, tmp_path):
    limited = create_app(make_config(database_url, LOGIN_RATE_LIMIT="3 per minute"))
    limited.test_client_class = type(make.app.test_client())
    client = limited.test_client()
    for _ in range(3):
        assert login(client, "someone@example.edu", "wrong").status_code == 200
    response = login(client, "someone@example.edu", "wrong")
    assert response.status_code == 429
    assert "Too many attempts" in text_of(response)
    # Only attempts are limited: the page itself still loads.
    assert client.get("/login").status_code == 200


def test_rate_limit_is_shared_through_redis_when_configured(database_url, make):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if IN_CI:
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"hallway-test-{time.time_ns()}"
    config = make_config(
        database_url,
        LOGIN_RATE_LIMIT="2 per minute",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
        RATELIMIT_KEY_PREFIX=prefix,
    )
    first, second = create_app(config), create_app(config)
    for application in (first, second):
        application.test_client_class = type(make.app.test_client())
    # Two app processes share one limit: two attempts on one, the third on the other is refused.
    assert login(first.test_client(), "x@example.edu", "wrong").status_code == 200
    assert login(first.test_client(), "x@example.edu", "wrong").status_code == 200
    assert login(second.test_client(), "x@example.edu", "wrong").status_code == 429
    empty_all_tables(first)


class TestSecurity:
    def test_security_headers_on_every_page(self, client):
        response = client.get("/login")
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"

    def test_nothing_personal_is_cached_and_https_gets_hsts(self, client):
        page = client.get("/login")
        assert page.headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in page.headers  # plain http: meaningless
        css = client.get("/static/hallway.css")
        assert "no-store" not in css.headers.get("Cache-Control", "")
        secure = client.get("/login", base_url="https://localhost")
        assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"

    def test_pages_have_no_inline_script_and_no_external_assets(self, client, make):
        login(client, make.admin().email)
        for url in ["/login", "/", "/admin/", "/admin/people"]:
            html = client.get(url).get_data(as_text=True)
            assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
            assert not re.search(r"""(src|href)=["']https?://""", html), url
            assert "onclick=" not in html and 'style="' not in html, url

    def test_bootstrap_is_served_from_this_server(self, client):
        html = client.get("/login").get_data(as_text=True)
        css = re.search(r'href="(/bootstrap/static/[^"]+\.css)"', html).group(1)
        assert client.get(css).status_code == 200

    def test_session_cookie_flags(self, database_url, make):
        app = create_app({**make_config(database_url), "SESSION_COOKIE_SECURE": True})
        app.test_client_class = type(make.app.test_client())
        client = app.test_client()
        person = make.person()
        response = login(client, person.email)
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie

    def test_production_config_uses_secure_cookies(self, database_url, monkeypatch):
        monkeypatch.delenv("HALLWAY_DEBUG", raising=False)
        monkeypatch.delenv("HALLWAY_DEMO", raising=False)
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        monkeypatch.setenv("HALLWAY_DEBUG", "1")
        assert (
            create_app({"SQLALCHEMY_DATABASE_URI": database_url}).config["SESSION_COOKIE_SECURE"]
            is False
        )


def invitation_link(app: Flask, person_id: int) -> str:
    """Send an invitation as an admin would, and return the link from the queued e-mail."""
    with app.test_request_context():
        send_invitation(db.session.get(Person, person_id), None, "Internal Medicine")
        db.session.commit()
        message = outbox()[-1]
        return re.search(r"http://localhost(/invitation/\S+)", message.body_text).group(1)


class TestInvitation:
    def test_the_email_carries_a_working_link_and_opening_it_writes_nothing(
        self, app, client, make
    ):
        person = make.person("Jonah Whitfield", password=None)
        path = invitation_link(app, person.id)
        with app.app_context():
            (message,) = outbox()
            assert message.kind == "invitation"
            assert message.to_address == person.email
            assert "Internal Medicine" in message.subject
            assert path.split("/")[-1] in message.body_html
        before = snapshot(app)
        response = client.get(path)
        assert response.status_code == 200
        assert "Welcome to Hallway, Jonah Whitfield" in text_of(response)
        assert snapshot(app) == before

    def test_setting_a_password_signs_in_and_spends_the_link(self, app, client, make):
        person = make.person(password=None)
        path = invitation_link(app, person.id)
        response = client.post(
            path, data={"password": "a long new password", "confirm": "a long new password"}
        )
        assert response.status_code == 302
        assert client.get("/").status_code == 200
        client.post("/logout")
        assert login(client, person.email, "a long new password").status_code == 302
        client.post("/logout")
        again = client.get(path)
        assert again.status_code == 400
        assert "already been used" in text_of(again)

    def test_bad_passwords_are_refused_and_nothing_changes(self, app, client, make):
        person = make.person(password=None, email="jo@example.edu")
        path = invitation_link(app, person.id)
        before = snapshot(app)
        cases = [
            ({"password": "short", "confirm": "short"}, "at least 10"),
            (
                {"password": "a long new password", "confirm": "different!!"},
                "The two passwords differ.",
            ),
            ({"password": "jo@example.edu", "confirm": "jo@example.edu"}, "cannot be your e-mail"),
        ]
        for data, message in cases:
            response = client.post(path, data=data)
            assert response.status_code == 200
            assert message in text_of(response)
        assert snapshot(app) == before

    def test_tampered_link_is_refused(self, app, client, make):
        person = make.person(password=None)
        path = invitation_link(app, person.id)
        tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        response = client.get(tampered)
        assert response.status_code == 400
        assert "not valid" in text_of(response)
        response = client.post(
            tampered, data={"password": "a long new password", "confirm": "a long new password"}
        )
        assert response.status_code == 400
        with app.app_context():
            assert db.session.get(Person, person.id).password_hash is None

    def test_expired_link_is_refused(self, app, client, make):
        person = make.person(password=None)
        path = invitation_link(app, person.id)
        app.config["INVITATION_MAX_AGE_DAYS"] = -1
        response = client.get(path)
        assert response.status_code == 400
        assert "expired" in text_of(response)

    def test_a_reset_link_does_not_work_as_an_invitation(self, app, client, make):
        person = make.person(password=None)
        with app.test_request_context():
            token = make_link_token(db.session.get(Person, person.id), LinkPurpose.PASSWORD_RESET)
        assert client.get(f"/invitation/{token}").status_code == 400

    def test_deactivated_person_cannot_use_their_link(self, app, client, make):
        person = make.person(password=None)
        path = invitation_link(app, person.id)
        with app.app_context():
            db.session.get(Person, person.id).active = False
            db.session.commit()
        assert client.get(path).status_code == 400


class TestPasswordReset:
    def test_reset_flow_sets_a_new_password_and_ends_other_sessions(self, app, client, make):
        person = make.person()
        elsewhere = app.test_client()
        login(elsewhere, person.email)
        response = client.post("/password/forgot", data={"email": person.email.upper()})
        assert response.status_code == 302
        with app.app_context():
            message = db.session.scalar(sa.select(Message).where(Message.kind == "password_reset"))
            path = re.search(r"http://localhost(/password/reset/\S+)", message.body_text).group(1)
        before = snapshot(app)
        assert client.get(path).status_code == 200
        assert snapshot(app) == before  # opening the link writes nothing
        response = client.post(
            path, data={"password": "brand new passphrase", "confirm": "brand new passphrase"}
        )
        assert response.status_code == 302
        assert elsewhere.get("/").status_code == 302  # the other session has ended
        assert client.get(path).status_code == 400  # used once
        client.post("/logout")
        assert login(client, person.email, PASSWORD).status_code == 200
        assert login(client, person.email, "brand new passphrase").status_code == 302

    def test_unknown_address_gets_the_same_answer_and_no_mail(self, app, client, make):
        make.person()
        known = client.post(
            "/password/forgot", data={"email": "nobody@example.edu"}, follow_redirects=True
        )
        assert "If that address has a Hallway account" in text_of(known)
        assert count(app, Message) == 0

    def test_invalid_address_is_refused_with_a_message(self, app, client):
        response = client.post("/password/forgot", data={"email": "not an address"})
        assert response.status_code == 200
        assert "Invalid email address" in text_of(response)
        assert count(app, Message) == 0


def test_reset_requests_do_not_flood_a_mailbox(app, client, make):
    person = make.person()
    for _ in range(3):
        client.post("/password/forgot", data={"email": person.email})
    assert count(app, Message) == 1


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(database_url, make):
    app = create_app(make_config(database_url, LOGIN_RATE_LIMIT="1 per minute", TRUSTED_PROXIES=1))
    app.test_client_class = type(make.app.test_client())

    def attempt(client_address: str) -> int:
        client = app.test_client()
        return client.post(
            "/login",
            data={"email": "x@example.edu", "password": "wrong"},
            headers={"X-Forwarded-For": client_address},
        ).status_code

    assert attempt("203.0.113.1") == 200
    assert attempt("203.0.113.1") == 429
    assert attempt("203.0.113.2") == 200


def test_the_generated_secret_key_is_kept_and_private(tmp_path, monkeypatch):
    from program.config import build_config

    monkeypatch.delenv("HALLWAY_SECRET_KEY", raising=False)
    first = build_config(tmp_path)["SECRET_KEY"]
    assert len(first) == 64
    assert build_config(tmp_path)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_institution_sign_in_only_needs_an_institution_sign_in(app, client, make):
    admin = make.admin()
    login(client, admin.email)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "No institution sign-in is set up on this server" in page
    refused = client.post(
        "/admin/settings/sign-in", data={"mode": "sso_only", "break_glass_id": str(admin.id)}
    )
    assert "sign-in first (OpenID Connect or SAML" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(InstitutionSettings, 1) is None
