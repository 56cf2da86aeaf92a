"""Admin pages: programs, coordinators, people, institution settings and the audit log."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from program.admin.models import InstitutionSettings
from program.audit.models import AuditEvent
from program.extensions import db
from program.messages.models import Message
from program.people.models import Person
from program.programs.models import DepartmentPreference, Membership, Program, Role
from tests.accounts.test_accounts import count, snapshot
from tests.conftest import login, outbox, text_of

NEW_PROGRAM = {
    "name": "Internal Medicine Residency",
    "slug": "im-residency",
    "description": "Three-year residency",
    "active": "y",
    "silent_after_days": "45",
    "formal_department_preference": "different",
    "coffee_department_preference": "none",
    "coffee_cadence_days": "30",
    "coffee_repeat_window": "",
}


@pytest.fixture
def admin(make, client):
    person = make.admin()
    login(client, person.email)
    return person


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


class TestPrograms:
    def test_create_a_program_and_it_is_audited(self, app, client, admin):
        response = client.post("/admin/programs/new", data=NEW_PROGRAM)
        assert response.status_code == 302
        assert response.headers["Location"] == "/admin/programs/im-residency/coordinators"
        with app.app_context():
            program = db.session.scalar(sa.select(Program))
            assert program.name == "Internal Medicine Residency"
            assert program.formal_department_preference is DepartmentPreference.DIFFERENT
            assert program.coffee_department_preference is DepartmentPreference.NONE
            assert program.coffee_repeat_window is None
            event = db.session.scalar(sa.select(AuditEvent))
            assert (event.action, event.actor_id, event.object_id, event.program_id) == (
                "program.created",
                admin.id,
                program.id,
                program.id,
            )
        assert "Internal Medicine Residency" in text_of(client.get("/admin/"))

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"slug": "Not A Slug"}, "Use lower-case letters"),
            ({"name": ""}, "This field is required."),
            ({"silent_after_days": "0"}, "Number must be between 7 and 365"),
            ({"formal_department_preference": "sideways"}, "Not a valid choice"),
        ],
    )
    def test_bad_input_is_refused_next_to_its_field(self, app, client, admin, change, message):
        response = client.post("/admin/programs/new", data={**NEW_PROGRAM, **change})
        assert response.status_code == 200
        assert message in text_of(response)
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
        assert count(app, Program) == 0

    def test_duplicate_slug_or_name_is_refused_and_nothing_written(self, app, client, admin, make):
        make.program("Surgery Residency", slug="im-residency")
        before = snapshot(app)
        response = client.post("/admin/programs/new", data=NEW_PROGRAM)
        assert "Another program already uses “im-residency”" in text_of(response)
        response = client.post(
            "/admin/programs/new",
            data={**NEW_PROGRAM, "slug": "other", "name": "surgery residency"},
        )
        assert "Another program is already called" in text_of(response)
        assert snapshot(app) == before

    def test_edit_a_program_records_what_changed(self, app, client, admin, make):
        program = make.program("Surgery", slug="surgery")
        page = client.get("/admin/programs/surgery/edit")
        assert 'value="Surgery"' in page.get_data(as_text=True)
        response = client.post(
            "/admin/programs/surgery/edit",
            data={
                **NEW_PROGRAM,
                "name": "General Surgery",
                "slug": "surgery",
                "silent_after_days": "60",
            },
        )
        assert response.status_code == 302
        with app.app_context():
            saved = db.session.get(Program, program.id)
            assert (saved.name, saved.silent_after_days) == ("General Surgery", 60)
            event = db.session.scalar(
                sa.select(AuditEvent).where(AuditEvent.action == "program.updated")
            )
            assert event.details["name"] == ["Surgery", "General Surgery"]
            assert event.details["silent_after_days"] == [45, 60]

    def test_unknown_program_is_404(self, client, admin):
        assert client.get("/admin/programs/nope/edit").status_code == 404


class TestCoordinators:
    def test_make_an_existing_person_coordinator(self, app, client, admin, make):
        program = make.program(slug="im")
        person = make.person("Carmen Reyes", email="carmen@example.edu")
        response = client.post(
            "/admin/programs/im/coordinators", data={"email": "CARMEN@example.edu"}
        )
        assert response.status_code == 302
        page = text_of(client.get("/admin/programs/im/coordinators"))
        assert "Carmen Reyes" in page
        with app.app_context():
            membership = db.session.scalar(sa.select(Membership))
            assert (membership.person_id, membership.program_id, membership.role) == (
                person.id,
                program.id,
                Role.COORDINATOR,
            )
        assert count(app, Message) == 0
        # The new coordinator sees the program; the audit log says who made them so.
        coordinator = app.test_client()
        login(coordinator, person.email)
        assert coordinator.get("/programs/im/").status_code == 200
        assert "membership.granted" in audit_actions(app)

    def test_a_new_person_is_created_and_invited(self, app, client, admin, make):
        make.program("Internal Medicine", slug="im")
        response = client.post(
            "/admin/programs/im/coordinators", data={"email": "new@example.edu", "name": "Nia New"}
        )
        assert response.status_code == 302
        with app.app_context():
            person = db.session.scalar(sa.select(Person).where(Person.email == "new@example.edu"))
            assert person.name == "Nia New" and person.password_hash is None
            (message,) = outbox()
            assert message.recipient_id == person.id and message.kind == "invitation"
            assert "/invitation/" in message.body_text
            # Told what a coordinator does, never "see your mentor and coffee-chat partners".
            assert "- run Internal Medicine: import its roster" in message.body_text
            assert "mentor" not in message.body_text.lower()
            assert "word-break: break-all" in message.body_html  # the long link wraps on a phone
        assert {"person.created", "account.invited", "membership.granted"} <= set(
            audit_actions(app)
        )

    def test_a_new_person_needs_a_name_and_nothing_is_written(self, app, client, admin, make):
        make.program(slug="im")
        before = snapshot(app)
        response = client.post("/admin/programs/im/coordinators", data={"email": "new@example.edu"})
        assert "give their name to invite them" in text_of(response)
        response = client.post(
            "/admin/programs/im/coordinators", data={"email": "not-an-email", "name": "X"}
        )
        assert "is not a valid e-mail address" in text_of(response)
        assert snapshot(app) == before

    def test_granting_twice_keeps_one_membership_and_ending_keeps_history(
        self, app, client, admin, make
    ):
        make.program(slug="im")
        person = make.person(email="c@example.edu")
        client.post("/admin/programs/im/coordinators", data={"email": "c@example.edu"})
        client.post("/admin/programs/im/coordinators", data={"email": "c@example.edu"})
        assert count(app, Membership) == 1
        with app.app_context():
            membership_id = db.session.scalar(sa.select(Membership.id))
        response = client.post(f"/admin/programs/im/coordinators/{membership_id}/end")
        assert response.status_code == 302
        with app.app_context():
            membership = db.session.get(Membership, membership_id)
            assert membership.ended_at is not None
        coordinator = app.test_client()
        login(coordinator, person.email)
        assert coordinator.get("/programs/im/").status_code == 403
        # Granting again reopens the same row rather than adding one.
        client.post("/admin/programs/im/coordinators", data={"email": "c@example.edu"})
        assert count(app, Membership) == 1
        assert coordinator.get("/programs/im/").status_code == 200

    def test_membership_of_another_program_cannot_be_ended_through_this_one(
        self, app, client, admin, make
    ):
        _im, surgery = make.program(slug="im"), make.program(slug="surgery")
        make.coordinator(surgery)
        with app.app_context():
            membership_id = db.session.scalar(sa.select(Membership.id))
        assert (
            client.post(f"/admin/programs/im/coordinators/{membership_id}/end").status_code == 404
        )


class TestPeople:
    def test_list_search_and_paginate(self, client, admin, make):
        for n in range(30):
            make.person(f"Resident {n:02d}", email=f"resident{n:02d}@example.edu")
        make.person("Zoë Ångström", email="zoe@example.edu")
        page1 = text_of(client.get("/admin/people"))
        assert "Page 1 of 2" in page1
        assert "Resident 00" in page1
        found = text_of(client.get("/admin/people?q=zoe"))
        assert "Zoë Ångström" in found and "Resident" not in found
        assert "1 person" in found
        assert "Nobody matches" in text_of(client.get("/admin/people?q=%25_"))

    def test_deactivate_and_reactivate(self, app, client, admin, make):
        person = make.person()
        assert (
            client.post(f"/admin/people/{person.id}/active", data={"active": "0"}).status_code
            == 302
        )
        assert login(app.test_client(), person.email).status_code == 200  # refused
        client.post(f"/admin/people/{person.id}/active", data={"active": "1"})
        assert login(app.test_client(), person.email).status_code == 302
        assert audit_actions(app)[-2:] == ["person.deactivated", "person.activated"]

    def test_an_admin_cannot_deactivate_themselves(self, app, client, admin):
        response = client.post(
            f"/admin/people/{admin.id}/active", data={"active": "0"}, follow_redirects=True
        )
        assert "You cannot deactivate your own account." in text_of(response)
        with app.app_context():
            assert db.session.get(Person, admin.id).active

    def test_grant_dean_and_refuse_removing_own_admin(self, app, client, admin, make):
        person = make.person()
        client.post(f"/admin/people/{person.id}", data={"is_dean": "y"})
        with app.app_context():
            assert db.session.get(Person, person.id).is_dean
        response = client.post(f"/admin/people/{admin.id}", data={})
        assert "You cannot remove your own admin rights" in text_of(response)
        with app.app_context():
            assert db.session.get(Person, admin.id).is_admin

    def test_resend_invitation(self, app, client, admin, make):
        person = make.person(password=None)
        client.post(f"/admin/people/{person.id}/invite")
        with app.app_context():
            assert db.session.scalar(sa.select(Message.recipient_id)) == person.id

    def test_unknown_person_is_404(self, client, admin):
        assert client.get("/admin/people/999999").status_code == 404


class TestSettings:
    def test_defaults_are_shown_without_writing(self, app, client, admin):
        page = client.get("/admin/settings").get_data(as_text=True)
        assert 'value="5"' in page
        assert count(app, InstitutionSettings) == 0

    def test_save_settings(self, app, client, admin):
        data = {
            "name": "Riverside School of Medicine",
            "suppression_threshold": "11",
            "mail_sender": "mentoring@riverside.example.edu",
            "time_zone": "America/Chicago",
        }
        assert client.post("/admin/settings", data=data).status_code == 302
        with app.app_context():
            settings = db.session.get(InstitutionSettings, 1)
            assert (settings.name, settings.suppression_threshold, settings.time_zone) == (
                "Riverside School of Medicine",
                11,
                "America/Chicago",
            )
        refused = client.post("/admin/settings", data={**data, "time_zone": "Mars/Olympus"})
        assert "Give a time zone by its name" in text_of(refused)
        assert "Riverside School of Medicine" in text_of(client.get("/"))
        assert "settings.updated" in audit_actions(app)

    def test_each_settings_change_says_what_changed_old_to_new(self, app, client, admin):
        data = {
            "name": "Riverside",
            "suppression_threshold": "10",
            "mail_sender": "mentoring@riverside.example.edu",
            "time_zone": "UTC",
        }
        client.post("/admin/settings", data=data)
        client.post("/admin/settings", data={**data, "suppression_threshold": "11"})
        client.post("/admin/settings", data=data)  # and back
        client.post("/admin/settings", data=data)  # no change: no entry
        with app.app_context():
            events = db.session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.action == "settings.updated")
                .order_by(AuditEvent.id)
            ).all()
            summaries = [e.summary for e in events]
            assert summaries[1:] == [
                "Institution settings: suppression threshold 10 → 11",
                "Institution settings: suppression threshold 11 → 10",
            ]
            assert events[1].details == {"suppression_threshold": [10, 11]}
        log = text_of(client.get("/admin/audit"))
        assert "suppression threshold 10 → 11" in log and "suppression threshold 11 → 10" in log

    @pytest.mark.parametrize("threshold", ["4", "0", "-3", "ten"])
    def test_threshold_below_five_is_refused(self, app, client, admin, threshold):
        response = client.post(
            "/admin/settings", data={"name": "X", "suppression_threshold": threshold}
        )
        assert response.status_code == 200
        assert "at least 5" in text_of(response)
        assert count(app, InstitutionSettings) == 0


def test_audit_log_lists_and_filters(app, client, admin, make):
    client.post("/admin/programs/new", data=NEW_PROGRAM)
    person = make.person()
    client.post(f"/admin/people/{person.id}/active", data={"active": "0"})
    page = text_of(client.get("/admin/audit"))
    assert "program.created" in page and "person.deactivated" in page
    assert "Ada Admin" in page
    filtered = text_of(client.get("/admin/audit?action=person."))
    assert "person.deactivated" in filtered and "program.created" not in filtered


def test_user_text_is_escaped_everywhere(app, client, admin, make):
    evil = '<script>alert("x")</script>'
    make.person(evil, email="evil@example.edu")
    html = client.get("/admin/people").get_data(as_text=True)
    assert evil not in html
    assert "&lt;script&gt;" in html
    assert re.search(r"<script>alert", html) is None
