"""Who a round pairs and what it avoids: never a formal pair, a referral preferred, every earlier\nmeeting counted as a repeat, ids past 32 bits."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from program.checkins.models import CheckIn
from program.coffee.models import Chat, ChatMember, Enrollment
from program.coffee.rounds import preview_round, publish_round
from program.db import utc_now
from program.extensions import db
from program.people.models import CareerStage, Person
from program.programs.models import Program
from tests.coffee.conftest import STAGES, enroll_all
from tests.conftest import login, text_of


def test_a_formal_pair_is_never_a_coffee_pair(app, make, coffee):
    program = coffee["program"]
    mentor = make.mentor(program, name="Dr. Mentor", stage=CareerStage.SENIOR_FACULTY)
    trainee = make.trainee(program, name="Their Mentee", stage=CareerStage.PGY1)
    term = make.term(program, slug="fall")
    make.assignment(term, mentor, trainee)
    enroll_all(app, program, [mentor, trainee, *coffee["people"][:2]])
    with app.app_context():
        for seed in range(10):
            plan = preview_round(db.session.get(Program, program.id), seed=seed).plan
            assert len(plan.chats) == 2 and plan.left_out == {}
            assert {mentor.id, trainee.id} not in [set(c) for c in plan.chats]


def test_a_referral_from_a_check_in_is_preferred_next_round(app, client, coffee):
    program = coffee["program"]
    people = coffee["people"][:4]
    enroll_all(app, program, people)
    with app.app_context():
        round_ = publish_round(None, db.session.get(Program, program.id))
        db.session.commit()
        members = {m.person_id: m.chat_id for m in db.session.scalars(sa.select(ChatMember))}
        me = people[0]
        partner_ids = [p for p, c in members.items() if c == members[me.id] and p != me.id]
        others = [p for p in people if p.id not in partner_ids and p.id != me.id]
        target = others[0]
        check_in = CheckIn(
            person_id=me.id, chat_id=members[me.id], period_start=round_.scheduled_for
        )
        db.session.add(check_in)
        db.session.commit()
        check_in_id = check_in.id
    login(client, me.email)
    response = client.post(
        f"/check-ins/{check_in_id}",
        data={"status": "met", "suggest": "nobody@example.edu"},
        follow_redirects=True,
    )
    assert "We could not find that person among this program's members" in text_of(response)
    # By name: several match "person", so it asks for more and names them.
    response = client.post(
        f"/check-ins/{check_in_id}",
        data={"status": "met", "suggest": "person"},
        follow_redirects=True,
    )
    assert "Several people in this program match: Person" in text_of(response)
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).suggested_person_id is None
    # Their name, any case, is enough; an e-mail address still works.
    with app.app_context():
        db.session.get(Person, target.id).name = "Zóra Quist"
        db.session.commit()
    client.post(f"/check-ins/{check_in_id}", data={"status": "met", "suggest": "zora QUIST"})
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).suggested_person_id == target.id
    client.post(f"/check-ins/{check_in_id}", data={"status": "met", "suggest": target.email})
    with app.app_context():
        assert db.session.get(CheckIn, check_in_id).suggested_person_id == target.id
        plan = preview_round(db.session.get(Program, program.id)).plan
    assert any({me.id, target.id} <= set(chat) for chat in plan.chats)


def test_a_round_counts_every_earlier_meeting_a_directory_chat_and_a_formal_pair(app, make, coffee):
    """Two who met through a directory ask, and a former formal pair, are earlier meetings:
    the round pairs neither again while a new partner exists, and its preview counts a repeat
    only when it must make one."""
    from program.formal.models import Assignment, AssignmentStatus, EndReason

    a, b, c, d = coffee["people"][:4]
    enroll_all(app, coffee["program"], [a, b, c, d])
    term = make.term(coffee["program"], slug="fall")
    with app.app_context():
        asked = Chat(program_id=coffee["program"].id, round_id=None)
        db.session.add(asked)
        db.session.flush()
        db.session.add_all(
            ChatMember(chat_id=asked.id, person_id=p.id, position=k) for k, p in enumerate((a, b))
        )
        db.session.add(
            Assignment(
                term_id=term.id,
                mentor_id=c.id,
                trainee_id=d.id,
                status=AssignmentStatus.ENDED,
                end_reason=EndReason.TERM_OVER,
                started_at=utc_now() - timedelta(days=90),
                ended_at=utc_now() - timedelta(days=10),
            )
        )
        db.session.commit()
    met_before = {frozenset((a.id, b.id)), frozenset((c.id, d.id))}
    with app.test_request_context():
        program = db.session.get(Program, coffee["program"].id)
        for seed in range(12):
            plan = preview_round(program, seed=seed).plan
            assert not met_before & {frozenset(chat) for chat in plan.chats}, seed
            assert plan.quality.repeats == 0
        # With only the two who met in the directory, they are paired again and it is said.
        db.session.execute(sa.delete(Enrollment).where(Enrollment.person_id.in_([c.id, d.id])))
        db.session.commit()
        plan = preview_round(program).plan
        assert [frozenset(chat) for chat in plan.chats] == [frozenset((a.id, b.id))]
        assert plan.quality.repeats == 1


def test_the_coffee_page_and_its_preview_work_when_ids_pass_32_bits_of_squares(
    app, client, make, coffee
):
    """The pool's checksum multiplies ids: done in 32 bits, PostgreSQL fails with "integer out
    of range" once ids pass 46,340, as a large institution's do over the years."""
    people = [
        make.trainee(
            coffee["program"],
            name=f"Late Joiner {n}",
            department=f"Department {n}",
            stage=STAGES[n],
            id=3_000_001 + n,
        )
        for n in range(4)
    ]
    enroll_all(app, coffee["program"], people)
    with app.test_request_context():
        program = db.session.get(Program, coffee["program"].id)
        plan = preview_round(program, keep=True).plan
    assert sorted(p for chat in plan.chats for p in chat) == sorted(p.id for p in people)
    login(client, coffee["coordinator"].email)
    page = client.get("/programs/im/coffee")
    assert page.status_code == 200
    assert "Late Joiner 3" in text_of(page)


def test_the_pools_state_is_read_again_only_after_a_write_to_what_it_is_made_of(
    app, coffee, monkeypatch
):
    """The coffee page reads the pool's checksums (every name and address summed) once while
    nothing they cover moves: a check-in answered (as the one-click link writes it) is not
    such a write; a snooze is (`program.changes`)."""
    from program.coffee import pool

    read = []
    real = pool.pool_checksums

    def counted(program, on):
        read.append(on)
        return real(program, on)

    monkeypatch.setattr(pool, "pool_checksums", counted)
    enroll_all(app, coffee["program"], coffee["people"])
    with app.test_request_context():
        program = db.session.get(Program, coffee["program"].id)
        first = preview_round(program, keep=True).plan
        assert preview_round(program, keep=True).plan is first
        assert len(read) == 1
        db.session.execute(sa.update(CheckIn.__table__).values(status="met"))
        db.session.commit()
        preview_round(program, keep=True)
        assert len(read) == 1
        enrollment = db.session.scalar(
            sa.select(Enrollment).where(Enrollment.person_id == coffee["people"][0].id)
        )
        enrollment.snoozed_until = utc_now().date() + timedelta(days=30)
        db.session.commit()
        assert preview_round(program, keep=True).plan is not first
        assert len(read) == 2
