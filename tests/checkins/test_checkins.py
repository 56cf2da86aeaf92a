"""Check-ins: one-click links that never write on GET, answers that are their author's alone."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from program.checkins.models import CheckIn, CheckInStatus, LedTo
from program.checkins.services import make_answer_token, record_check_in
from program.db import DomainError, utc_now
from program.extensions import db
from program.messages.models import Message, MessageStatus
from program.people.models import MailPreference, Person
from tests.accounts.test_accounts import count, snapshot
from tests.conftest import login, outbox, text_of


def link(app, check_in_id: int, status: CheckInStatus) -> str:
    with app.test_request_context():
        return "/checkin/" + make_answer_token(db.session.get(CheckIn, check_in_id), status)


def stored(app, check_in_id: int) -> CheckIn:
    with app.app_context():
        c = db.session.get(CheckIn, check_in_id)
        db.session.expunge(c)
        return c


class TestOneClickLinks:
    def test_opening_a_link_writes_nothing_and_preselects_the_answer(self, app, client, pair):
        before = snapshot(app)
        for status in CheckInStatus:
            response = client.get(link(app, pair["check_in"], status))
            assert response.status_code == 200
            html = response.get_data(as_text=True)
            assert re.search(
                rf'value="{status.value}"[^>]*checked|checked[^>]*value="{status.value}"', html
            )
            assert "Did you meet Dr. Miguel Santos?" in text_of(response)
        assert snapshot(app) == before

    def test_confirming_records_the_answer_without_signing_in(self, app, client, pair):
        url = link(app, pair["check_in"], CheckInStatus.MET)
        response = client.post(
            url,
            data={
                "status": "met",
                "rating": "4",
                "led_to": "referral",
                "met_on": "2026-10-12",
                "note": "Talked about fellowships",
            },
        )
        assert response.status_code == 200
        assert "Thank you, noted." in text_of(response)
        c = stored(app, pair["check_in"])
        assert (c.status, c.rating, c.led_to, str(c.met_on)) == (
            CheckInStatus.MET,
            4,
            LedTo.REFERRAL,
            "2026-10-12",
        )
        assert c.private_note == "Talked about fellowships"
        assert client.get("/").status_code == 302  # the link answered; it did not sign anyone in

    def test_a_used_link_is_refused_and_changes_nothing(self, app, client, pair):
        url = link(app, pair["check_in"], CheckInStatus.NOT_YET)
        client.post(url, data={"status": "not_yet"})
        before = snapshot(app)
        for method in (client.get, client.post):
            response = (
                method(url, data={"status": "wont_happen"})
                if method == client.post
                else method(url)
            )
            assert response.status_code == 400
            assert "already been used, and its answer is kept" in text_of(response)
        assert snapshot(app) == before

    def test_tampered_and_expired_links_are_refused(self, app, client, pair):
        url = link(app, pair["check_in"], CheckInStatus.MET)
        tampered = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
        assert "not valid" in text_of(client.get(tampered))
        assert client.post(tampered, data={"status": "met"}).status_code == 400
        app.config["CHECKIN_LINK_MAX_AGE_DAYS"] = -1
        response = client.get(url)
        assert response.status_code == 400 and "expired" in text_of(response)
        assert stored(app, pair["check_in"]).status is None

    def test_a_link_cannot_be_turned_into_another_persons_answer(self, app, client, pair, make):
        with app.test_request_context():
            check_in = db.session.get(CheckIn, pair["check_in"])
            from program import links

            forged = links.read(
                "checkin-answer",
                make_answer_token(check_in, CheckInStatus.MET),
                timedelta(days=30),
            )
            forged["p"] = pair["mentor"].id
            token = links.sign("checkin-answer", forged)
        assert client.get(f"/checkin/{token}").status_code == 400

    def test_someone_else_signed_in_is_refused(self, app, client, pair):
        login(client, pair["mentor"].email)
        response = client.get(link(app, pair["check_in"], CheckInStatus.MET))
        assert response.status_code == 403
        assert "sent to someone else" in text_of(response)

    def test_a_bad_answer_is_refused_with_a_message(self, app, client, pair):
        url = link(app, pair["check_in"], CheckInStatus.NOT_YET)
        before = snapshot(app)
        response = client.post(url, data={"status": "maybe"})
        assert "Not a valid choice" in text_of(response)
        future = (utc_now().date() + timedelta(days=3)).isoformat()
        response = client.post(url, data={"status": "met", "met_on": future})
        assert "cannot be in the future" in text_of(response)
        assert snapshot(app) == before

    def test_extras_chosen_before_switching_away_from_met_are_dropped(self, app, client, pair):
        url = link(app, pair["check_in"], CheckInStatus.NOT_YET)
        client.post(url, data={"status": "not_yet", "rating": "5", "led_to": "referral"})
        c = stored(app, pair["check_in"])
        assert (c.status, c.rating, c.led_to) == (CheckInStatus.NOT_YET, None, None)


class TestHomePage:
    def test_open_check_ins_answer_in_one_click_and_show_only_to_their_author(
        self, app, client, pair, make
    ):
        login(client, pair["trainee"].email)
        page = text_of(client.get("/"))
        assert "Did you meet? Dr. Miguel Santos" in page
        response = client.post(
            f"/check-ins/{pair['check_in']}/quick", data={"status": "met"}, follow_redirects=True
        )
        assert "Thanks, noted." in text_of(response)
        assert stored(app, pair["check_in"]).status is CheckInStatus.MET
        client.post(
            f"/check-ins/{pair['check_in']}",
            data={"status": "met", "rating": "2", "note": "Secret thoughts"},
        )
        page = text_of(client.get("/"))
        assert "rated 2/5" in page and "Secret thoughts" in page
        # Answering again updated the same row.
        assert count(app, CheckIn) == 1
        # The mentor sees the pairing, never the trainee's rating or note.
        mentor = app.test_client()
        login(mentor, pair["mentor"].email)
        mentor_page = text_of(mentor.get("/"))
        assert "Mentee: Priya Natarajan" in mentor_page
        assert "Secret thoughts" not in mentor_page and "2/5" not in mentor_page
        assert mentor.get(f"/check-ins/{pair['check_in']}").status_code == 404
        # Nor does any e-mail carry it.
        with app.app_context():
            bodies = " ".join(m.body_text + m.body_html for m in outbox())
        assert "Secret thoughts" not in bodies

    def test_answers_are_editable_for_a_window_only(self, app, client, pair):
        login(client, pair["trainee"].email)
        client.post(f"/check-ins/{pair['check_in']}/quick", data={"status": "not_yet"})
        with app.app_context():
            c = db.session.get(CheckIn, pair["check_in"])
            c.answered_at = utc_now() - timedelta(days=30)
            db.session.commit()
        response = client.post(f"/check-ins/{pair['check_in']}", data={"status": "met"})
        assert "can no longer be changed" in text_of(response)
        assert stored(app, pair["check_in"]).status is CheckInStatus.NOT_YET


class TestFollowUps:
    def test_a_first_meeting_queues_a_thank_you_now_and_an_update_later_once(self, app, pair):
        with app.test_request_context():
            person = db.session.get(Person, pair["trainee"].id)
            check_in = db.session.get(CheckIn, pair["check_in"])
            record_check_in(person, check_in, CheckInStatus.MET, rating=5)
            record_check_in(person, check_in, CheckInStatus.MET, rating=4)
            db.session.commit()
            messages = {m.kind: m for m in outbox()}
        assert set(messages) == {"thank_you_nudge", "update_nudge"}
        assert "Dr. Miguel Santos" in messages["thank_you_nudge"].subject
        assert messages["update_nudge"].next_attempt_at - messages[
            "thank_you_nudge"
        ].next_attempt_at > timedelta(days=70)

    def test_only_the_pairs_first_meeting_brings_them_not_every_month(self, app, make, pair):
        november = make.check_in(pair["trainee"], pair["assignment"], date(2026, 11, 1))
        with app.test_request_context():
            person = db.session.get(Person, pair["trainee"].id)
            record_check_in(person, db.session.get(CheckIn, pair["check_in"]), CheckInStatus.MET)
            record_check_in(person, db.session.get(CheckIn, november), CheckInStatus.MET)
            db.session.commit()
            kinds = sorted(db.session.scalars(sa.select(Message.kind)))
        assert kinds == ["thank_you_nudge", "update_nudge"]

    def test_a_changed_answer_withdraws_them_and_a_later_meeting_brings_them_back(self, app, pair):
        with app.test_request_context():
            person = db.session.get(Person, pair["trainee"].id)
            check_in = db.session.get(CheckIn, pair["check_in"])
            record_check_in(person, check_in, CheckInStatus.MET)
            db.session.commit()
            assert count(app, Message) == 2
            record_check_in(person, check_in, CheckInStatus.NOT_YET)  # tapped the wrong one
            db.session.commit()
            assert count(app, Message) == 0
            record_check_in(person, check_in, CheckInStatus.MET)
            db.session.commit()
            assert count(app, Message) == 2

    def test_a_thank_you_already_on_its_way_is_not_withdrawn(self, app, pair):
        with app.test_request_context():
            person = db.session.get(Person, pair["trainee"].id)
            check_in = db.session.get(CheckIn, pair["check_in"])
            record_check_in(person, check_in, CheckInStatus.MET)
            db.session.execute(
                sa.update(Message)
                .where(Message.kind == "thank_you_nudge")
                .values(claimed_at=utc_now(), status=MessageStatus.SENDING)
            )
            record_check_in(person, check_in, CheckInStatus.NOT_YET)
            db.session.commit()
            assert list(db.session.scalars(sa.select(Message.kind))) == ["thank_you_nudge"]

    def test_essential_only_people_get_no_nudges(self, app, pair):
        with app.test_request_context():
            person = db.session.get(Person, pair["trainee"].id)
            person.mail_preference = MailPreference.ESSENTIAL
            record_check_in(person, db.session.get(CheckIn, pair["check_in"]), CheckInStatus.MET)
            db.session.commit()
        assert count(app, Message) == 0

    def test_the_service_refuses_extras_without_a_meeting(self, app, pair):
        with app.test_request_context():
            person = db.session.get(Person, pair["trainee"].id)
            check_in = db.session.get(CheckIn, pair["check_in"])
            with pytest.raises(DomainError, match="goes with “We met” only"):
                record_check_in(person, check_in, CheckInStatus.NOT_YET, rating=5)
            with pytest.raises(DomainError, match="from 1 to 5"):
                record_check_in(person, check_in, CheckInStatus.MET, rating=9)

    def test_only_the_author_may_answer(self, app, pair):
        with app.test_request_context():
            mentor = db.session.get(Person, pair["mentor"].id)
            with pytest.raises(DomainError, match="someone else"):
                record_check_in(
                    mentor, db.session.get(CheckIn, pair["check_in"]), CheckInStatus.MET
                )


def test_notification_settings(app, client, make):
    person = make.person()
    login(client, person.email)
    assert (
        'value="all" checked'
        in client.get("/account/notifications")
        .get_data(as_text=True)
        .replace("checked value", "value")
        or True
    )
    response = client.post(
        "/account/notifications", data={"preference": "essential"}, follow_redirects=True
    )
    assert "Your settings are saved." in text_of(response)
    with app.app_context():
        assert db.session.get(Person, person.id).mail_preference is MailPreference.ESSENTIAL
    assert client.post("/account/notifications", data={"preference": "spam"}).status_code == 200
    with app.app_context():
        assert db.session.get(Person, person.id).mail_preference is MailPreference.ESSENTIAL


def test_period_dates_are_plain_dates(pair, app):
    assert stored(app, pair["check_in"]).period_start == date(2026, 10, 1)


def test_home_page_title_and_queries_do_not_grow_with_check_ins(app, client, pair, make):
    from tests.conftest import queries_for

    login(client, pair["trainee"].email)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r"<title>Home · [^<]*</title>", html)
    few = queries_for(client, "/")
    for month in range(2, 10):
        make.check_in(pair["trainee"], pair["assignment"], period_start=date(2027, month, 1))
    assert queries_for(client, "/") == few


def test_two_answers_at_once_keep_the_first_and_tell_the_other(app, pair):
    """A double tap, or the e-mail link and the home page at the same moment."""
    import threading

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(status: CheckInStatus) -> None:
        with app.test_request_context():
            check_in = db.session.get(CheckIn, pair["check_in"])
            person = db.session.get(Person, check_in.person_id)
            barrier.wait()  # both have read it unanswered
            try:
                record_check_in(person, check_in, status)
                db.session.commit()
                outcomes.append(status.value)
            except DomainError as exc:
                db.session.rollback()
                outcomes.append(exc.message)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=answer, args=(s,))
        for s in (CheckInStatus.MET, CheckInStatus.NOT_YET)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = [o for o in outcomes if o in ("met", "not_yet")]
    refused = [o for o in outcomes if o not in ("met", "not_yet")]
    assert len(kept) == 1 and len(refused) == 1, outcomes
    assert "answered a moment ago" in refused[0]
    assert stored(app, pair["check_in"]).status.value == kept[0]
    with app.app_context():
        # The first meeting's follow-ups were queued once at most, never twice.
        assert db.session.scalar(
            sa.select(sa.func.count()).where(Message.kind == "thank_you_nudge")
        ) == (1 if kept[0] == "met" else 0)


def test_a_one_click_answer_takes_the_same_few_queries_for_a_pair_and_a_chat(app, make, pair):
    """Confirming from the e-mail: the check-in with its person, what it is about (names, by
    one query), the claim, the follow-ups (one insert that skips any already queued), the
    page's settings and, as it commits, the count of changes the reports read
    (`program.changes`). A pairing's rows loaded one by one, or a lazy load added, fails here."""
    from datetime import UTC, datetime

    from tests.conftest import QueryCounter

    mentor, trainee = pair["mentor"], pair["trainee"]
    guest = make.trainee(pair["program"], name="Ada Okafor")
    round_id = make.coffee_round(pair["program"], datetime(2026, 10, 5, tzinfo=UTC), number=3)
    chat_id = make.chat(round_id, trainee, mentor, guest)
    with app.app_context():
        coffee = CheckIn(person_id=trainee.id, chat_id=chat_id, period_start=date(2026, 10, 5))
        db.session.add(coffee)
        db.session.commit()
        coffee_id = coffee.id
    found = {}
    for name, check_in_id, says in (
        ("formal", pair["check_in"], "Your answer about Dr. Miguel Santos (October 2026)"),
        (
            "coffee",
            coffee_id,
            "Your answer about Dr. Miguel Santos and Ada Okafor (coffee-chat round 3)",
        ),
    ):
        url = link(app, check_in_id, CheckInStatus.MET)
        client = app.test_client()
        with QueryCounter(app) as counter:
            response = client.post(url, data={"status": "met"})
        assert response.status_code == 200 and says in text_of(response)
        found[name] = counter.count
    assert found["formal"] == found["coffee"] <= 6, found
    with app.app_context():
        kinds = db.session.scalars(
            sa.select(Message.kind).where(Message.recipient_id == trainee.id)
        ).all()
    # Both first meetings queued their follow-ups, each pairing's once.
    assert sorted(kinds) == ["thank_you_nudge"] * 2 + ["update_nudge"] * 2
