"""Proposing, reviewing and publishing a term's formal matches, as a coordinator."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from program.db import DomainError, utc_now
from program.extensions import db
from program.formal.matches import publish_pair
from program.formal.models import Assignment, AssignmentStatus, Availability
from program.messages.models import Message
from program.people.models import CareerStage, PairingBlock, Person
from program.programs.models import Term
from tests.conftest import login, outbox, text_of
from tests.test_permissions import CONFIRMED


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

    asked = text_of(client.post("/programs/im/terms/fall/matches/publish"))
    assert (
        "Publish the proposed pairs and introduce them? This e-mails 5 people (6 e-mails)." in asked
    )
    response = client.post(
        "/programs/im/terms/fall/matches/publish", data=CONFIRMED, follow_redirects=True
    )
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


def test_the_overview_flags_every_trainee_without_a_mentor_with_why(app, client, make):
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    coordinator = make.coordinator(program)
    mentor = make.mentor(program, name="Dr. Only")
    spare = make.mentor(program, name="Dr. Spare")
    names = ("Ada Blocked", "Ben Waiting", "Cy Drafted", "Di Paired")
    blocked, waiting, drafted, paired = (make.trainee(program, name=n) for n in names)
    login(client, coordinator.email)

    overview = text_of(client.get("/programs/im/"))
    assert "4 formal-track trainees without a mentor" in overview
    assert "No mentor has a place left this term (4)" in overview
    assert "ask more mentors" in overview

    make.availability(term, mentor, capacity=3)
    make.assignment(term, spare, paired)  # active: not listed
    with app.app_context():
        db.session.add(PairingBlock(person_id=blocked.id, blocked_id=mentor.id))
        db.session.add(
            Assignment(
                term_id=term.id,
                mentor_id=mentor.id,
                trainee_id=drafted.id,
                status=AssignmentStatus.PROPOSED,
            )
        )
        db.session.commit()
    overview = text_of(client.get("/programs/im/"))
    assert "3 formal-track trainees without a mentor" in overview
    assert "Every mentor with a place is ruled out for them (1): Ada Blocked" in overview
    assert "Not proposed yet (1): Ben Waiting · propose or choose a mentor" in overview
    assert "Proposed, not published yet (1): Cy Drafted · review and publish" in overview
    assert "Di Paired" not in overview
    matches = text_of(client.get("/programs/im/terms/fall/matches"))
    assert "Ben Waiting PGY1 Not proposed yet" in matches

    # A trainee never sees the attention list.
    trainee_client = app.test_client()
    login(trainee_client, waiting.email)
    assert client.get("/programs/im/").status_code == 200
    assert trainee_client.get("/programs/im/").status_code in (302, 403)


def test_a_new_programs_overview_has_a_checklist_that_ticks_itself(app, client, make):
    program = make.program("Pediatrics Residency", slug="peds")
    coordinator = make.coordinator(program)
    login(client, coordinator.email)
    page = text_of(client.get("/programs/peds/"))
    assert "Getting Pediatrics Residency started: 0 of 6 done" in page
    assert "To do: Create the first term" in page
    term = make.term(program, slug="fall")
    mentor = make.mentor(program)
    trainee = make.trainee(program)
    page = text_of(client.get("/programs/peds/"))
    assert "2 of 6 done" in page
    assert "Done: Create the first term" in page and "Done: Import the roster" in page
    assert "To do: Ask mentors for their availability" in page
    html = client.get("/programs/peds/").get_data(as_text=True)
    assert 'href="/programs/peds/terms/fall/availability" class="fw-semibold"' in html
    make.availability(term, mentor, capacity=1)
    make.assignment(term, mentor, trainee)
    page = text_of(client.get("/programs/peds/"))
    assert "4 of 6 done" in page and "To do: Publish the first coffee round" in page


def test_published_pairs_come_a_page_at_a_time_in_family_name_order(app, client, make):
    from program.formal.matches import PUBLISHED_PER_PAGE

    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    coordinator = make.coordinator(program)
    mentor = make.mentor(program, name="Dr. Mentor")
    for n in range(PUBLISHED_PER_PAGE + 1):
        make.assignment(term, mentor, make.trainee(program, name=f"Ann Trainee{n:03d}"))
    login(client, coordinator.email)
    first = text_of(client.get("/programs/im/terms/fall/matches"))
    assert f"{PUBLISHED_PER_PAGE + 1} published, 0 proposed" in first
    assert "Ann Trainee000 ↔ Dr. Mentor" in first
    assert f"Ann Trainee{PUBLISHED_PER_PAGE:03d}" not in first
    second = text_of(client.get("/programs/im/terms/fall/matches?page=2"))
    assert f"Ann Trainee{PUBLISHED_PER_PAGE:03d} ↔ Dr. Mentor" in second
    assert "Ann Trainee000" not in second
    assert client.get("/programs/im/terms/fall/matches?page=3").status_code == 404


def test_next_terms_matches_are_scheduled_for_its_first_day_not_live_today(
    app, client, make, time_machine
):
    """Publishing a future term's matches schedules them: the trainee sees "From 1 July", the
    intros wait for that day and go once, check-ins start then, and the dashboard's Next term
    section shows what is pending there, a rematch request included."""
    from datetime import UTC, date, datetime

    from program.messages.sending import send_due
    from program.worker import tick
    from tests.smtp import SmtpServer

    time_machine.move_to(datetime(2026, 11, 20, 12, tzinfo=UTC))
    program = make.program("Internal Medicine Residency", slug="im")
    fall = make.term(program, slug="fall")
    coordinator = make.coordinator(program)
    now_mentor = make.mentor(program, name="Dr. Now", stage=CareerStage.SENIOR_FACULTY)
    next_mentor = make.mentor(program, name="Dr. Next", stage=CareerStage.SENIOR_FACULTY)
    trainee = make.trainee(program, name="Resident One")
    make.assignment(fall, now_mentor, trainee, started_at=datetime(2026, 9, 1, tzinfo=UTC))
    ay = make.term(
        program, "AY 2027/28", slug="ay-2027", starts_on=date(2027, 7, 1), ends_on=date(2028, 6, 30)
    )
    make.availability(ay, next_mentor, capacity=1)
    with app.app_context():
        db.session.execute(
            sa.update(Availability)
            .where(Availability.person_id == now_mentor.id)
            .values(accepting=False, capacity=0, answered_at=utc_now())
        )
        db.session.commit()
    login(client, coordinator.email)
    client.post("/programs/im/terms/ay-2027/matches/propose")
    client.post("/programs/im/terms/ay-2027/matches/publish", data=CONFIRMED)
    with app.app_context():
        pair = db.session.scalar(sa.select(Assignment).where(Assignment.term_id == ay.id))
        assert pair.mentor_id == next_mentor.id and pair.status is AssignmentStatus.ACTIVE
        assert pair.started_at == datetime(2027, 7, 1, tzinfo=UTC)
        intros = db.session.scalars(
            sa.select(Message).where(Message.kind == "intro", Message.assignment_id == pair.id)
        ).all()
        assert len(intros) == 2
        assert {m.next_attempt_at for m in intros} == {datetime(2027, 7, 1, tzinfo=UTC)}
        pair_id = pair.id
    overview = text_of(client.get("/programs/im/"))
    assert "Next term: AY 2027/28 starts 1 July 2027" in overview
    assert "1 match scheduled to begin on 1 July (introductions go out that day)" in overview
    assert "Fall 2026 at a glance" in overview

    client.post("/logout")
    login(client, trainee.email)
    home = text_of(client.get("/"))
    assert "Mentor: Dr. Now" in home
    assert "From 1 July 2027: your mentor Dr. Next" in home
    assert home.index("Mentor: Dr. Now") < home.index("From 1 July 2027")
    # The trainee may still ask privately for a different pairing: the coordinator sees it.
    client.post(f"/mentoring/{pair_id}/rematch")
    client.post("/logout")
    login(client, coordinator.email)
    assert "1 no-fault rematch request: Resident One ↔ Dr. Next" in text_of(
        client.get("/programs/im/")
    )

    with SmtpServer() as smtp:
        app.config.update(smtp.config())
        with app.app_context():
            tick(utc_now())
            send_due()
            from program.checkins.models import CheckIn

            assert not db.session.scalar(
                sa.select(sa.func.count()).where(CheckIn.assignment_id == pair_id)
            )
        assert not [m for m in smtp.messages if "Dr. Next" in m["Subject"]]
        time_machine.move_to(datetime(2027, 7, 1, 9, tzinfo=UTC))
        with app.app_context():
            tick(utc_now())
            send_due()
            send_due()
        intros = [m for m in smtp.messages if m["Subject"].endswith("meet Dr. Next")]
        assert [m["To"] for m in intros] == [trainee.email]


# Publishing one pair by hand: publishing a formal pair: active at once, one intro to each side, the rules enforced.


def test_publishing_a_pair_introduces_both_sides_once(app, make):
    program = make.program(slug="im")
    term = make.term(program, slug="fall")
    mentor = make.mentor(program, name="Dr. Miguel Santos", interests=["heart failure"])
    trainee = make.trainee(program, name="Priya Natarajan")
    other_trainee = make.trainee(program)
    outsider = make.mentor(make.program(slug="surgery"))
    with app.test_request_context():
        t = db.session.get(Term, term.id)
        m, tr = db.session.get(Person, mentor.id), db.session.get(Person, trainee.id)
        assignment = publish_pair(None, t, m, tr)
        db.session.commit()
        assert assignment.status is AssignmentStatus.ACTIVE and assignment.started_at
        intros = {msg.recipient_id: msg for msg in outbox()}
        assert set(intros) == {mentor.id, trainee.id}
        assert intros[trainee.id].subject == f"{program.name}: meet Dr. Miguel Santos"
        assert "heart failure" in intros[trainee.id].body_text
        assert "What two or three decisions" in intros[trainee.id].body_text
        # Each side can reach the other: the address, and a reply goes to them.
        assert intros[trainee.id].reply_to == m.email and m.email in intros[trainee.id].body_text
        assert intros[mentor.id].reply_to == tr.email and tr.email in intros[mentor.id].body_text
        assert "Priya Natarajan will write to you" in intros[mentor.id].body_text
        with pytest.raises(DomainError, match="already has a formal mentor"):
            publish_pair(None, t, m, tr)
        with pytest.raises(DomainError, match="is not a mentor of this program"):
            publish_pair(
                None,
                t,
                db.session.get(Person, outsider.id),
                db.session.get(Person, other_trainee.id),
            )
        with pytest.raises(DomainError, match="is not a trainee of this program"):
            publish_pair(None, t, m, db.session.get(Person, outsider.id))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1
