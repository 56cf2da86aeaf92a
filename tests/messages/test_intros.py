"""Introductions that connect people: who writes first, the words ready to send, and every way
to reach the partner (address, Reply-To, a one-click note), in the e-mail and on the home page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from program.admin.services import update_settings
from program.checkins.models import CheckIn, CheckInStatus
from program.checkins.schedule import follow_up_intros
from program.extensions import db
from program.formal.models import Assignment
from program.messages.intros import FORMAL_WORDS, coffee_ask, first_mover, formal_ask, mailto
from program.messages.models import Message
from program.messages.sending import send_due
from program.people.models import MailPreference, Person
from program.people.stages import CareerStage
from tests.conftest import login, text_of
from tests.smtp import SmtpServer

word = st.text(st.characters(codec="utf-8", categories=["L"]), min_size=1, max_size=12)
names = st.lists(word, min_size=1, max_size=4).map(" ".join)
stages = st.sampled_from([None, *CareerStage])
interests = st.lists(st.sampled_from(["global health", "medical education", "ICU", "AI"]))


def someone(pid: int, name: str = "Someone", stage=None, department=None, likes=()):
    return SimpleNamespace(
        id=pid,
        name=name,
        email=f"p{pid}@example.edu",
        stage=stage,
        department_name=department,
        interests=list(likes),
    )


def test_the_earlier_career_person_writes_first():
    resident = someone(1, stage=CareerStage.PGY1)
    professor = someone(2, stage=CareerStage.SENIOR_FACULTY)
    student = someone(3, stage=CareerStage.MS2)
    assert first_mover([professor, resident], "chat:9") is resident
    assert first_mover([professor, resident, student], "chat:9") is student
    assert first_mover([someone(4), resident], "chat:9") is resident  # unknown stage: not first


def test_between_equal_stages_the_draw_is_fixed_and_fair():
    a, b = someone(1, stage=CareerStage.PGY2), someone(2, stage=CareerStage.PGY2)
    draws = [first_mover([a, b], f"chat:{n}") for n in range(400)]
    assert draws == [first_mover([b, a], f"chat:{n}") for n in range(400)]  # order-free
    assert 140 <= sum(d is a for d in draws) <= 260  # neither always waits


@settings(max_examples=150, deadline=None)
@given(names, names, stages, stages, st.none() | names, interests, interests, names)
def test_a_formal_first_approach_is_150_to_250_words_and_names_both(
    trainee_name, mentor_name, t_stage, m_stage, department, t_likes, m_likes, program
):
    trainee = someone(1, trainee_name, t_stage, department, t_likes)
    mentor = someone(2, mentor_name, m_stage, department, m_likes)
    ask = formal_ask(trainee, mentor, program)
    assert FORMAL_WORDS[0] <= ask.words <= FORMAL_WORDS[1]
    assert mentor.name in ask.body and trainee.name in ask.body and program in ask.subject
    assert "20 minutes" in ask.body and "[Day and time]" in ask.body


def test_the_formal_approach_on_real_names_is_within_the_guide():
    trainee = someone(1, "Priya Natarajan", CareerStage.PGY1, "Internal Medicine", ["ICU"])
    mentor = someone(2, "Dr. Miguel Santos", CareerStage.SENIOR_FACULTY, "Cardiology", ["ICU"])
    ask = formal_ask(trainee, mentor, "Internal Medicine Residency")
    assert FORMAL_WORDS[0] <= ask.words <= FORMAL_WORDS[1]
    assert "share an interest in ICU" in ask.body
    bare = formal_ask(someone(1, "Al Li"), someone(2, "Bo Wu"), "MD Program")
    assert FORMAL_WORDS[0] <= bare.words <= FORMAL_WORDS[1]


def test_a_coffee_ask_is_short_specific_and_time_bound():
    me = someone(1, "Ana Costa", CareerStage.MS3, "Pediatrics", ["AI"])
    them = [someone(2, "Ben Ode", CareerStage.PGY2, "Radiology", ["AI"]), someone(3, "Cy Po")]
    ask = coffee_ask(me, them, "MD Program")
    assert ask.words <= 90
    assert "Hi Ben Ode and Cy Po" in ask.body and "20 minutes" in ask.body
    assert "next two weeks" in ask.body and "We both list AI" in ask.body


def test_the_mailto_link_opens_the_same_note_to_every_partner():
    ask = coffee_ask(someone(1, "Zoë & Co"), [someone(2)], "A?B=C")
    link = mailto(["p2@example.edu", "jörg+x@example.edu"], ask)
    parts = urlsplit(link)
    assert parts.scheme == "mailto"
    assert [unquote(a) for a in parts.path.split(",")] == ["p2@example.edu", "jörg+x@example.edu"]
    query = parse_qs(parts.query)
    assert query["subject"] == [ask.subject] and query["body"] == [ask.body]


def formal_pair(app, make):
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    mentor = make.mentor(
        program, name="Dr. Miguel Santos", stage=CareerStage.SENIOR_FACULTY, interests=["ICU"]
    )
    trainee = make.trainee(
        program, name="Priya <b>Natarajan</b>", stage=CareerStage.PGY1, interests=["ICU"]
    )
    with app.test_request_context():
        update_settings(
            None,
            name="Riverside School of Medicine",
            suppression_threshold=5,
            mail_sender="mentoring@riverside.example.edu",
        )
        db.session.commit()
    make.assignment(
        term, mentor, trainee, started_at=datetime(2026, 9, 1, tzinfo=UTC), introduced=True
    )
    return program, mentor, trainee


def test_formal_intros_connect_the_pair_over_real_smtp(app, make):
    _, mentor, trainee = formal_pair(app, make)
    with SmtpServer() as smtp:
        app.config.update(smtp.config())
        with app.app_context():
            send_due()
        got = {m["To"]: m for m in smtp.messages}
    to_trainee, to_mentor = got[trainee.email], got[mentor.email]
    # From the institution, by name; a reply goes to the partner.
    assert to_trainee["From"] == "Riverside School of Medicine <mentoring@riverside.example.edu>"
    assert to_trainee["Reply-To"] == mentor.email and to_mentor["Reply-To"] == trainee.email
    assert to_trainee["Subject"] == "Internal Medicine Residency: meet Dr. Miguel Santos"
    text = to_trainee.get_body(("plain",)).get_content()
    html = to_trainee.get_body(("html",)).get_content()
    # The mentee writes first, with the first approach ready; the mentor is told to expect it.
    assert "You write first" in text and "Dear Dr. Miguel Santos" in text
    assert (
        f'href="mailto:{mentor.email}"' in html and "mailto:" + mentor.email + "?subject=" in html
    )
    mentor_text = to_mentor.get_body(("plain",)).get_content()
    assert (
        "Priya <b>Natarajan</b> will write to you" in mentor_text and trainee.email in mentor_text
    )
    assert "You write first" not in mentor_text
    mentor_html = to_mentor.get_body(("html",)).get_content()
    assert "<b>Natarajan</b>" not in mentor_html and "&lt;b&gt;Natarajan&lt;/b&gt;" in mentor_html


def test_home_pages_show_the_address_and_a_ready_note(app, client, make):
    _, mentor, trainee = formal_pair(app, make)
    login(client, trainee.email)
    page = client.get("/").get_data(as_text=True)
    assert f'href="mailto:{mentor.email}"' in page
    assert "a first note is ready" in page and f"mailto:{mentor.email}?subject=" in page
    client.post("/logout")
    login(client, mentor.email)
    page = client.get("/")
    assert trainee.email in text_of(page) and "a first note is ready" not in text_of(page)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 2


# --- one follow-up, then quiet ----------------------------------------------------------------

PUBLISHED = datetime(2026, 9, 1, tzinfo=UTC)


def follow_ups(app, now) -> list[Message]:
    with app.test_request_context():
        follow_up_intros(now)
        db.session.commit()
        found = db.session.scalars(
            sa.select(Message).where(Message.kind == "intro_follow_up").order_by(Message.id)
        ).all()
        db.session.expunge_all()
        return found


def test_a_quiet_introduction_gets_one_follow_up_to_the_first_mover_a_week_on(app, make):
    _, mentor, trainee = formal_pair(app, make)
    assert follow_ups(app, PUBLISHED + timedelta(days=6, hours=23)) == []
    sent = follow_ups(app, PUBLISHED + timedelta(days=7, hours=1))
    assert [m.to_address for m in sent] == [trainee.email]
    assert sent[0].reply_to == mentor.email and "Following up on my note" in sent[0].body_text
    assert "This is the only reminder" in sent[0].body_text
    # Never a second one, however often the tick runs.
    assert len(follow_ups(app, PUBLISHED + timedelta(days=12))) == 1


def test_no_follow_up_once_a_time_is_set_or_they_met(app, make):
    _, mentor, _ = formal_pair(app, make)
    with app.app_context():
        pair = db.session.scalar(sa.select(Assignment.id))
        db.session.add(
            CheckIn(
                person_id=mentor.id,
                assignment_id=pair,
                period_start=PUBLISHED.date(),
                status=CheckInStatus.SCHEDULED,
                answered_at=PUBLISHED + timedelta(days=3),
            )
        )
        db.session.commit()
    assert follow_ups(app, PUBLISHED + timedelta(days=8)) == []


def test_no_follow_up_once_times_were_proposed_in_hallway(app, make):
    from program.meetings.services import propose
    from program.pairings import pairing

    _, _mentor, trainee = formal_pair(app, make)
    with app.test_request_context():
        pair = db.session.scalar(sa.select(Assignment.id))
        propose(
            db.session.get(Person, trainee.id),
            pairing("assignment", pair),
            [PUBLISHED + timedelta(days=10)],
            now=PUBLISHED + timedelta(days=2),
        )
        db.session.commit()
    assert follow_ups(app, PUBLISHED + timedelta(days=8)) == []


def test_old_introductions_and_essential_only_people_get_none(app, make):
    _, _, trainee = formal_pair(app, make)
    assert follow_ups(app, PUBLISHED + timedelta(days=30)) == []  # past the horizon
    with app.app_context():
        db.session.get(Person, trainee.id).mail_preference = MailPreference.ESSENTIAL
        db.session.commit()
    assert follow_ups(app, PUBLISHED + timedelta(days=8)) == []
