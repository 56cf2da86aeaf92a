"""A coordinator corrects a member's details and a mentor's places from the person page."""

from __future__ import annotations

import sqlalchemy as sa

from program.audit.models import AuditEvent
from program.extensions import db
from program.formal.models import Availability
from program.people.models import CareerStage, Person
from tests.accounts.test_accounts import snapshot
from tests.conftest import login, text_of


def details(name: str, **fields: str) -> dict[str, str]:
    return {"name": name, "department": "", "stage": "", "interests": "", **fields}


def test_a_coordinator_corrects_details_and_the_page_says_saved(app, client, make):
    program = make.program("Internal Medicine Residency", slug="im")
    make.term(program, slug="fall")
    coordinator = make.coordinator(program)
    trainee = make.trainee(program, name="Jon Smith")
    login(client, coordinator.email)
    url = f"/programs/im/people/{trainee.id}"
    assert "Edit details" in text_of(client.get(url))
    done = client.post(
        f"{url}/details",
        data=details(
            "Jonathan Smith",
            department="Cardiology",
            stage="PGY2",
            interests="echo;  quality improvement ; echo",
        ),
        follow_redirects=True,
    )
    page = text_of(done)
    assert "Saved: name, department, stage, interests of Jonathan Smith." in page
    with app.app_context():
        person = db.session.get(Person, trainee.id)
        assert (person.name, person.department_name, person.stage, person.interests) == (
            "Jonathan Smith",
            "Cardiology",
            CareerStage.PGY2,
            ["echo", "quality improvement"],
        )
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "person.details_changed")
        )
        assert event.details["name"] == ["Jon Smith", "Jonathan Smith"]
    again = client.post(
        f"{url}/details",
        data=details(
            "Jonathan Smith",
            department="cardiology",
            stage="PGY2",
            interests="echo; quality improvement",
        ),
        follow_redirects=True,
    )
    assert "No changes." in text_of(again)

    before = snapshot(app)
    blank = client.post(f"{url}/details", data=details("   "), follow_redirects=True)
    assert "A name is required." in text_of(blank) or "This field is required." in text_of(blank)
    assert snapshot(app) == before
    # The roster file's rule for interests, not a looser one of the page's own.
    many = "; ".join(f"topic {n}" for n in range(21))
    refused = client.post(
        f"{url}/details", data=details("Jonathan Smith", interests=many), follow_redirects=True
    )
    assert "lists 21 interests; at most 20." in text_of(refused)
    long_one = client.post(
        f"{url}/details", data=details("Jonathan Smith", interests="x" * 81), follow_redirects=True
    )
    assert "has an interest longer than 80 characters." in text_of(long_one)
    assert snapshot(app) == before


def test_someone_another_program_shares_is_changed_only_by_an_administrator(app, client, make):
    program = make.program("Internal Medicine Residency", slug="im")
    other = make.program("Surgery", slug="surgery")
    coordinator = make.coordinator(program)
    shared = make.trainee(program, name="Dr. Shared")
    make.trainee(other, shared)
    login(client, coordinator.email)
    url = f"/programs/im/people/{shared.id}"
    page = text_of(client.get(url))
    assert "also belongs to another program" in page and "Edit details" not in page
    before = snapshot(app)
    refused = client.post(f"{url}/details", data=details("Renamed"), follow_redirects=True)
    assert "an administrator can change them" in text_of(refused)
    assert snapshot(app) == before
    admin = app.test_client()
    login(admin, make.admin().email)
    admin.post(f"{url}/details", data=details("Dr. Shared Renamed"))
    with app.app_context():
        assert db.session.get(Person, shared.id).name == "Dr. Shared Renamed"


def test_a_mentors_places_for_the_term_never_below_their_mentees(app, client, make):
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    coordinator = make.coordinator(program)
    mentor = make.mentor(program, name="Dr. Busy")
    make.assignment(term, mentor, make.trainee(program))
    login(client, coordinator.email)
    url = f"/programs/im/people/{mentor.id}"
    assert "Mentoring places in Fall 2026 Not answered yet." in text_of(client.get(url))
    before = snapshot(app)
    refused = client.post(
        f"/programs/im/terms/fall/people/{mentor.id}/capacity",
        data={"capacity": "0"},
        follow_redirects=True,
    )
    assert "Dr. Busy already has 1 mentee this term" in text_of(refused)
    assert snapshot(app) == before
    too_many = client.post(
        f"/programs/im/terms/fall/people/{mentor.id}/capacity",
        data={"capacity": "11"},
        follow_redirects=True,
    )
    assert "Number must be between 0 and 10." in text_of(too_many)
    done = client.post(
        f"/programs/im/terms/fall/people/{mentor.id}/capacity",
        data={"capacity": "3"},
        follow_redirects=True,
    )
    page = text_of(done)
    assert "Saved: Dr. Busy takes 3 mentees in Fall 2026." in page
    assert "3 places, 1 taken." in page
    with app.app_context():
        row = db.session.scalar(sa.select(Availability))
        assert (row.accepting, row.capacity) == (True, 3) and row.answered_at is not None
    # A trainee's page has no places to set.
    trainee = make.trainee(program, name="Tia Trainee")
    assert "Mentoring places" not in text_of(client.get(f"/programs/im/people/{trainee.id}"))
