"""Active formal pairs: silent and unanswering pairs flagged on a controlled clock, private
no-fault rematch requests, ending a pair with its reason, rematching, homes, and the CLI."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from program.audit.models import AuditEvent
from program.checkins.models import CheckIn, CheckInStatus
from program.extensions import db
from program.formal.health import Asked, Flag, assess
from program.formal.matches import propose_matches
from program.formal.models import Assignment, AssignmentStatus, EndReason
from program.formal.pairs import PairCounts, pair_health, pair_page, pairs_needing_attention
from program.messages.models import Message
from program.people.models import CareerStage, Person
from program.programs.models import Program, Term
from tests.conftest import login, text_of

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
STARTED = datetime(2026, 9, 1, 9, tzinfo=UTC)


# --- the pure rules ------------------------------------------------------------------------


def asked(period: date, days_ago: int, answered: bool = False, met_on: date | None = None):
    return Asked(period, NOW - timedelta(days=days_ago), answered, met_on)


def test_a_pair_that_never_met_is_silent_after_n_days_from_its_start():
    health = assess(NOW - timedelta(days=44), [], NOW, silent_after_days=45)
    assert health.flags == () and health.days_quiet == 44 and health.last_meeting is None
    health = assess(NOW - timedelta(days=45), [], NOW, silent_after_days=45)
    assert health.flags == (Flag.SILENT,)


def test_a_recorded_meeting_resets_the_count():
    met = asked(date(2026, 11, 1), 10, answered=True, met_on=date(2026, 11, 5))
    health = assess(STARTED, [met], NOW, silent_after_days=45)
    assert health.last_meeting == date(2026, 11, 5)
    assert health.days_quiet == 15 and health.flags == ()
    later = NOW + timedelta(days=30)
    assert assess(STARTED, [met], later, silent_after_days=45).flags == (Flag.SILENT,)


def test_no_answers_only_when_both_sides_ignore_a_check_in_for_two_weeks():
    recent = NOW - timedelta(days=20)
    both_quiet = [asked(date(2026, 11, 1), 14), asked(date(2026, 11, 1), 14)]
    assert assess(recent, both_quiet, NOW, 45).flags == (Flag.NO_ANSWERS,)
    one_answered = [asked(date(2026, 11, 1), 14), asked(date(2026, 11, 1), 14, answered=True)]
    assert assess(recent, one_answered, NOW, 45).flags == ()
    too_soon = [asked(date(2026, 11, 1), 13), asked(date(2026, 11, 1), 13)]
    assert assess(recent, too_soon, NOW, 45).flags == ()
    # An old answered month does not hide a newer ignored one.
    mixed = [asked(date(2026, 10, 1), 45, answered=True), asked(date(2026, 11, 1), 15)]
    assert assess(recent, mixed, NOW, 45).flags == (Flag.NO_ANSWERS,)


def test_flags_come_in_order_of_urgency():
    health = assess(STARTED, [asked(date(2026, 11, 1), 20)], NOW, 45, rematch_requested=True)
    assert health.flags == (Flag.REMATCH_REQUESTED, Flag.SILENT, Flag.NO_ANSWERS)
    assert health.worst is Flag.REMATCH_REQUESTED


# --- the dashboard -------------------------------------------------------------------------


@pytest.fixture
def pairs(app, make, time_machine):
    """Three active pairs started on 1 September: one met recently, one never answered, one
    silent but answering "not yet"; the program flags silence after 30 days. The pages judge
    them as of NOW (20 November), whatever day the tests run."""
    time_machine.move_to(NOW)
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    coordinator = make.coordinator(program)
    mentors = [
        make.mentor(program, name=f"Dr. Mentor {n}", stage=CareerStage.SENIOR_FACULTY)
        for n in range(4)
    ]
    trainees = [make.trainee(program, name=f"Resident {n}") for n in range(3)]
    with app.app_context():
        db.session.get(Program, program.id).silent_after_days = 30
        db.session.commit()
    pairs = list(zip(mentors, trainees, strict=False))  # the fourth mentor is spare
    ids = [make.assignment(term, m, t, started_at=STARTED) for m, t in pairs]
    with app.app_context():
        for assignment_id, (mentor, trainee) in zip(ids, pairs, strict=True):
            for person in (mentor, trainee):
                db.session.add(
                    CheckIn(
                        person_id=person.id,
                        assignment_id=assignment_id,
                        period_start=date(2026, 11, 1),
                        asked_at=datetime(2026, 11, 1, 8, tzinfo=UTC),
                    )
                )
        db.session.flush()
        rows = db.session.scalars(sa.select(CheckIn).order_by(CheckIn.id)).all()
        answered_at = datetime(2026, 11, 3, tzinfo=UTC)
        rows[0].status, rows[0].met_on, rows[0].answered_at = (
            CheckInStatus.MET,
            date(2026, 11, 2),
            answered_at,
        )
        rows[5].status, rows[5].answered_at = CheckInStatus.NOT_YET, answered_at
        db.session.commit()
    return {
        "program": program,
        "term": term,
        "coordinator": coordinator,
        "mentors": mentors,
        "trainees": trainees,
        "ids": ids,
    }


def test_pair_health_on_a_controlled_clock(app, pairs):
    with app.app_context():
        rows = pair_health(db.session.get(Term, pairs["term"].id), now=NOW)
        by_trainee = {r.assignment.trainee.name: r.health for r in rows}
    assert by_trainee["Resident 0"].flags == ()
    assert by_trainee["Resident 0"].last_meeting == date(2026, 11, 2)
    assert by_trainee["Resident 1"].flags == (Flag.SILENT, Flag.NO_ANSWERS)
    assert by_trainee["Resident 2"].flags == (Flag.SILENT,)
    assert [r.assignment.trainee.name for r in rows][-1] == "Resident 0"  # on track come last
    with app.app_context():
        early = pair_health(db.session.get(Term, pairs["term"].id), now=STARTED + timedelta(days=5))
    assert all(r.health.flags == () for r in early)


def test_the_coordinator_sees_the_pairs_page_and_the_overview_count(client, pairs, monkeypatch):
    login(client, pairs["coordinator"].email)
    page = text_of(client.get("/programs/im/terms/fall/pairs"))
    assert "3 active pairs" in page
    assert "Resident 1" in page and "Silent" in page and "No answers" in page
    assert "02 Nov 2026" in page  # Resident 0's last meeting
    overview = text_of(client.get("/programs/im/"))
    assert "2 silent or unanswering formal pairs" in overview
    assert "Resident 1 ↔ Dr. Mentor 1" in overview
    # The overview names the most urgent few and counts the rest.
    from program.home import dashboard

    monkeypatch.setattr(dashboard, "NAMED", 1)
    overview = text_of(client.get("/programs/im/"))
    assert "2 silent or unanswering formal pairs: Resident 1 ↔ Dr. Mentor 1 and 1 more" in overview


def test_the_pages_judgement_is_kept_only_while_nothing_it_reads_moves(
    app, client, pairs, monkeypatch, time_machine
):
    """The overview and the pairs page keep a term's judged pairs for the day (`program.changes`)
    and judge again after a committed answer, a rename, or the day turning; never while
    nothing moved."""
    from program.formal import pairs as service

    judged = []
    real = service._judged

    def counted(term, now, assignment_id=None):
        judged.append(assignment_id)
        return real(term, now, assignment_id)

    monkeypatch.setattr(service, "_judged", counted)
    login(client, pairs["coordinator"].email)
    assert "2 silent or unanswering formal pairs" in text_of(client.get("/programs/im/"))
    client.get("/programs/im/terms/fall/pairs")
    assert judged == [None]  # judged once for both pages
    # Resident 1 answers "we met" yesterday: judged again, and no longer quiet.
    with app.app_context():
        check_in = db.session.scalar(
            sa.select(CheckIn).where(
                CheckIn.assignment_id == pairs["ids"][1],
                CheckIn.person_id == pairs["trainees"][1].id,
            )
        )
        check_in.status, check_in.met_on = CheckInStatus.MET, date(2026, 11, 19)
        check_in.answered_at = NOW
        db.session.commit()
    overview = text_of(client.get("/programs/im/"))
    assert "1 silent or unanswering formal pair" in overview and "Resident 1" not in overview
    assert judged == [None, None]
    # A rename shows at once.
    with app.app_context():
        db.session.get(Person, pairs["trainees"][2].id).name = "Resident Two"
        db.session.commit()
    assert "Resident Two" in text_of(client.get("/programs/im/terms/fall/pairs"))
    assert judged == [None] * 3
    # Forty days on, Resident 0's pair has gone silent too: the new day is judged afresh.
    time_machine.move_to(NOW + timedelta(days=40))
    login(client, pairs["coordinator"].email)  # signed out meanwhile
    assert "3 silent or unanswering formal pairs" in text_of(client.get("/programs/im/"))
    assert judged == [None] * 4


# --- no-fault rematch ----------------------------------------------------------------------


def test_a_trainee_asks_privately_for_a_rematch(app, client, pairs):
    trainee, mentor = pairs["trainees"][1], pairs["mentors"][1]
    assignment_id = pairs["ids"][1]
    login(client, trainee.email)
    home = text_of(client.get("/"))
    assert "Mentor: Dr. Mentor 1" in home and "Ask privately for a different pairing" in home
    page = text_of(client.get(f"/mentoring/{assignment_id}/rematch"))
    assert "Only your program coordinator sees this request" in page
    response = client.post(f"/mentoring/{assignment_id}/rematch", follow_redirects=True)
    assert "Your request is with your program coordinator" in text_of(response)
    client.post(f"/mentoring/{assignment_id}/rematch")  # asking twice changes nothing
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        assert assignment.rematch_requested_by_id == trainee.id
        assert assignment.status is AssignmentStatus.ACTIVE
        told = db.session.scalars(
            sa.select(Message.to_address).where(Message.kind == "rematch_request")
        ).all()
    assert told == [pairs["coordinator"].email]
    # The one who asked sees the request is pending, instead of the link to ask.
    home = text_of(client.get("/"))
    assert "You asked privately for a different pairing on" in home
    assert "Your coordinator has it; Dr. Mentor 1 is not told." in home

    # The mentor is not told, anywhere.
    client.post("/logout")
    login(client, mentor.email)
    mentor_home = text_of(client.get("/"))
    assert "rematch" not in mentor_home.lower().replace("different pairing", "")
    mentor_page = text_of(client.get(f"/mentoring/{assignment_id}/rematch"))
    assert "You asked on" not in mentor_page and "Ask for a new pairing" in mentor_page

    client.post("/logout")
    login(client, pairs["coordinator"].email)
    page = text_of(client.get("/programs/im/terms/fall/pairs"))
    assert "Rematch asked" in page and "Asked by Resident 1" in page


def test_only_the_pair_itself_may_ask(app, client, make, pairs):
    outsider = pairs["trainees"][0]
    login(client, outsider.email)
    assert client.get(f"/mentoring/{pairs['ids'][1]}/rematch").status_code == 404
    assert client.post(f"/mentoring/{pairs['ids'][1]}/rematch").status_code == 404
    with app.app_context():
        assert db.session.get(Assignment, pairs["ids"][1]).rematch_requested_at is None


def test_the_database_judges_every_pair_as_the_pure_rule_does(app, make):
    """pair_health computes each pair's last meeting and latest due answer in SQL; on many
    random pairs (met with and without a date, periods asked twice, answered by one side,
    not yet due) it agrees with `assess` given each pair's check-ins one by one."""
    import random

    rng = random.Random(7)  # noqa: S311  (test data, not secrets)
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    mentor = make.mentor(program)
    ids = [make.assignment(term, mentor, make.trainee(program)) for _ in range(40)]
    with app.app_context():
        for assignment in db.session.scalars(sa.select(Assignment).where(Assignment.id.in_(ids))):
            # Any hour of the day: the database's day of a time must be the UTC day.
            assignment.started_at = NOW - timedelta(
                days=rng.randint(0, 120), hours=rng.randint(0, 23)
            )
            if rng.random() < 0.15:
                assignment.rematch_requested_at = NOW - timedelta(days=1)
            for n in range(rng.randint(0, 4)):
                period = date(2026, 8, 1) + timedelta(days=30 * n)
                for person_id in rng.sample([assignment.trainee_id, assignment.mentor_id], 2)[
                    : rng.randint(1, 2)
                ]:
                    asked_at = NOW - timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23))
                    answer = rng.choice([None, *CheckInStatus])
                    answered_at = asked_at + timedelta(hours=5) if answer else None
                    db.session.add(
                        CheckIn(
                            person_id=person_id,
                            assignment_id=assignment.id,
                            period_start=period,
                            asked_at=asked_at,
                            answered_at=answered_at,
                            status=answer,
                            met_on=(
                                asked_at.date() - timedelta(days=rng.randint(0, 9))
                                if answer is CheckInStatus.MET and rng.random() < 0.5
                                else None
                            ),
                        )
                    )
        db.session.commit()
        stored = db.session.get(Term, term.id)
        rows = pair_health(stored, NOW)
        found = {row.assignment.id: row.health for row in rows}
        assert sorted(found) == sorted(ids)
        flags = set()
        expected_order = []
        for assignment in db.session.scalars(sa.select(Assignment).where(Assignment.id.in_(ids))):
            check_ins = [
                Asked(
                    c.period_start,
                    c.asked_at,
                    c.answered_at is not None,
                    (c.met_on or c.answered_at.date()) if c.status is CheckInStatus.MET else None,
                )
                for c in db.session.scalars(
                    sa.select(CheckIn).where(CheckIn.assignment_id == assignment.id)
                )
            ]
            silent_after = db.session.get(Program, program.id).silent_after_days
            expected = assess(
                assignment.started_at,
                check_ins,
                NOW,
                silent_after,
                rematch_requested=assignment.rematch_requested_at is not None,
            )
            assert found[assignment.id] == expected, assignment.id
            flags |= set(expected.flags)
            urgency = list(Flag).index(expected.worst) if expected.worst else len(Flag)
            expected_order.append(
                (urgency, -expected.days_quiet, assignment.trainee.sort_name, assignment.id)
            )
        # Both kinds of quiet and a rematch were exercised.
        assert flags == {Flag.SILENT, Flag.NO_ANSWERS, Flag.REMATCH_REQUESTED}
        # Sorted, counted and cut to a page by the database as the rule would.
        assert [r.assignment.id for r in rows] == [key[-1] for key in sorted(expected_order)]
        quiet = [r.assignment.id for r in rows if r.health.quiet]
        asked = [r.assignment.id for r in rows if Flag.REMATCH_REQUESTED in r.health.flags]
        counts = PairCounts(
            total=40, flagged=sum(1 for r in rows if r.health.flags), quiet=len(quiet)
        )
        page, found_counts = pair_page(stored, 2, 7, NOW)
        assert [r.assignment.id for r in page] == [r.assignment.id for r in rows[7:14]]
        assert found_counts == counts
        assert pair_page(stored, 7, 7, NOW) == ([], counts)  # past the last page
        attention = pairs_needing_attention(stored, 3, NOW)
        assert [r.assignment.id for r in attention.quiet] == quiet[:3]
        assert attention.quiet_count == len(quiet)
        assert [r.assignment.id for r in attention.rematch] == asked
        assert [(r.health, r.nudged_on) for r in attention.quiet] == [
            (r.health, r.nudged_on) for r in rows if r.assignment.id in quiet[:3]
        ]


# --- ending a pair and rematching ----------------------------------------------------------


def test_ending_for_a_rematch_proposes_a_different_mentor(app, client, make, pairs):
    term = pairs["term"]
    spare = pairs["mentors"][3]
    old_mentor = pairs["mentors"][1]
    make.availability(term, spare, capacity=1)
    make.availability(term, old_mentor, capacity=2)  # room left, but never this pair again
    login(client, pairs["coordinator"].email)
    url = f"/programs/im/terms/fall/pairs/{pairs['ids'][1]}/end"
    assert "Why does this pair end?" in text_of(client.get(url))

    response = client.post(url, data={}, follow_redirects=True)
    assert "Choose a reason." in text_of(response)
    with app.app_context():
        assert db.session.get(Assignment, pairs["ids"][1]).status is AssignmentStatus.ACTIVE

    response = client.post(
        url, data={"reason": "no_fault_rematch", "propose_new": "y"}, follow_redirects=True
    )
    assert "A new mentor is proposed" in text_of(response)
    with app.app_context():
        ended = db.session.get(Assignment, pairs["ids"][1])
        assert ended.status is AssignmentStatus.ENDED
        assert ended.end_reason is EndReason.NO_FAULT_REMATCH and ended.ended_at is not None
        proposed = db.session.scalar(
            sa.select(Assignment).where(Assignment.status == AssignmentStatus.PROPOSED)
        )
        assert proposed.trainee_id == pairs["trainees"][1].id
        assert proposed.mentor_id == spare.id
        assert db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "assignment.ended")
        )
        ended_mail = db.session.scalars(
            sa.select(Message).where(Message.kind == "pair_ended")
        ).all()
        assert [m.to_address for m in ended_mail] == [pairs["trainees"][1].email]
        assert "A new mentor is already proposed for you" in ended_mail[0].body_text
        assert "You will not be paired with Dr. Mentor 1 again" in ended_mail[0].body_text
    # Ending again is refused, and the old pair never comes back.
    response = client.post(url, data={"reason": "term_over"}, follow_redirects=True)
    assert "This pair is not active" in text_of(response)


def test_a_no_fault_rematch_is_final_for_the_matching_the_hand_edit_and_publishing(
    app, client, make, pairs
):
    term, trainee, mentor = pairs["term"], pairs["trainees"][1], pairs["mentors"][1]
    make.availability(term, mentor, capacity=3)  # room, but never this pair again
    login(client, pairs["coordinator"].email)
    client.post(
        f"/programs/im/terms/fall/pairs/{pairs['ids'][1]}/end", data={"reason": "no_fault_rematch"}
    )
    never = "ended their pair in a no-fault rematch on 20 November 2026"
    # The hand edit refuses, with the reason in words, and the list does not offer them.
    edit = client.post(
        f"/programs/im/terms/fall/matches/{trainee.id}",
        data={"mentor": str(mentor.id)},
        follow_redirects=True,
    )
    assert never in text_of(edit)
    page = client.get("/programs/im/terms/fall/matches").get_data(as_text=True)
    option = re.search(
        rf'id="mentor-{trainee.id}".*?<option value="{mentor.id}"([^>]*)>([^<]*)', page, re.S
    )
    assert "disabled" in option.group(1) and "ruled out for this trainee" in option.group(2)
    # The matching never proposes them; a draft made some other way is refused at publishing.
    with app.app_context():
        proposal = propose_matches(None, db.session.get(Term, term.id))
        assert all(p.trainee_id != trainee.id for p in proposal.pairs)
        db.session.add(
            Assignment(
                term_id=term.id,
                mentor_id=mentor.id,
                trainee_id=trainee.id,
                status=AssignmentStatus.PROPOSED,
            )
        )
        db.session.commit()
    refused = text_of(
        client.post(
            "/programs/im/terms/fall/matches/publish",
            data={"confirmed": "yes"},
            follow_redirects=True,
        )
    )
    assert "Nothing was published:" in refused and never in refused
    with app.app_context():
        assert not db.session.scalar(
            sa.select(sa.func.count()).where(
                Assignment.status == AssignmentStatus.ACTIVE, Assignment.trainee_id == trainee.id
            )
        )
        db.session.execute(sa.delete(Assignment).where(Assignment.status == "proposed"))
        db.session.commit()
    # Every term that follows keeps the promise.
    spring = make.term(
        pairs["program"],
        "Spring 2027",
        slug="spring",
        starts_on=date(2026, 11, 1),
        ends_on=date(2027, 4, 30),
    )
    make.availability(spring, mentor, capacity=3)
    later = client.post(
        f"/programs/im/terms/spring/matches/{trainee.id}",
        data={"mentor": str(mentor.id)},
        follow_redirects=True,
    )
    assert never in text_of(later)


def test_an_assessor_recorded_on_a_live_pair_flags_it_to_be_rematched(app, client, make, pairs):
    trainee, mentor = pairs["trainees"][0], pairs["mentors"][0]  # on track until now
    login(client, pairs["coordinator"].email)
    page = text_of(client.get("/programs/im/terms/fall/pairs"))
    assert "Must be rematched" not in page
    client.post(f"/programs/im/people/{mentor.id}/assesses", data={"trainee_email": trainee.email})
    page = text_of(client.get("/programs/im/terms/fall/pairs"))
    assert "3 active pairs; 3 need a look" in page
    assert "Must be rematched: the mentor assesses the trainee" in page
    html = client.get("/programs/im/terms/fall/pairs").get_data(as_text=True)
    assert f'pairs/{pairs["ids"][0]}/end">Rematch' in html
    overview = text_of(client.get("/programs/im/"))
    assert (
        "1 formal pair must be rematched: the mentor assesses the trainee: "
        "Resident 0 ↔ Dr. Mentor 0" in overview
    )
    end_page = client.get(f"/programs/im/terms/fall/pairs/{pairs['ids'][0]}/end")
    assert "is recorded as assessing Resident 0" in text_of(end_page)
    chosen = re.search(r'<input[^>]*value="no_fault_rematch"[^>]*>', end_page.get_data(True))
    assert "checked" in chosen.group(0)
    client.post(
        f"/programs/im/terms/fall/pairs/{pairs['ids'][0]}/end",
        data={"reason": "no_fault_rematch"},
    )
    with app.app_context():
        told = db.session.scalar(sa.select(Message).where(Message.kind == "pair_ended"))
        assert told.to_address == trainee.email
        assert "assess" not in told.body_text
        assert "Your coordinator is looking for a new mentor for you" in told.body_text
    assert "must be rematched" not in text_of(client.get("/programs/im/"))


def test_ending_without_a_rematch_proposes_nothing(app, client, pairs):
    login(client, pairs["coordinator"].email)
    response = client.post(
        f"/programs/im/terms/fall/pairs/{pairs['ids'][0]}/end",
        data={"reason": "left_program"},
        follow_redirects=True,
    )
    assert "The pair has ended (left the program)." in text_of(response)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(Assignment.status == AssignmentStatus.PROPOSED)
            )
            == 0
        )
        # Resident 0 is still in the program: told their mentor left and a new one is coming.
        told = db.session.scalar(sa.select(Message).where(Message.kind == "pair_ended"))
        assert told.to_address == pairs["trainees"][0].email
        assert "Dr. Mentor 0 is no longer mentoring" in told.body_text
        assert "Your coordinator will propose a new mentor for you" in told.body_text


def test_a_rematch_with_no_mentor_free_says_why_in_a_sentence(client, make, pairs):
    # The only mentor with room is the one this pair ends with: the matching's reason has no
    # full stop of its own, and the page's sentence still ends with one.
    make.availability(pairs["term"], pairs["mentors"][1], capacity=2)
    login(client, pairs["coordinator"].email)
    response = client.post(
        f"/programs/im/terms/fall/pairs/{pairs['ids'][1]}/end",
        data={"reason": "no_fault_rematch", "propose_new": "y"},
        follow_redirects=True,
    )
    page = text_of(response)
    assert "The pair has ended (no-fault rematch). No new mentor proposed: " in page
    assert "No new mentor proposed: no mentor with capacity is at least one career stage" in page
    assert "the mentor assesses the trainee, or a private preference). " in page


def test_another_programs_pair_is_not_found(client, make, pairs):
    other = make.program("Surgery", slug="surgery")
    make.term(other, slug="fall")
    coordinator = make.coordinator(other)
    login(client, coordinator.email)
    url = f"/programs/surgery/terms/fall/pairs/{pairs['ids'][0]}/end"
    assert client.get(url).status_code == 404


# --- the command line ----------------------------------------------------------------------


def test_the_formal_commands_print_what_they_did(app, make):
    program = make.program("Internal Medicine Residency", slug="im")
    make.term(program, slug="fall")
    mentor = make.mentor(program, name="Dr. Able", stage=CareerStage.SENIOR_FACULTY)
    make.trainee(program, name="Resident A")
    make.trainee(program, name="Resident B")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["formal", "request-availability", "--program", "im", "--term", "fall"]
    )
    assert result.exit_code == 0, result.output
    assert "Asked 1 mentor for Fall 2026" in result.output
    with app.app_context():
        from program.formal.models import Availability

        availability = db.session.scalar(sa.select(Availability))
        availability.accepting, availability.capacity = True, 1
        availability.answered_at = NOW
        db.session.commit()
    result = runner.invoke(args=["formal", "propose", "--program", "im", "--term", "fall"])
    assert result.exit_code == 0, result.output
    assert "Proposed 1 pair" in result.output
    assert "1 places offered for 2 trainees" in result.output
    assert "without a mentor: Resident" in result.output
    result = runner.invoke(args=["formal", "publish", "--program", "im", "--term", "fall"])
    assert "Published 1 pair for Fall 2026; 2 introductions queued" in result.output
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(Assignment.mentor_id).where(Assignment.status == AssignmentStatus.ACTIVE)
            )
            == mentor.id
        )
    result = runner.invoke(args=["formal", "propose", "--program", "nope", "--term", "fall"])
    assert result.exit_code != 0 and "No program “nope”" in result.output


def test_a_quiet_pair_gets_one_gentle_nudge_per_quiet_spell(app, client, pairs):
    login(client, pairs["coordinator"].email)
    page = client.get("/programs/im/terms/fall/pairs").get_data(as_text=True)
    for n, quiet in ((0, False), (1, True), (2, True)):
        label = f'Send a gentle nudge<span class="visually-hidden"> to Resident {n} and'
        assert (label in page) is quiet
    url = f"/programs/im/terms/fall/pairs/{pairs['ids'][1]}/nudge"
    asked = text_of(client.post(url))
    assert "Nudge Resident 1 and Dr. Mentor 1? This e-mails 2 people." in asked
    done = client.post(url, data={"confirmed": "yes"}, follow_redirects=True)
    assert "Nudge sent to 2 people." in text_of(done)
    with app.app_context():
        nudges = db.session.scalars(sa.select(Message).where(Message.kind == "pair_nudge")).all()
        assert sorted(m.to_address for m in nudges) == sorted(
            [pairs["trainees"][1].email, pairs["mentors"][1].email]
        )
        to_trainee = next(m for m in nudges if m.to_address == pairs["trainees"][1].email)
        assert to_trainee.reply_to == pairs["mentors"][1].email
        assert "time for a catch-up with Dr. Mentor 1" in to_trainee.subject
        assert "no meeting is recorded yet" in to_trainee.body_text
        assert "Propose times: http://localhost/meetings/" in to_trainee.body_text
    page = text_of(client.get("/programs/im/terms/fall/pairs"))
    assert "Nudged" in page
    again = client.post(url, data={"confirmed": "yes"}, follow_redirects=True)
    assert "one nudge per quiet spell" in text_of(again)
    on_track = client.post(
        f"/programs/im/terms/fall/pairs/{pairs['ids'][0]}/nudge",
        data={"confirmed": "yes"},
        follow_redirects=True,
    )
    assert "This pair is not quiet" in text_of(on_track)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Message).where(Message.kind == "pair_nudge")
            )
            == 2
        )


def test_the_pairs_page_pages_the_on_track_pairs_after_those_needing_a_look(
    client, pairs, monkeypatch
):
    import program.formal.views as views

    monkeypatch.setattr(views, "PAIRS_PER_PAGE", 2)
    login(client, pairs["coordinator"].email)
    first = text_of(client.get("/programs/im/terms/fall/pairs"))
    assert "3 active pairs; 2 need a look (listed first)" in first
    assert "Resident 1" in first and "Resident 2" in first and "Resident 0" not in first
    assert "Page 1 of 2" in first
    second = text_of(client.get("/programs/im/terms/fall/pairs?page=2"))
    assert "Resident 0" in second and "Resident 1" not in second
    assert client.get("/programs/im/terms/fall/pairs?page=3").status_code == 404
