"""Mentor availability: asked once per term, answered in one click (nothing written by a GET),
one reminder, and the coordinator's overview of capacity against trainees."""

from __future__ import annotations

import re

import sqlalchemy as sa

from program.extensions import db
from program.formal.models import Availability
from program.messages.models import Message
from tests.accounts.test_accounts import snapshot
from tests.conftest import login, text_of
from tests.test_permissions import CONFIRMED


def setup(make, client):
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    coordinator = make.coordinator(program)
    mentors = [make.mentor(program, name=f"Dr. Mentor {n}") for n in range(3)]
    for _ in range(4):
        make.trainee(program)
    login(client, coordinator.email)
    return program, term, mentors


def links_in(app, email: str) -> dict[str, str]:
    with app.app_context():
        message = db.session.scalars(
            sa.select(Message).where(Message.to_address == email).order_by(Message.id.desc())
        ).first()
        return dict(
            re.findall(
                r"^(Yes, I can mentor|Not this term): http://localhost(\S+)$",
                message.body_text,
                flags=re.M,
            )
        )


def test_ask_answer_by_link_and_see_capacity(app, client, make):
    _, _, mentors = setup(make, client)
    asked = text_of(client.post("/programs/im/terms/fall/availability/request"))
    assert "Ask mentors for their availability? This e-mails 3 people." in asked
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
    response = client.post(
        "/programs/im/terms/fall/availability/request", data=CONFIRMED, follow_redirects=True
    )
    assert "Availability asked of 3 mentors." in text_of(response)
    # Nobody left to ask: no question, and the page says so.
    again = client.post("/programs/im/terms/fall/availability/request", follow_redirects=True)
    assert "asked of 0 mentors (3 had been asked before)" in text_of(again)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 3

    yes = links_in(app, mentors[0].email)["Yes, I can mentor"]
    answerer = app.test_client()
    before = snapshot(app)
    page = answerer.get(yes)
    assert page.status_code == 200 and snapshot(app) == before  # opening writes nothing
    assert re.search(r'<input checked[^>]*value="yes"', page.get_data(as_text=True))
    response = answerer.post(
        yes, data={"accepting": "yes", "capacity": "3", "topics": "research careers"}
    )
    assert "You can take 3 mentees" in text_of(response)
    assert answerer.get(yes).status_code == 400  # used

    no = links_in(app, mentors[1].email)["Not this term"]
    answerer.post(no, data={"accepting": "no"})
    overview = text_of(client.get("/programs/im/terms/fall/availability"))
    assert "3 mentoring places offered for 4 trainees" in overview
    assert "Not enough yet." in overview
    assert "research careers" in overview and "waiting" in overview

    asked = text_of(client.post("/programs/im/terms/fall/availability/remind"))
    assert "Remind the mentors who have not answered? This e-mails 1 person." in asked
    response = client.post(
        "/programs/im/terms/fall/availability/remind", data=CONFIRMED, follow_redirects=True
    )
    assert "A reminder went to 1 mentors" in text_of(response)
    response = client.post("/programs/im/terms/fall/availability/remind", follow_redirects=True)
    assert "Nobody is waiting for a first reminder." in text_of(response)
    with app.app_context():
        reminder = db.session.scalar(sa.select(Message).where(Message.kind == "reminder"))
        assert reminder.to_address == mentors[2].email
        assert reminder.subject.startswith("Reminder: can you mentor")


def test_a_capacity_out_of_range_is_refused(app, client, make):
    _, _, mentors = setup(make, client)
    client.post("/programs/im/terms/fall/availability/request", data=CONFIRMED)
    yes = links_in(app, mentors[0].email)["Yes, I can mentor"]
    before = snapshot(app)
    response = app.test_client().post(yes, data={"accepting": "yes", "capacity": "40"})
    assert "Number must be between 1 and 10" in text_of(response)
    assert snapshot(app) == before


def test_mentors_answer_from_their_home_page(app, client, make):
    _, _, mentors = setup(make, client)
    client.post("/programs/im/terms/fall/availability/request", data=CONFIRMED)
    mentor = app.test_client()
    login(mentor, mentors[0].email)
    home = mentor.get("/").get_data(as_text=True)
    url = re.search(r'href="(/availability/mine/\d+)"', home).group(1)
    mentor.post(url, data={"accepting": "yes", "capacity": "2"})
    with app.app_context():
        answer = db.session.scalar(
            sa.select(Availability).where(Availability.person_id == mentors[0].id)
        )
        assert (answer.accepting, answer.capacity) == (True, 2)
    assert "Can you mentor this term?" not in text_of(mentor.get("/"))


def test_the_mentors_waiting_for_an_answer_come_first_a_page_at_a_time(
    app, client, make, monkeypatch
):
    from program.db import utc_now
    from program.formal import views

    program, term, mentors = setup(make, client)
    late = make.mentor(program, name="Dr. Mentor 3")  # not asked: joined after the request
    make.availability(term, mentors[0], capacity=2)
    make.availability(term, mentors[1])  # asked, no answer yet
    url = "/programs/im/terms/fall/availability"
    page = text_of(client.get(url))
    assert "4 mentors in the formal track: 1 waiting for an answer, 2 not asked yet." in page
    order = [page.index(f"Dr. Mentor {n}") for n in (1, 2, 3, 0)]
    assert order == sorted(order), "waiting, then not asked (by family name), then yes"

    monkeypatch.setattr(views, "AVAILABILITY_PER_PAGE", 3)
    first, second = text_of(client.get(url)), text_of(client.get(f"{url}?page=2"))
    assert "(listed first)" in first and "Dr. Mentor 0" not in first
    assert "Dr. Mentor 0 Yes 2" in second and "Dr. Mentor 1" not in second
    assert client.get(f"{url}?page=3").status_code == 404
    # Once every mentor has answered, the page says so.
    make.availability(term, mentors[2], capacity=1)
    make.availability(term, late, capacity=1)
    with app.app_context():
        waiting = db.session.scalar(
            sa.select(Availability).where(Availability.answered_at.is_(None))
        )
        waiting.answered_at, waiting.accepting, waiting.capacity = utc_now(), True, 1
        db.session.commit()
    assert "4 mentors in the formal track: every one has answered." in text_of(client.get(url))


def test_the_overview_names_a_few_of_those_not_answering_and_counts_the_rest(
    app, client, make, monkeypatch
):
    from datetime import timedelta

    from program.coffee.models import Enrollment
    from program.db import utc_now
    from program.home import dashboard

    program, term, mentors = setup(make, client)
    for mentor in mentors:
        make.availability(term, mentor)  # all three asked, none answered
    with app.app_context():
        for person in mentors[:2]:
            db.session.add(
                Enrollment(
                    program_id=program.id,
                    person_id=person.id,
                    snoozed_until=utc_now().date() + timedelta(days=30),
                    snooze_reason="unanswered",
                )
            )
        db.session.commit()
    page = text_of(client.get("/programs/im/"))
    assert (
        "3 mentors have not answered the availability request: "
        "Dr. Mentor 0, Dr. Mentor 1, Dr. Mentor 2 ·" in page
    )
    assert (
        "2 people paused after three unanswered coffee intros: Dr. Mentor 0, Dr. Mentor 1" in page
    )
    monkeypatch.setattr(dashboard, "NAMED", 1)
    page = text_of(client.get("/programs/im/"))
    assert "not answered the availability request: Dr. Mentor 0 and 2 more" in page
    assert "unanswered coffee intros: Dr. Mentor 0 and 1 more" in page
