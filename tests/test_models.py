"""The database itself refuses invalid states, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from program.admin.models import InstitutionSettings
from program.checkins.models import CheckIn, CheckInStatus
from program.coffee.models import Chat, ChatMember, Enrollment, Round, RoundStatus
from program.db import utc_now
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus, Availability, EndReason
from program.people.models import CareerStage, Person
from program.programs.models import Cohort, CohortMember, Membership, Program, Role, Term

# A refused object stays in its parent's collection after the savepoint rolls back, and
# SQLAlchemy warns about it on the next flush; that is the point of these tests, not a bug.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield db.session
        db.session.rollback()


def person(session, n: int, **fields) -> Person:
    p = Person(email=f"p{n}@example.edu", name=f"P{n}", **fields)
    session.add(p)
    session.flush()
    return p


def program(session, slug: str = "im") -> Program:
    p = Program(name=slug.upper(), slug=slug)
    session.add(p)
    session.flush()
    return p


def term(session, prog: Program) -> Term:
    t = Term(
        program=prog,
        slug="fall",
        name="Fall",
        starts_on=date(2026, 9, 1),
        ends_on=date(2026, 12, 31),
    )
    session.add(t)
    session.flush()
    return t


def refused(session, *objects) -> None:
    """Adding these objects must be refused by the database."""
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add_all(objects)
        session.flush()
    # Forget the refused objects, which are still referenced from their parents' collections.
    session.expire_all()


def test_email_is_unique_and_stored_lower_case(ctx):
    person(ctx, 1)
    refused(ctx, Person(email="p1@example.edu", name="Twin"))
    refused(ctx, Person(email="Mixed@Example.edu", name="Upper"))


def test_membership_is_unique_per_person_program_role_but_roles_combine(ctx):
    p, prog = person(ctx, 1), program(ctx)
    ctx.add_all(
        [
            Membership(person=p, program=prog, role=Role.TRAINEE),
            Membership(person=p, program=prog, role=Role.MENTOR),
        ]
    )
    ctx.flush()
    refused(ctx, Membership(person=p, program=prog, role=Role.TRAINEE))


def test_term_ends_after_it_starts(ctx):
    prog = program(ctx)
    refused(
        ctx,
        Term(
            program=prog, slug="x", name="X", starts_on=date(2026, 9, 1), ends_on=date(2026, 9, 1)
        ),
    )


def test_nobody_is_in_two_cohorts_of_one_term_and_cohort_terms_agree(ctx):
    prog = program(ctx)
    t = term(ctx, prog)
    other = Term(
        program=prog,
        slug="spring",
        name="Spring",
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 5, 31),
    )
    pgy1, pgy2 = Cohort(term=t, name="PGY-1"), Cohort(term=t, name="PGY-2")
    ctx.add_all([other, pgy1, pgy2])
    ctx.flush()
    p = person(ctx, 1)
    ctx.add(CohortMember(cohort_id=pgy1.id, term_id=t.id, person_id=p.id))
    ctx.flush()
    refused(ctx, CohortMember(cohort_id=pgy2.id, term_id=t.id, person_id=p.id))
    # The cohort's term and the member's term must agree (a composite foreign key).
    refused(ctx, CohortMember(cohort_id=pgy1.id, term_id=other.id, person_id=p.id))


def test_foreign_keys_are_enforced(ctx):
    refused(ctx, Membership(person_id=424242, program_id=434343, role=Role.TRAINEE))


def test_availability_capacity_rules(ctx):
    prog = program(ctx)
    t = term(ctx, prog)
    m = person(ctx, 1)
    refused(ctx, Availability(term=t, person=m, accepting=False, capacity=2, answered_at=utc_now()))
    refused(ctx, Availability(term=t, person=m, accepting=True, capacity=-1, answered_at=utc_now()))
    refused(ctx, Availability(term=t, person=m, accepting=True, capacity=2))  # answer without time
    ctx.add(Availability(term=t, person=m, accepting=True, capacity=2, answered_at=utc_now()))
    ctx.flush()
    refused(ctx, Availability(term=t, person=m))


def test_assignment_rules(ctx):
    prog = program(ctx)
    t = term(ctx, prog)
    mentor, trainee, other = person(ctx, 1), person(ctx, 2), person(ctx, 3)
    refused(ctx, Assignment(term=t, mentor=mentor, trainee=mentor))
    refused(
        ctx,
        Assignment(
            term=t,
            mentor=mentor,
            trainee=trainee,
            status=AssignmentStatus.ENDED,
            started_at=utc_now(),
        ),
    )
    refused(ctx, Assignment(term=t, mentor=mentor, trainee=trainee, status=AssignmentStatus.ACTIVE))
    live = Assignment(
        term=t, mentor=mentor, trainee=trainee, status=AssignmentStatus.ACTIVE, started_at=utc_now()
    )
    ctx.add(live)
    ctx.flush()
    # One live formal mentor per trainee per term ...
    refused(ctx, Assignment(term=t, mentor=other, trainee=trainee))
    # ... but after a no-fault rematch ends the first, a new one may be proposed.
    live.status, live.end_reason, live.ended_at = (
        AssignmentStatus.ENDED,
        EndReason.NO_FAULT_REMATCH,
        utc_now(),
    )
    ctx.flush()
    ctx.add(Assignment(term=t, mentor=other, trainee=trainee))
    ctx.flush()


def test_one_open_enrollment_per_person_and_program_with_history(ctx):
    prog, p = program(ctx), person(ctx, 1)
    first = Enrollment(program=prog, person=p)
    ctx.add(first)
    ctx.flush()
    refused(ctx, Enrollment(program=prog, person=p))
    first.withdrawn_at = utc_now()
    ctx.flush()
    ctx.add(Enrollment(program=prog, person=p))  # rejoining keeps the old period
    ctx.flush()
    assert ctx.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 2


def test_chats_hold_at_most_three_and_nobody_twice_in_a_round(ctx):
    prog = program(ctx)
    rnd = Round(program=prog, number=1, scheduled_for=date(2026, 10, 1), seed=42)
    ctx.add(rnd)
    ctx.flush()
    chat, chat2 = Chat(round=rnd, program=prog), Chat(round=rnd, program=prog)
    ctx.add_all([chat, chat2])
    ctx.flush()
    people = [person(ctx, n) for n in range(1, 6)]
    ctx.add_all([ChatMember(chat=chat, person=people[i], position=i) for i in range(3)])
    ctx.flush()
    refused(ctx, ChatMember(chat=chat, person=people[3], position=3))
    refused(ctx, ChatMember(chat=chat, person=people[3], position=1))
    refused(ctx, ChatMember(chat=chat2, person=people[0], position=0))
    refused(ctx, Round(program=prog, number=1, scheduled_for=date(2026, 11, 1), seed=1))
    refused(
        ctx,
        Round(
            program=prog,
            number=2,
            scheduled_for=date(2026, 11, 1),
            seed=1,
            status=RoundStatus.PUBLISHED,
        ),
    )


def test_check_in_rules(ctx):
    prog = program(ctx)
    t = term(ctx, prog)
    mentor, trainee = person(ctx, 1), person(ctx, 2)
    a = Assignment(
        term=t, mentor=mentor, trainee=trainee, status=AssignmentStatus.ACTIVE, started_at=utc_now()
    )
    rnd = Round(program=prog, number=1, scheduled_for=date(2026, 10, 1), seed=1)
    chat = Chat(round=rnd, program=prog)
    ctx.add_all([a, rnd, chat])
    ctx.flush()
    october = date(2026, 10, 1)
    ctx.add(CheckIn(person=trainee, assignment=a, period_start=october))
    ctx.flush()
    # One per person per pairing per period.
    refused(ctx, CheckIn(person=trainee, assignment=a, period_start=october))
    ctx.add(CheckIn(person=trainee, assignment=a, period_start=date(2026, 11, 1)))
    ctx.add(CheckIn(person=mentor, assignment=a, period_start=october))
    ctx.flush()
    # Exactly one pairing.
    refused(ctx, CheckIn(person=trainee, period_start=october))
    refused(ctx, CheckIn(person=trainee, assignment=a, chat=chat, period_start=date(2026, 12, 1)))

    # An answer has a time, ratings are 1-5 and only for a meeting that happened.
    def chat_answer(**fields) -> CheckIn:
        return CheckIn(person=trainee, chat=chat, period_start=october, **fields)

    refused(ctx, chat_answer(status=CheckInStatus.MET))
    refused(ctx, chat_answer(status=CheckInStatus.MET, rating=6, answered_at=utc_now()))
    refused(ctx, chat_answer(status=CheckInStatus.NOT_YET, rating=4, answered_at=utc_now()))
    ctx.add(chat_answer(status=CheckInStatus.MET, rating=5, answered_at=utc_now()))
    ctx.flush()
    refused(ctx, chat_answer())


def test_suppression_threshold_never_below_five_and_settings_are_one_row(ctx):
    refused(ctx, InstitutionSettings(id=1, suppression_threshold=4))
    ctx.add(InstitutionSettings(id=1))
    ctx.flush()
    refused(ctx, InstitutionSettings(id=2))


def test_timestamps_are_aware_utc_and_naive_ones_are_refused(ctx):
    p = person(ctx, 1)
    ctx.expire_all()
    loaded = ctx.get(Person, p.id)
    assert loaded.created_at.tzinfo is not None
    assert abs(loaded.created_at - datetime.now(UTC)) < timedelta(minutes=1)
    loaded.last_login_at = datetime(2026, 1, 1, 12, 0)  # naive
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        ctx.flush()


def test_timestamp_defaults_are_evaluated_per_row(ctx):
    first = person(ctx, 1)
    second = person(ctx, 2)
    assert first.created_at <= second.created_at
    assert first.security_stamp != second.security_stamp


def test_career_stages_are_an_ordered_scale():
    assert (
        CareerStage.MS1.rank
        < CareerStage.MS4.rank
        < CareerStage.PGY1.rank
        < CareerStage.FELLOW.rank
    )
    assert (
        CareerStage.FELLOW.rank < CareerStage.JUNIOR_FACULTY.rank < CareerStage.SENIOR_FACULTY.rank
    )
    assert CareerStage.PGY1.gap(CareerStage.PGY3) == 2 == CareerStage.PGY3.gap(CareerStage.PGY1)
    assert CareerStage.PGY7.gap(CareerStage.FELLOW) == 1


def test_a_texts_digest_in_sql_is_the_same_number_on_every_database(ctx):
    """Every character counts (not only the length), in any alphabet; NULL stays NULL."""
    from program.db import TEXT_DIGEST_BITS, _text_digest, text_digest

    texts = ["Zoë Nguyễn", "Zoe Nguyen", "Ana", "Ann", "陈明", ""]
    found = [db.session.scalar(sa.select(text_digest(sa.literal(t)))) for t in texts]
    assert found == [_text_digest(t) for t in texts]
    assert len(set(found)) == len(texts)
    assert all(0 <= n < 2**TEXT_DIGEST_BITS for n in found)
    assert db.session.scalar(sa.select(text_digest(sa.null()))) is None
