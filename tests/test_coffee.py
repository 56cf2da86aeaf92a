"""The coffee-chat track through the app: enrollment (home page, e-mail links, bulk opt-in with a
reason), rounds (preview, publish, schedule, tick) with intros, referrals, ghosts, homes, CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from program.checkins.models import CheckIn, CheckInStatus
from program.coffee.enrollment import enrollment_token, snooze_ghosts
from program.coffee.models import Chat, ChatMember, Enrollment, Round, RoundStatus
from program.coffee.rounds import preview_round, publish_round
from program.db import utc_now
from program.extensions import db
from program.messages.models import Message
from program.people.models import CareerStage, Person
from program.programs.models import Program
from program.worker import tick
from tests.conftest import login, outbox, text_of

STAGES = [CareerStage.MS3, CareerStage.PGY1, CareerStage.PGY2, CareerStage.PGY3]


@pytest.fixture
def coffee(app, make):
    """A program with a coordinator and seven trainees in four departments and stages."""
    program = make.program("Internal Medicine Residency", slug="im")
    coordinator = make.coordinator(program)
    people = [
        make.trainee(
            program,
            name=f"Person {n}",
            department=f"Department {n % 4}",
            stage=STAGES[n % 4],
        )
        for n in range(7)
    ]
    return {"program": program, "coordinator": coordinator, "people": people}


def enroll_all(app, program, people, when=None):
    with app.app_context():
        for p in people:
            db.session.add(
                Enrollment(program_id=program.id, person_id=p.id, enrolled_at=when or utc_now())
            )
        db.session.commit()


def test_join_snooze_and_leave_from_the_home_page(app, client, coffee):
    person = coffee["people"][0]
    login(client, person.email)
    assert "Join the coffee chats" in text_of(client.get("/"))
    response = client.post("/coffee/mine/im", data={"action": "join"}, follow_redirects=True)
    assert "You are in" in text_of(response)
    until = (utc_now().date() + timedelta(days=20)).isoformat()
    response = client.post(
        "/coffee/mine/im", data={"action": "snooze", "until": until}, follow_redirects=True
    )
    assert "Snoozed until" in text_of(response)
    response = client.post(
        "/coffee/mine/im", data={"action": "snooze", "until": "2020-01-01"}, follow_redirects=True
    )
    assert "Choose a date after today and within a year." in text_of(response)
    client.post("/coffee/mine/im", data={"action": "leave"})
    client.post("/coffee/mine/im", data={"action": "join"})
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Enrollment).where(Enrollment.person_id == person.id).order_by(Enrollment.id)
        ).all()
    # History is kept: a closed period, then a new one.
    assert [r.withdrawn_at is not None for r in rows] == [True, False]


def test_someone_outside_the_program_cannot_join(app, client, make, coffee):
    outsider = make.trainee(make.program("Surgery", slug="surgery"))
    login(client, outsider.email)
    assert client.post("/coffee/mine/im", data={"action": "join"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0


def test_an_email_link_only_shows_the_choice_until_confirmed(app, client, coffee):
    person = coffee["people"][1]
    enroll_all(app, coffee["program"], [person])
    with app.test_request_context():
        token = enrollment_token(person.id, coffee["program"].id)
    page = client.get(f"/coffee/{token}?do=leave")
    assert page.status_code == 200 and "Leave the coffee chats" in text_of(page)
    with app.app_context():
        assert db.session.scalar(sa.select(Enrollment.withdrawn_at)) is None  # GET wrote nothing
    response = client.post(f"/coffee/{token}", data={"action": "leave"})
    assert "You have left the coffee chats" in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(Enrollment.withdrawn_at)) is not None
    assert client.get(f"/coffee/{token}x").status_code == 400
    # The same link opened again after leaving says so and offers to rejoin, not to leave.
    again = text_of(client.get(f"/coffee/{token}?do=leave"))
    assert (
        f"You left the coffee chats of Internal Medicine Residency on {utc_now():%-d %B %Y}"
        in again
    )
    assert "Rejoin the coffee chats" in again and "Leave the coffee chats" not in again
    rejoined = client.post(f"/coffee/{token}", data={"action": "join"})
    assert "You are in" in text_of(rejoined)


def test_bulk_opt_in_needs_a_reason_and_tells_each_person(app, client, coffee):
    login(client, coffee["coordinator"].email)
    response = client.post("/programs/im/coffee/enroll", data={"reason": ""}, follow_redirects=True)
    assert "Say why these people are opted in" in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0
    asked = text_of(
        client.post("/programs/im/coffee/enroll", data={"reason": "orientation consent form 2026"})
    )
    assert "Opt everyone in to the coffee chats? This e-mails 7 people." in asked
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0
    response = client.post(
        "/programs/im/coffee/enroll",
        data={"reason": "orientation consent form 2026", "confirmed": "yes"},
        follow_redirects=True,
    )
    # The seven trainees; never the coordinator, who may join on their own.
    assert "7 people opted in" in text_of(response)
    with app.app_context():
        notes = set(db.session.scalars(sa.select(Enrollment.consent_note)))
        told = db.session.scalar(
            sa.select(sa.func.count()).where(Message.kind == "coffee_enrolled")
        )
        body = db.session.scalar(
            sa.select(Message.body_text).where(Message.kind == "coffee_enrolled")
        )
    assert notes == {"orientation consent form 2026"} and told == 7
    assert "orientation consent form 2026" in body and "/coffee/" in body
    again = client.post(
        "/programs/im/coffee/enroll", data={"reason": "second time"}, follow_redirects=True
    )
    assert "0 people opted in" in text_of(again)


def test_bulk_opt_in_never_re_enrols_someone_who_opted_out(app, client, coffee):
    """Opted out the same day, or any day before: skipped with the reason, no server error."""
    login(client, coffee["coordinator"].email)
    client.post(
        "/programs/im/coffee/enroll",
        data={"reason": "orientation consent form", "confirmed": "yes"},
    )
    with app.test_request_context():
        from program.coffee.enrollment import withdraw

        trainee = db.session.get(Person, coffee["people"][0].id)
        withdraw(trainee, db.session.get(Program, coffee["program"].id))
        db.session.commit()
        name, trainee_id = trainee.name, trainee.id
        told_before = db.session.scalar(sa.select(sa.func.count()).select_from(Message))
    answer = client.post(
        "/programs/im/coffee/enroll", data={"reason": "second consent drive"}, follow_redirects=True
    )
    page = text_of(answer)
    assert answer.status_code == 200 and "0 people opted in" in page
    assert "opted out themselves" in page and name in page
    with app.app_context():
        open_rows = db.session.scalar(
            sa.select(sa.func.count()).where(
                Enrollment.person_id == trainee_id, Enrollment.withdrawn_at.is_(None)
            )
        )
        assert open_rows == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == told_before


def test_the_proposed_chats_come_a_page_at_a_time(app, client, coffee, monkeypatch):
    import program.coffee.views

    monkeypatch.setattr(program.coffee.views, "CHATS_PER_PAGE", 2)
    enroll_all(app, coffee["program"], coffee["people"])
    login(client, coffee["coordinator"].email)
    first = client.get("/programs/im/coffee")
    assert "The 3 proposed chats (1 of 2 pages)" in text_of(first)
    assert first.get_data(as_text=True).count('<li class="list-group-item"><strong>Person') == 2
    second = client.get("/programs/im/coffee?page=2")
    html = second.get_data(as_text=True)
    assert "(2 of 2 pages)" in text_of(second) and '<details id="proposed-chats" open>' in html
    assert html.count('<li class="list-group-item"><strong>Person') == 1
    assert client.get("/programs/im/coffee?page=3").status_code == 404


def test_preview_then_publish_one_intro_each_and_the_same_seed_gives_the_same_round(
    app, client, coffee
):
    enroll_all(app, coffee["program"], coffee["people"])
    login(client, coffee["coordinator"].email)
    page = text_of(client.get("/programs/im/coffee"))
    assert "Next round: round 1" in page and "3 chats for 7 people, one of them a trio" in page
    with app.app_context():
        program = db.session.get(Program, coffee["program"].id)
        previewed = preview_round(program).plan.chats
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0
    # The first press says how many it e-mails and asks; it writes nothing.
    asked = client.post("/programs/im/coffee/rounds", data={})
    assert asked.status_code == 200
    assert "Publish the next coffee round now? This e-mails 7 people." in text_of(asked)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
    response = client.post(
        "/programs/im/coffee/rounds", data={"confirmed": "yes"}, follow_redirects=True
    )
    assert "Round 1 published: 3 chats" in text_of(response)
    with app.app_context():
        intros = outbox(Message.kind == "intro")
        round_ = db.session.scalar(sa.select(Round))
        chats = [
            tuple(m.person_id for m in chat.members)
            for chat in db.session.scalars(sa.select(Chat).order_by(Chat.id))
        ]
    assert chats == previewed
    assert round_.status is RoundStatus.PUBLISHED and round_.quality["people"] == 7
    assert len(intros) == 7 and len({m.to_address for m in intros}) == 7
    # One person per chat writes first, with the ask ready; everyone else is told who will.
    first = [m for m in intros if "You write first" in m.body_text]
    assert len(first) == len(chats) == 3
    assert all("Could I grab you for 20 minutes" in m.body_text for m in first)
    assert all(" will write to you" in m.body_text for m in intros if m not in first)
    assert all("who else you should meet" in m.body_text for m in intros)
    # The next round avoids this one's pairs.
    with app.app_context():
        program = db.session.get(Program, coffee["program"].id)
        second = preview_round(program)
        assert second.number == 2 and second.plan.quality.repeats == 0


def test_nobody_to_pair_is_refused_with_a_message(app, client, coffee):
    login(client, coffee["coordinator"].email)
    response = client.post("/programs/im/coffee/rounds", data={}, follow_redirects=True)
    assert "fewer than two people are taking part" in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0


def test_a_scheduled_round_is_published_by_tick(app, client, coffee):
    enroll_all(app, coffee["program"], coffee["people"][:4])
    login(client, coffee["coordinator"].email)
    on = utc_now().date() + timedelta(days=3)
    response = client.post(
        "/programs/im/coffee/rounds",
        data={"on": on.isoformat(), "confirmed": "yes"},
        follow_redirects=True,
    )
    assert f"Round 1 is scheduled for {on:%d %B %Y}" in text_of(response)
    with app.app_context():
        assert tick(utc_now())["rounds"] == 0
        assert tick(utc_now() + timedelta(days=3))["rounds"] == 1
        db.session.commit()
        assert db.session.scalar(sa.select(Round.status)) is RoundStatus.PUBLISHED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Chat)) == 2


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


def test_three_unanswered_intros_pause_someone_and_one_click_brings_them_back(app, client, coffee):
    program = coffee["program"]
    people = coffee["people"][:4]
    start = utc_now() - timedelta(days=80)
    enroll_all(app, program, people, when=start)
    ghost = people[0]
    with app.app_context():
        for month in range(3):
            when = start + timedelta(days=30 * month)
            round_ = publish_round(None, db.session.get(Program, program.id), now=when)
            for member in db.session.scalars(
                sa.select(ChatMember).where(ChatMember.round_id == round_.id)
            ):
                answered = member.person_id != ghost.id
                db.session.add(
                    CheckIn(
                        person_id=member.person_id,
                        chat_id=member.chat_id,
                        period_start=round_.scheduled_for,
                        asked_at=when + timedelta(days=7),
                        status=CheckInStatus.MET if answered else None,
                        answered_at=when + timedelta(days=8) if answered else None,
                    )
                )
        db.session.commit()
        # Not before the last question has had its time to be answered.
        assert snooze_ghosts(start + timedelta(days=60 + 8)) == 0
        assert snooze_ghosts(start + timedelta(days=60 + 14)) == 1
        db.session.commit()
        enrollment = db.session.scalar(
            sa.select(Enrollment).where(Enrollment.person_id == ghost.id)
        )
        assert enrollment.snooze_reason == "unanswered" and enrollment.snoozed_until
        notice = db.session.scalar(sa.select(Message).where(Message.kind == "coffee_paused"))
        assert notice.to_address == ghost.email and "/coffee/" in notice.body_text
        # The coordinators' dashboard lists paused people, so the e-mail says who sees it.
        assert "Only your program coordinators see that your chats are paused" in notice.body_text
        assert "Nobody else is told" not in notice.body_text
        assert snooze_ghosts(start + timedelta(days=90)) == 0  # told once
    login(client, ghost.email)
    assert "Come back now" in text_of(client.get("/"))
    client.post("/coffee/mine/im", data={"action": "join"})
    with app.app_context():
        assert snooze_ghosts(start + timedelta(days=100)) == 0  # a fresh start
        current = db.session.scalar(
            sa.select(Enrollment).where(
                Enrollment.person_id == ghost.id, Enrollment.withdrawn_at.is_(None)
            )
        )
        assert current.snoozed_until is None


def test_home_shows_this_rounds_partner_and_the_network(app, client, coffee):
    program = coffee["program"]
    people = coffee["people"][:2]
    enroll_all(app, program, people)
    with app.app_context():
        round_ = publish_round(None, db.session.get(Program, program.id))
        chat = db.session.scalar(sa.select(Chat))
        db.session.add(
            CheckIn(
                person_id=people[0].id,
                chat_id=chat.id,
                period_start=round_.scheduled_for,
                status=CheckInStatus.MET,
                answered_at=utc_now(),
            )
        )
        db.session.commit()
    login(client, people[0].email)
    page = text_of(client.get("/"))
    assert "your coffee chat is with Person 1" in page
    assert "you have met 1 person from 1 department" in page


def test_the_round_command_previews_then_publishes(app, coffee):
    enroll_all(app, coffee["program"], coffee["people"])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["coffee", "round", "--program", "im"])
    assert result.exit_code == 0, result.output
    assert "Round 1" in result.output and "(1 trio) for 7 people" in result.output
    assert "Preview only" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0
    result = runner.invoke(args=["coffee", "round", "--program", "im", "--publish", "--seed", "5"])
    assert "Published round 1" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(Round.seed)) == 5
    result = runner.invoke(args=["coffee", "round", "--program", "nope"])
    assert result.exit_code != 0 and "No program" in result.output


def test_a_round_date_in_the_past_is_refused_and_nothing_is_published(app, client, coffee):
    enroll_all(app, coffee["program"], coffee["people"][:4])
    login(client, coffee["coordinator"].email)
    response = client.post(
        "/programs/im/coffee/rounds", data={"on": "2020-01-01"}, follow_redirects=True
    )
    assert "Choose today or a later date." in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 0


def test_a_round_before_its_cadence_asks_first_and_says_so(app, client, coffee):
    enroll_all(app, coffee["program"], coffee["people"])
    login(client, coffee["coordinator"].email)
    client.post("/programs/im/coffee/rounds", data={"confirmed": "yes"})
    with app.app_context():
        sent = db.session.scalar(sa.select(sa.func.count()).select_from(Message))
    page = text_of(client.post("/programs/im/coffee/rounds", data={}))
    assert "This round would go out the same day as round 1" in page
    assert "this program's rounds are every 30 days" in page
    assert "This e-mails 7 people." in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == sent
    # Scheduling it a week on still warns, and words when the e-mails go.
    on = utc_now().date() + timedelta(days=7)
    page = text_of(client.post("/programs/im/coffee/rounds", data={"on": on.isoformat()}))
    assert f"On {on:%d %B %Y}, this e-mails 7 people." in page
    assert "7 days after round 1" in page
    done = client.post(
        "/programs/im/coffee/rounds", data={"confirmed": "yes"}, follow_redirects=True
    )
    assert "Round 2 published" in text_of(done)


def test_a_past_round_opens_with_its_chats_and_counts_of_how_they_went(app, client, coffee):
    enroll_all(app, coffee["program"], coffee["people"])
    login(client, coffee["coordinator"].email)
    client.post("/programs/im/coffee/rounds", data={"confirmed": "yes"})
    with app.app_context():
        chats = db.session.scalars(sa.select(Chat).order_by(Chat.id)).all()
        first, second = chats[0], chats[1]
        now = utc_now()
        for chat in (first, second):
            for member in chat.members:
                db.session.add(
                    CheckIn(
                        person_id=member.person_id,
                        chat_id=chat.id,
                        period_start=now.date(),
                        asked_at=now,
                    )
                )
        db.session.flush()
        answer = db.session.scalars(
            sa.select(CheckIn).where(CheckIn.chat_id == first.id).order_by(CheckIn.id)
        ).first()
        answer.status, answer.answered_at = CheckInStatus.MET, now
        other = db.session.scalars(sa.select(CheckIn).where(CheckIn.chat_id == second.id)).first()
        other.status, other.answered_at = CheckInStatus.NOT_YET, now
        db.session.commit()
        asked = db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn))
    overview = client.get("/programs/im/coffee").get_data(as_text=True)
    assert 'href="/programs/im/coffee/rounds/1"' in overview
    page = text_of(client.get("/programs/im/coffee/rounds/1"))
    assert f"3 chats. 2 of {asked} check-ins answered." in page
    assert "Met 1 Time set 0 Not yet 1 Won't happen 0 No answer yet 1" in page
    assert all(p.name in page for p in coffee["people"])
    assert client.get("/programs/im/coffee/rounds/2").status_code == 404
    trainee = app.test_client()
    login(trainee, coffee["people"][0].email)
    assert trainee.get("/programs/im/coffee/rounds/1").status_code == 403


def test_each_round_knows_who_met_whom_and_who_was_in_a_trio(app, coffee):
    """The pairing's memory of past rounds (read as aggregates) is what the chats say: every
    pair's most recent round, and each person's trios; seven people meet someone new in
    each of three rounds."""
    from program.coffee.pool import eligible, round_inputs

    enroll_all(app, coffee["program"], coffee["people"])
    with app.app_context():
        program = db.session.get(Program, coffee["program"].id)
        for n in range(3):
            publish_round(None, program, now=utc_now() + timedelta(days=30 * n))
        db.session.commit()
        met: dict[tuple[int, int], int] = {}
        trios: dict[int, int] = {}
        for chat in db.session.scalars(sa.select(Chat)):
            ids = sorted(m.person_id for m in chat.members)
            for i, a in enumerate(ids):
                trios[a] = trios.get(a, 0) + (len(ids) == 3)
                for b in ids[i + 1 :]:
                    assert (a, b) not in met, "a pair met twice in three rounds"
                    met[(a, b)] = max(met.get((a, b), 0), chat.round.number)
        people = eligible(program, utc_now().date())
        participants, history, _ = round_inputs(program, 4, people)
    assert history == {pair: 4 - number for pair, number in met.items()}
    assert {p.id: p.trios for p in participants} == {p.id: trios.get(p.id, 0) for p in people}
    assert sum(trios.values()) == 9  # one trio a round


def test_the_coordinators_preview_is_kept_until_anything_it_is_made_from_changes(app, make, coffee):
    """The coffee page's preview is worked out once per state of the pool: the same object
    while nothing changes, and worked out again (equal to a fresh one) after each change."""
    from program.formal.models import Assignment, AssignmentStatus, EndReason
    from program.people.models import PairingBlock

    enroll_all(app, coffee["program"], coffee["people"])
    term = make.term(coffee["program"], slug="fall")
    people = coffee["people"]
    with app.test_request_context():
        program = db.session.get(Program, coffee["program"].id)
        last = preview_round(program, keep=True).plan
        assert preview_round(program, keep=True).plan is last

        def anew() -> None:
            nonlocal last
            db.session.commit()
            found = preview_round(program, keep=True).plan
            assert found is not last, "a change was served the kept preview"
            assert found.chats == preview_round(program).plan.chats
            assert preview_round(program, keep=True).plan is found
            last = found

        def person(n: int) -> Person:
            return db.session.get(Person, people[n].id)

        def enrollment(n: int) -> Enrollment:
            return db.session.scalar(
                sa.select(Enrollment).where(Enrollment.person_id == people[n].id)
            )

        enrollment(0).snoozed_until = utc_now().date() + timedelta(days=30)
        anew()
        enrollment(1).withdrawn_at = utc_now()
        anew()
        person(2).department_id = person(3).department_id
        anew()
        person(4).stage = CareerStage.SENIOR_FACULTY
        anew()
        person(5).name = "Person 5 Renamed"
        anew()
        person(5).name = "Person 5 Renamer"  # a corrected letter: the length stays
        anew()
        assert preview_round(program, keep=True).people[people[5].id].name == "Person 5 Renamer"
        person(5).name, person(3).name = person(3).name, person(5).name  # swapped
        anew()
        person(3).email = "a-new-address@example.edu"
        anew()
        block = PairingBlock(person_id=people[2].id, blocked_id=people[3].id)
        db.session.add(block)
        anew()
        db.session.delete(block)
        anew()
        pair = Assignment(
            term_id=term.id,
            mentor_id=people[4].id,
            trainee_id=people[6].id,
            status=AssignmentStatus.ACTIVE,
            started_at=utc_now(),
        )
        db.session.add(pair)
        anew()
        pair.status, pair.end_reason, pair.ended_at = (
            AssignmentStatus.ENDED,
            EndReason.TERM_OVER,
            utc_now(),
        )
        anew()
        program.coffee_repeat_window = 1
        anew()
        enrollment(1).withdrawn_at = None  # back to how it was a few changes ago
        anew()
        round_ = publish_round(None, program)
        anew()
        chat = round_.chats[0]
        asker = chat.members[0].person_id
        db.session.add(
            CheckIn(
                person_id=asker,
                chat_id=chat.id,
                period_start=round_.scheduled_for,
                status=CheckInStatus.MET,
                answered_at=utc_now(),
                updated_at=utc_now(),
                suggested_person_id=next(p.id for p in people if p.id != asker),
            )
        )
        anew()


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
