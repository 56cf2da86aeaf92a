"""The term survey (program/surveys): opened by the tick near a term's end for everyone taking
part, answered from a scanner-safe link or the home page, changeable until it closes, at most two
reminders stopping at the target, and counts only for the coordinator."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from program.extensions import db
from program.messages.models import Message
from program.people.models import CareerStage
from program.programs.models import Program
from program.surveys.models import Survey, SurveyResponse
from program.surveys.services import response_token
from program.worker import tick
from tests.conftest import login, outbox, text_of

# The term runs from 1 August to 31 December 2026: its survey opens 14 days before its last day
# (17 December) and takes answers until 7 January 2027.
BEFORE = datetime(2026, 12, 16, 9, tzinfo=UTC)
OPENING = datetime(2026, 12, 17, 9, tzinfo=UTC)
CLOSED = datetime(2027, 1, 8, 9, tzinfo=UTC)


@pytest.fixture
def people(app, make, time_machine):
    time_machine.move_to(BEFORE, tick=False)
    program = make.program("Internal Medicine Residency", slug="im")
    coordinator = make.coordinator(program, name="Cora Ordinator")
    mentor = make.mentor(program, name="Dr. Miguel Santos", stage=CareerStage.SENIOR_FACULTY)
    pgy1 = [make.trainee(program, name=f"First {n}", stage=CareerStage.PGY1) for n in range(4)]
    pgy2 = [make.trainee(program, name=f"Second {n}", stage=CareerStage.PGY2) for n in range(2)]
    term = make.term(program, slug="fall")
    return {
        "program": program,
        "term": term,
        "coordinator": coordinator,
        "mentor": mentor,
        "pgy1": pgy1,
        "pgy2": pgy2,
    }


def opened(app, time_machine, at=OPENING):
    time_machine.move_to(at, tick=False)
    with app.app_context():
        counts = tick(at)
        db.session.commit()
    return counts


def link_of(app, person) -> str:
    with app.app_context():
        response = db.session.scalar(
            sa.select(SurveyResponse).where(SurveyResponse.person_id == person.id)
        )
        return f"/survey/{response_token(response)}"


def answer(client, url, **fields):
    data = {"career_person": "yes", "outside": "1-2", **fields}
    return client.post(url, data=data)


def stored(app, person) -> SurveyResponse:
    with app.app_context():
        found = db.session.scalar(
            sa.select(SurveyResponse).where(SurveyResponse.person_id == person.id)
        )
        db.session.expunge(found)
        return found


def test_the_tick_opens_the_survey_in_its_window_once_and_invites_everyone_taking_part(
    app, client, people, time_machine
):
    assert opened(app, time_machine, BEFORE)["surveys_invited"] == 0
    assert opened(app, time_machine)["surveys_invited"] == 7  # six trainees, one mentor
    assert opened(app, time_machine)["surveys_invited"] == 0  # never twice
    with app.app_context():
        survey = db.session.scalar(sa.select(Survey))
        assert (survey.opens_on, survey.closes_on) == (date(2026, 12, 17), date(2027, 1, 7))
        lines = dict(
            db.session.execute(
                sa.select(SurveyResponse.class_year, sa.func.count()).group_by(
                    SurveyResponse.class_year
                )
            ).all()
        )
        assert lines == {"PGY1": 4, "PGY2": 2, "Mentors": 1}
        mail = outbox(Message.kind == "survey_invitation")
        assert len(mail) == 7 and {m.to_address for m in mail} >= {"cora.ordinator@example.edu"} - {
            "cora.ordinator@example.edu"
        }
        first = next(m for m in mail if m.recipient_id == people["pgy1"][0].id)
        assert "Nobody, not your coordinator and not the dean, ever sees your own answers" in (
            first.body_text
        )
        assert re.search(r"http://localhost/survey/\S+", first.body_text)
    # The coordinator takes no part, and is not asked.
    assert people["coordinator"].id not in {m.recipient_id for m in mail}
    login(client, people["pgy1"][0].email)
    home = text_of(client.get("/"))
    assert "Your term survey" in home and "under a minute" in home


def test_the_link_shows_the_form_and_only_its_button_records(app, client, people, time_machine):
    opened(app, time_machine)
    trainee = people["pgy1"][0]
    url = link_of(app, trainee)
    page = client.get(url)  # what a mail scanner does
    assert page.status_code == 200 and "I have at least one person" in text_of(page)
    assert stored(app, trainee).answered_at is None
    done = answer(client, url, formal_satisfaction="5", coffee_satisfaction="0", led_to="referral")
    assert "Thank you: your answers are saved" in text_of(done)
    first = stored(app, trainee)
    assert (first.formal_satisfaction, first.coffee_satisfaction, first.career_person) == (
        5,
        0,
        True,
    )
    assert first.led_to == ["referral"] and first.answered_at == OPENING
    # Changed a day later: the answers are the new ones, the first answer's time kept.
    time_machine.move_to(OPENING + timedelta(days=1), tick=False)
    answer(client, url, formal_satisfaction="2", coffee_satisfaction="4", career_person="no")
    again = stored(app, trainee)
    assert (again.formal_satisfaction, again.coffee_satisfaction, again.career_person) == (
        2,
        4,
        False,
    )
    assert again.answered_at == OPENING and again.updated_at == OPENING + timedelta(days=1)
    # The form shows the saved answers on the next visit.
    form = client.get(url).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="formal_satisfaction"[^>]*value="2"', form)


def test_bad_answers_are_refused_with_a_message_and_nothing_is_written(
    app, client, people, time_machine
):
    opened(app, time_machine)
    trainee = people["pgy1"][1]
    url = link_of(app, trainee)
    missing = client.post(url, data={"formal_satisfaction": "4", "coffee_satisfaction": "4"})
    assert "Choose yes or no." in text_of(missing)
    both = answer(
        client, url, formal_satisfaction="4", coffee_satisfaction="4", led_to=["none", "referral"]
    )
    assert "“None of these” cannot go with another answer." in text_of(both)
    forged = client.post(url, data={"formal_satisfaction": "9", "career_person": "yes"})
    assert forged.status_code == 200 and "Not a valid choice" in text_of(forged)
    # A mentor-only question from a trainee is not on their form, and not recorded.
    answer(client, url, formal_satisfaction="4", coffee_satisfaction="4", mentor_load="too_much")
    assert stored(app, trainee).mentor_load is None
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(SurveyResponse.answered_at.is_not(None))
            )
            == 1
        )


def test_after_closing_the_survey_takes_no_answer(app, client, people, time_machine):
    opened(app, time_machine)
    url = link_of(app, people["pgy2"][0])
    time_machine.move_to(CLOSED, tick=False)
    page = client.get(url)
    assert "This survey closed on 07 January 2027" in text_of(page)
    refused = answer(client, url, formal_satisfaction="5", coffee_satisfaction="5")
    assert "This survey closed on 07 January 2027" in text_of(refused)
    assert stored(app, people["pgy2"][0]).answered_at is None


def test_a_link_is_refused_when_forged_or_opened_by_someone_else(app, client, people, time_machine):
    opened(app, time_machine)
    url = link_of(app, people["pgy1"][0])
    assert client.get(url[:-4] + "abcd").status_code == 400
    login(client, people["pgy1"][1].email)
    assert client.get(url).status_code == 403
    with app.app_context():
        theirs = db.session.scalar(
            sa.select(SurveyResponse.id).where(SurveyResponse.person_id == people["pgy1"][0].id)
        )
    assert client.get(f"/surveys/{theirs}").status_code == 404


def test_reminders_go_twice_at_most_and_only_to_class_years_under_the_target(
    app, client, people, time_machine
):
    opened(app, time_machine)
    # Three of four PGY1s answer (75% >= 70%); no PGY2 does; the mentor does not.
    for trainee in people["pgy1"][:3]:
        answer(client, link_of(app, trainee), formal_satisfaction="4", coffee_satisfaction="4")
    assert opened(app, time_machine, OPENING + timedelta(days=4))["surveys_reminded"] == 0
    assert opened(app, time_machine, OPENING + timedelta(days=5))["surveys_reminded"] == 3
    assert opened(app, time_machine, OPENING + timedelta(days=6))["surveys_reminded"] == 0
    with app.app_context():
        reminded = {m.recipient_id for m in outbox(Message.kind == "survey_reminder")}
        assert reminded == {p.id for p in people["pgy2"]} | {people["mentor"].id}
    # The PGY2s reach the target; the second reminder goes to the mentor alone.
    for trainee in people["pgy2"]:
        answer(client, link_of(app, trainee), formal_satisfaction="3", coffee_satisfaction="4")
    assert opened(app, time_machine, OPENING + timedelta(days=10))["surveys_reminded"] == 1
    assert opened(app, time_machine, OPENING + timedelta(days=15))["surveys_reminded"] == 0
    with app.app_context():
        second = outbox(
            Message.kind == "survey_reminder", Message.recipient_id == people["mentor"].id
        )
        assert len(second) == 2 and "A reminder" in second[-1].subject


def test_the_coordinator_sees_counts_and_never_an_answer(app, client, make, people, time_machine):
    opened(app, time_machine)
    answer(
        client, link_of(app, people["pgy1"][0]), formal_satisfaction="1", coffee_satisfaction="5"
    )
    login(client, people["coordinator"].email)
    page = text_of(client.get("/programs/im/terms/fall/survey"))
    assert "PGY1 4 1 25% not yet" in page and "All 7 1 14%" in page
    # Nobody's answer, and nobody's name: whether one person answered is theirs alone.
    assert "First 0" not in page and "Dr. Miguel Santos" not in page
    assert "Term survey: 1 of 7 answered (14%" in text_of(client.get("/programs/im/"))
    # Another program's coordinator, a trainee: refused.
    other = make.program("Surgery", slug="surg")
    stranger = make.coordinator(other, name="Other Coordinator")
    for who in (stranger, people["pgy1"][0]):
        browser = app.test_client()
        login(browser, who.email)
        assert browser.get("/programs/im/terms/fall/survey").status_code == 403


def test_the_programs_own_questions_are_asked_from_the_next_survey(
    app, client, people, time_machine
):
    login(client, people["coordinator"].email)
    url = "/programs/im/terms/fall/survey"
    refused = client.post(url, data={"days_before_end": "0", "target_percent": "70"})
    assert "Number must be between 1 and 60" in text_of(refused)
    saved = client.post(
        url,
        data={
            "days_before_end": "10",
            "target_percent": "80",
            "question_0": "Did the program help you choose a specialty?",
            "kind_0": "yes_no",
            "question_1": "  ",
            "kind_1": "scale",
            "kind_2": "scale",
        },
        follow_redirects=True,
    )
    assert "Survey settings saved" in text_of(saved)
    with app.app_context():
        program = db.session.scalar(sa.select(Program).where(Program.slug == "im"))
        assert program.survey_questions == [
            {"text": "Did the program help you choose a specialty?", "kind": "yes_no"}
        ]
    # Ten days before the end (21 December), not fourteen.
    assert opened(app, time_machine)["surveys_invited"] == 0
    assert opened(app, time_machine, datetime(2026, 12, 21, 9, tzinfo=UTC))["surveys_invited"] == 7
    trainee, browser = people["pgy1"][0], app.test_client()
    url = link_of(app, trainee)
    assert "Did the program help you choose a specialty?" in text_of(browser.get(url))
    answer(browser, url, formal_satisfaction="4", coffee_satisfaction="4", own_0="yes")
    assert stored(app, trainee).own_answers == ["yes"]


def test_a_survey_opened_late_opens_today_and_reminds_days_after_its_invitation(
    app, people, time_machine
):
    late = OPENING + timedelta(days=8)  # the worker was down for a week
    counts = opened(app, time_machine, late)
    assert (counts["surveys_invited"], counts["surveys_reminded"]) == (7, 0)
    with app.app_context():
        assert db.session.scalar(sa.select(Survey.opens_on)) == late.date()
    assert opened(app, time_machine, late + timedelta(days=4))["surveys_reminded"] == 0
    assert opened(app, time_machine, late + timedelta(days=5))["surveys_reminded"] == 7
