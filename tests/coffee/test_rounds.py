"""Coffee rounds through the app: preview, publish, schedule, tick, the intros, the command, a past\nround's page, the kept preview, and what a participant sees at home."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from program.checkins.models import CheckIn, CheckInStatus
from program.coffee.models import Chat, Enrollment, Round, RoundStatus
from program.coffee.rounds import preview_round, publish_round
from program.db import utc_now
from program.extensions import db
from program.messages.models import Message
from program.people.models import CareerStage, Person
from program.programs.models import Program
from program.worker import tick
from tests.coffee.conftest import enroll_all
from tests.conftest import login, outbox, text_of


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


def test_publishing_publishes_the_previewed_plan_unless_the_pool_changed_since(
    app, coffee, monkeypatch
):
    """The coordinator's preview is what goes out, without working it out again; someone who
    withdrew after the preview is not in the round published."""
    from program.matching import coffee as matching

    planned = []
    real = matching.plan_round

    def counted(*args, **kwargs):
        planned.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(matching, "plan_round", counted)
    enroll_all(app, coffee["program"], coffee["people"])
    with app.test_request_context():
        program = db.session.get(Program, coffee["program"].id)
        shown = preview_round(program, keep=True).plan
        round_ = publish_round(None, program)
        db.session.commit()
        assert len(planned) == 1  # the preview's plan, not a second one
        published = sorted(
            tuple(sorted(m.person_id for m in chat.members)) for chat in round_.chats
        )
        assert published == sorted(tuple(sorted(chat)) for chat in shown.chats)
        # The next round: previewed, then someone withdraws before publishing.
        preview_round(program, keep=True)
        leaving = coffee["people"][0].id
        db.session.scalar(
            sa.select(Enrollment).where(Enrollment.person_id == leaving)
        ).withdrawn_at = utc_now()
        db.session.commit()
        second = publish_round(None, program)
        db.session.commit()
        assert len(planned) == 3  # worked out again for the changed pool
        assert leaving not in {m.person_id for chat in second.chats for m in chat.members}
