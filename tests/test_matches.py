"""Proposing, reviewing and publishing a term's formal matches, as a coordinator."""

from __future__ import annotations

import sqlalchemy as sa

from program.db import utc_now
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus, Availability
from program.messages.models import Message
from program.people.models import CareerStage
from tests.conftest import login, text_of


def test_propose_edit_within_capacity_and_publish_once(app, client, make):
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    coordinator = make.coordinator(program)
    senior = make.mentor(
        program, name="Dr. Senior", stage=CareerStage.SENIOR_FACULTY, interests=["cardiology"]
    )
    junior = make.mentor(program, name="Dr. Junior", stage=CareerStage.JUNIOR_FACULTY)
    trainees = [
        make.trainee(program, name=f"Resident {n}", interests=["cardiology"]) for n in range(3)
    ]
    with app.app_context():
        for mentor, capacity in ((senior, 2), (junior, 1)):
            db.session.add(
                Availability(
                    term_id=term.id,
                    person_id=mentor.id,
                    accepting=True,
                    capacity=capacity,
                    answered_at=utc_now(),
                )
            )
        db.session.commit()
    login(client, coordinator.email)
    response = client.post("/programs/im/terms/fall/matches/propose", follow_redirects=True)
    assert "3 pairs proposed; 0 trainees without a mentor" in text_of(response)
    page = text_of(client.get("/programs/im/terms/fall/matches"))
    assert "shared interests: cardiology" in page
    with app.app_context():
        by_mentor = {}
        for a in db.session.scalars(sa.select(Assignment)):
            by_mentor[a.mentor_id] = by_mentor.get(a.mentor_id, 0) + 1
        assert by_mentor == {senior.id: 2, junior.id: 1}
        on_junior = db.session.scalar(
            sa.select(Assignment.trainee_id).where(Assignment.mentor_id == junior.id)
        )
    # Moving someone to a full mentor is refused; removing then re-adding works.
    other = next(t for t in trainees if t.id != on_junior)
    response = client.post(
        f"/programs/im/terms/fall/matches/{other.id}",
        data={"mentor": str(junior.id)},
        follow_redirects=True,
    )
    assert "Dr. Junior has no place left this term." in text_of(response)
    client.post(f"/programs/im/terms/fall/matches/{on_junior}", data={"mentor": ""})
    assert "Without a mentor" in text_of(client.get("/programs/im/terms/fall/matches"))
    client.post(f"/programs/im/terms/fall/matches/{on_junior}", data={"mentor": str(junior.id)})

    response = client.post("/programs/im/terms/fall/matches/publish", follow_redirects=True)
    assert "3 pairs published" in text_of(response)
    client.post("/programs/im/terms/fall/matches/publish")
    with app.app_context():
        statuses = set(db.session.scalars(sa.select(Assignment.status)))
        intros = db.session.scalars(sa.select(Message).where(Message.kind == "intro")).all()
    assert statuses == {AssignmentStatus.ACTIVE}
    assert len(intros) == 6  # one per side, never twice
    trainee_client = app.test_client()
    login(trainee_client, trainees[0].email)
    assert "Mentor: Dr." in text_of(trainee_client.get("/"))
