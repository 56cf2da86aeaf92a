"""One commit per request or command: a failure half-way writes nothing at all."""

from __future__ import annotations

import sqlalchemy as sa

import program.programs.services as program_services
from program.audit.models import AuditEvent
from program.extensions import db
from program.messages.models import Message
from program.people.models import Person
from tests.accounts.test_accounts import count, snapshot
from tests.conftest import login, text_of


class Boom(RuntimeError):
    pass


def test_a_failure_half_way_through_a_request_writes_nothing(app, client, make, monkeypatch):
    make.program("Internal Medicine", slug="im")
    admin = make.admin()
    login(client, admin.email)
    before = snapshot(app)
    calls = []

    def grant_role_then_fail(*args, **kwargs):
        # By now the new person, their invitation and two audit events have been flushed.
        calls.append(db.session.scalar(sa.select(sa.func.count()).select_from(Person)))
        raise Boom("the database went away")

    monkeypatch.setattr(program_services, "grant_role", grant_role_then_fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post(
        "/admin/programs/im/coordinators", data={"email": "new@example.edu", "name": "New Person"}
    )
    assert response.status_code == 500
    assert "Nothing was saved" in text_of(response)
    assert calls == [2], "the failure must come after rows were flushed"
    assert snapshot(app) == before
    assert count(app, Message) == 0
    assert count(app, AuditEvent) == 0


def test_a_failing_command_writes_nothing(app, monkeypatch):
    import program.people.services as people_services

    original = people_services.record

    def record_then_fail(*args, **kwargs):
        original(*args, **kwargs)
        raise Boom("disk full")

    monkeypatch.setattr(people_services, "record", record_then_fail)
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "first@example.edu", "--name", "First Admin"]
    )
    assert isinstance(result.exception, Boom)
    assert count(app, Person) == 0
    assert count(app, AuditEvent) == 0


def test_create_admin_command_prints_a_working_invitation(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "First@Example.edu", "--name", "First Admin"]
    )
    assert result.exit_code == 0, result.output
    assert "first@example.edu" in result.output
    path = result.output.strip().splitlines()[-1].removeprefix("http://localhost")
    client = app.test_client()
    assert client.get(path).status_code == 200
    response = client.post(
        path, data={"password": "a fine long password", "confirm": "a fine long password"}
    )
    assert response.status_code == 302
    assert "Programs" in text_of(client.get("/"))
    again = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "first@example.edu", "--name", "Twice"]
    )
    assert again.exit_code != 0 and "already has an account" in again.output
