"""Chats people start themselves: the listing, the directory's filters, ranking and privacy, the
guided ask and its limits, one-click answers, the follow-up and quiet close, referrals, guests,
and query counts that stay flat."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from program.asks.asks import answer_link, follow_up_asks
from program.asks.models import Ask, AskStatus, Listing, Meets, OutsideReferral
from program.checkins.models import CheckIn
from program.coffee.models import Chat
from program.db import insert_rows, utc_now
from program.extensions import db
from program.messages.models import Message
from program.people.models import CareerStage, PairingBlock, Person
from program.programs.models import Membership, Role
from program.worker import tick
from tests.conftest import login, outbox, queries_for, text_of


def listed_in(app, person, program, topics=(), note="", asks_per_month=2, paused=False):
    with app.app_context():
        db.session.add(
            Listing(
                program_id=program.id,
                person_id=person.id,
                topics=list(topics),
                topics_key="|" + "".join(f"{t.lower()}|" for t in topics),
                note=note,
                asks_per_month=asks_per_month,
                paused=paused,
            )
        )
        db.session.commit()


@pytest.fixture
def world(app, make):
    """Ida (PGY1, Medicine, global health) looks for people. Ana (PGY3, Surgery) shares her
    interest; Ben (PGY2) is in her own department; Cy is faculty; Dee put Ida on her private
    list; Eve is paused; Fay is in another program."""
    program = make.program("Internal Medicine Residency", slug="im")
    other = make.program("Surgery Residency", slug="surgery")
    ida = make.trainee(
        program,
        name="Ida Asker",
        stage=CareerStage.PGY1,
        department="Medicine",
        interests=["global health"],
    )
    ana = make.trainee(program, name="Ana Ahead", stage=CareerStage.PGY3, department="Surgery")
    ben = make.trainee(program, name="Ben Same", stage=CareerStage.PGY2, department="Medicine")
    cy = make.mentor(program, name="Cy Faculty", department="Surgery")
    dee = make.trainee(program, name="Dee Hidden", stage=CareerStage.PGY3, department="Surgery")
    eve = make.trainee(program, name="Eve Paused", stage=CareerStage.PGY3, department="Surgery")
    fay = make.trainee(other, name="Fay Elsewhere", stage=CareerStage.PGY3, department="Surgery")
    coordinator = make.coordinator(program, name="Cora Coordinator")
    listed_in(app, ana, program, ["Global Health", "surgery"], note="Ask me about rural surgery.")
    listed_in(app, ben, program, ["research"])
    listed_in(app, cy, program, ["quality"])
    listed_in(app, dee, program, ["global health"])
    listed_in(app, eve, program, ["global health"], paused=True)
    listed_in(app, fay, other, ["global health"])
    with app.app_context():
        db.session.add(PairingBlock(person_id=dee.id, blocked_id=ida.id))
        db.session.commit()
    return {
        "program": program,
        "ida": ida,
        "ana": ana,
        "ben": ben,
        "cy": cy,
        "dee": dee,
        "eve": eve,
        "fay": fay,
        "coordinator": coordinator,
    }


def names_on(client, query=""):
    page = text_of(client.get(f"/programs/im/directory{query}"))
    return [
        n for n in ("Ana Ahead", "Ben Same", "Cy Faculty", "Dee Hidden", "Eve Paused") if n in page
    ]


def order_on(client, query=""):
    html = client.get(f"/programs/im/directory{query}").get_data(as_text=True)
    page = html.split('class="list-unstyled"', 1)[-1]  # the results, not the suggestions
    names = ("Ana Ahead", "Ben Same", "Cy Faculty")
    found = [
        (page.find(f"<strong>{n}</strong>"), n) for n in names if f"<strong>{n}</strong>" in page
    ]
    return [n for _, n in sorted(found)]


def test_a_listing_is_off_by_default_and_its_owner_opens_pauses_and_stops_it(app, client, world):
    viewer = app.test_client()
    login(viewer, world["ida"].email)
    login(client, world["ben"].email)
    with app.app_context():
        db.session.execute(sa.delete(Listing).where(Listing.person_id == world["ben"].id))
        db.session.commit()
    assert "Ben Same" not in names_on(viewer)
    page = text_of(client.get("/programs/im/directory/me"))
    assert "Open to a coffee" in page
    response = client.post(
        "/programs/im/directory/me",
        data={
            "note": "Happy to talk research years.",
            "topics": "Research, global health, research",
            "asks_per_month": "3",
            "meets": "video",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        mine = db.session.scalar(sa.select(Listing).where(Listing.person_id == world["ben"].id))
        assert mine.topics == ["Research", "global health"] and mine.asks_per_month == 3
        assert mine.meets is Meets.VIDEO and mine.open and not mine.paused
    assert "Ben Same" in names_on(viewer)
    assert "Happy to talk research years." in text_of(viewer.get("/programs/im/directory"))

    client.post("/programs/im/directory/me/state", data={"action": "pause"})
    assert "Ben Same" not in names_on(viewer)
    # Changing the note while paused keeps the pause.
    client.post(
        "/programs/im/directory/me",
        data={
            "note": "Back in May.",
            "topics": "research",
            "asks_per_month": "3",
            "meets": "video",
        },
    )
    assert "Ben Same" not in names_on(viewer)
    client.post("/programs/im/directory/me/state", data={"action": "resume"})
    assert "Ben Same" in names_on(viewer)
    client.post("/programs/im/directory/me/state", data={"action": "stop"})
    assert "Ben Same" not in names_on(viewer)

    # Bad input: refused with a message, nothing changed.
    page = text_of(
        client.post(
            "/programs/im/directory/me",
            data={"topics": "x" * 61, "asks_per_month": "2", "meets": "either"},
        )
    )
    assert "under 60 characters" in page
    with app.app_context():
        assert not db.session.scalar(
            sa.select(Listing.open).where(Listing.person_id == world["ben"].id)
        )


def test_someone_outside_the_coffee_track_cannot_list_themselves(app, client, world, make):
    with app.app_context():
        db.session.execute(
            sa.update(Membership)
            .where(Membership.person_id == world["ben"].id)
            .values(coffee_track=False)
        )
        db.session.commit()
    login(client, world["ben"].email)
    assert client.get("/programs/im/directory/me").status_code == 403
    # And while out of the track, their old listing is not shown.
    viewer = app.test_client()
    login(viewer, world["ida"].email)
    assert "Ben Same" not in names_on(viewer)


def test_the_directory_filters_and_never_shows_hidden_people(app, client, world):
    login(client, world["ida"].email)
    # Dee put Ida on her private list; Eve is paused; Fay is in another program.
    assert names_on(client) == ["Ana Ahead", "Ben Same", "Cy Faculty"]
    assert names_on(client, "?name=ahead") == ["Ana Ahead"]
    assert names_on(client, "?topic=GLOBAL") == ["Ana Ahead"]
    assert names_on(client, "?ahead=1") == ["Ana Ahead", "Ben Same"]
    assert names_on(client, "?other=1") == ["Ana Ahead", "Cy Faculty"]
    assert names_on(client, "?ahead=1&other=1") == ["Ana Ahead"]
    # "Ahead" follows the ladder as the directory has it: after PGY-2, PGY-3 and faculty.
    ben = app.test_client()
    login(ben, world["ben"].email)
    shown = [n for n in names_on(ben, "?ahead=1") if n != "Ben Same"]  # his own name is in the bar
    assert shown == ["Ana Ahead", "Cy Faculty", "Dee Hidden"]
    assert names_on(client, "?role=mentor") == ["Cy Faculty"]
    assert names_on(client, "?stage=PGY2") == ["Ben Same"]
    with app.app_context():
        surgery = db.session.scalar(
            sa.select(Person.department_id).where(Person.id == world["ana"].id)
        )
    assert names_on(client, f"?department={surgery}") == ["Ana Ahead", "Cy Faculty"]
    # The asking pages of hidden people do not exist for her.
    for hidden in ("dee", "eve", "fay"):
        assert client.get(f"/programs/im/directory/{world[hidden].id}/ask").status_code == 404
    # Only what people chose to show: no address, no history.
    page = client.get("/programs/im/directory").get_data(as_text=True)
    assert world["ana"].email not in page and "rating" not in page.lower()


def test_suggestions_come_first_then_shared_interests_then_names(app, client, world, make):
    login(client, world["ida"].email)
    # Names sort by family name: Faculty before Same.
    assert order_on(client) == ["Ana Ahead", "Cy Faculty", "Ben Same"]
    # Ben came out of a chat with Cy as someone Ida should meet.
    round_id = make.coffee_round(world["program"], utc_now() - timedelta(days=20))
    chat = make.chat(round_id, world["ida"], world["cy"])
    with app.app_context():
        db.session.add(
            CheckIn(
                person_id=world["ida"].id,
                chat_id=chat,
                period_start=utc_now().date(),
                suggested_person_id=world["ben"].id,
            )
        )
        db.session.commit()
    assert order_on(client) == ["Ben Same", "Ana Ahead", "Cy Faculty"]
    assert "suggested by Cy Faculty" in text_of(client.get("/programs/im/directory"))


def send(client, person, **overrides):
    page = client.get(f"/programs/im/directory/{person.id}/ask").get_data(as_text=True)
    subject = re.search(r'name="subject"[^>]*value="([^"]*)"', page)
    body = re.search(r'name="body"[^>]*>\s*(.*?)</textarea>', page, re.S)
    data = {
        "subject": subject.group(1) if subject else "Coffee?",
        "body": re.sub("&#39;", "'", body.group(1)) if body else "",
        "referred_by": (re.search(r'name="referred_by"[^>]*value="(\d*)"', page) or [None, ""])[1]
        if "referred_by" in page
        else "",
        **overrides,
    }
    return client.post(f"/programs/im/directory/{person.id}/ask", data=data)


def test_the_ask_is_prefilled_and_sent_from_the_institution_with_the_asker_as_reply_to(
    app, client, world
):
    login(client, world["ida"].email)
    page = text_of(client.get(f"/programs/im/directory/{world['ana'].id}/ask"))
    assert "Dear Ana Ahead" in page and "global health" in page.lower()
    assert "20 minutes" in page and "words" in page
    assert send(client, world["ana"]).status_code == 302
    with app.app_context():
        ask = db.session.scalar(sa.select(Ask))
        assert ask.status is AskStatus.WAITING and ask.recipient_id == world["ana"].id
        (mail,) = outbox(Message.kind == "ask")
        assert mail.to_address == world["ana"].email and mail.reply_to == world["ida"].email
        assert "Dear Ana Ahead" in mail.body_text and "Not now" in mail.body_text
        assert "/ask/" in mail.body_text
    # Asked twice is asked once.
    assert "still waiting" in text_of(send(client, world["ana"]))


def test_a_bad_ask_is_refused_and_nothing_is_written(app, client, world):
    login(client, world["ida"].email)
    page = text_of(send(client, world["ana"], body="Coffee?"))
    assert "between 20 and 400 words" in page
    page = text_of(send(client, world["ana"], body="word " * 401))
    assert "between 20 and 400 words" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ask)) == 0
        assert outbox(Message.kind == "ask") == []


def test_limits_open_asks_monthly_capacity_and_a_pause_after_not_now(app, client, world, make):
    login(client, world["ida"].email)
    extra = [make.trainee(world["program"], name=f"Extra {n}") for n in range(2)]
    for person in extra:
        listed_in(app, person, world["program"], ["x"])
    for person in (world["ana"], world["ben"], world["cy"]):
        assert send(client, person).status_code == 302
    # A fourth open ask waits for one of the three.
    assert "You have 3 asks waiting" in text_of(send(client, extra[0]))
    with app.app_context():
        ask = db.session.scalar(sa.select(Ask).where(Ask.recipient_id == world["ben"].id))
        ask_id = ask.id
    # Ben says not now: Ida may not ask him again for a while, and may ask someone new.
    ben = app.test_client()
    login(ben, world["ben"].email)
    assert ben.post(f"/asks/{ask_id}/answer", data={"answer": "no"}).status_code == 302
    assert "said not now; you can ask again from" in text_of(send(client, world["ben"]))
    assert "Not now; you can ask again from" in text_of(client.get("/programs/im/directory"))
    assert send(client, extra[0]).status_code == 302

    # Capacity: Ana takes one ask a month, and has had Ida's.
    with app.app_context():
        db.session.execute(
            sa.update(Listing).where(Listing.person_id == world["ana"].id).values(asks_per_month=1)
        )
        db.session.commit()
    other = app.test_client()
    login(other, extra[1].email)
    assert "all the asks they take this month" in text_of(send(other, world["ana"]))
    assert "Has all the asks they take this month" in text_of(other.get("/programs/im/directory"))


def ask_from(app, client, world, recipient):
    login(client, world["ida"].email)
    assert send(client, recipient).status_code == 302
    with app.app_context():
        ask = db.session.scalar(sa.select(Ask).where(Ask.recipient_id == recipient.id))
        return ask.id, answer_link(ask, "yes"), answer_link(ask, "no")


def test_yes_from_the_email_makes_a_chat_introduced_like_a_rounds(app, world, monkeypatch):
    import program.asks.asks as services

    asker = app.test_client()
    ask_id, yes, _ = ask_from(app, asker, world, world["ana"])
    path = yes.split("localhost", 1)[-1] if "localhost" in yes else "/" + yes.split("/", 3)[3]
    anonymous = app.test_client()
    # An expired link is refused, opened or posted, and answers nothing.
    with monkeypatch.context() as patched:
        patched.setattr(services, "CLOSE_AFTER_DAYS", -8)
        assert "closed a while ago" in text_of(anonymous.get(path))
        assert anonymous.post(path, data={"answer": "yes"}).status_code == 400
    # Opening the link (as a mail scanner does) changes nothing.
    page = text_of(anonymous.get(path))
    assert "A coffee with Ida Asker?" in page
    with app.app_context():
        assert db.session.get(Ask, ask_id).status is AskStatus.WAITING
    # Someone else signed in on this browser is refused, and nothing changes.
    assert asker.get(path).status_code == 403
    response = anonymous.post(path, data={"answer": "yes"})
    assert "You said yes" in text_of(response)
    with app.app_context():
        ask = db.session.get(Ask, ask_id)
        assert ask.status is AskStatus.ACCEPTED
        chat = db.session.get(Chat, ask.chat_id)
        assert chat.round_id is None and chat.program_id == world["program"].id
        assert [m.person_id for m in chat.members] == [world["ida"].id, world["ana"].id]
        intros = {m.recipient_id: m for m in outbox(Message.kind == "intro")}
        assert set(intros) == {world["ida"].id, world["ana"].id}
        first = intros[world["ida"].id]
        assert "Ana Ahead said yes to your ask" in first.body_text
        assert "you offer two times" in first.body_text and "/meetings/propose/" in first.body_text
        assert world["ana"].email in first.body_text and first.reply_to == world["ana"].email
        assert "Ida Asker will write to you" in intros[world["ana"].id].body_text
    # The link is spent; forged and used links are refused.
    assert anonymous.get(path).status_code == 400
    assert "already been answered" in text_of(anonymous.get(path))
    assert anonymous.get("/ask/forged").status_code == 400
    # Both see the chat on their home pages.
    assert "Your coffee chat is with Ana Ahead" in text_of(asker.get("/"))
    ana = app.test_client()
    login(ana, world["ana"].email)
    assert "You said yes to Ida Asker" in text_of(ana.get("/"))


def test_not_now_tells_the_asker_kindly_without_a_reason(app, world):
    asker = app.test_client()
    ask_id, _, no = ask_from(app, asker, world, world["ana"])
    path = "/" + no.split("/", 3)[3]
    anonymous = app.test_client()
    anonymous.post(path, data={"answer": "no"})
    with app.app_context():
        assert db.session.get(Ask, ask_id).status is AskStatus.DECLINED
        (mail,) = outbox(Message.kind == "ask_answer")
        assert mail.recipient_id == world["ida"].id
        assert "cannot take a coffee just now" in mail.body_text
        assert "not about you" in mail.body_text
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Chat)) == 0


def test_a_week_brings_one_follow_up_prompt_and_two_weeks_a_quiet_close(app, world):
    asker = app.test_client()
    ask_id, yes, _ = ask_from(app, asker, world, world["ana"])
    with app.app_context():
        sent = db.session.get(Ask, ask_id).created_at
        assert follow_up_asks(sent + timedelta(days=6)) == {"ask_follow_ups": 0, "asks_closed": 0}
        assert tick(sent + timedelta(days=8))["ask_follow_ups"] == 1
        db.session.commit()
        assert tick(sent + timedelta(days=9))["ask_follow_ups"] == 0
        db.session.commit()
        (prompt,) = outbox(Message.kind == "ask_follow_up")
        assert prompt.recipient_id == world["ida"].id and "only reminder" in prompt.body_text
        assert "mailto:" in prompt.body_html and prompt.reply_to == world["ana"].email
        counts = tick(sent + timedelta(days=15))
        db.session.commit()
        assert counts["asks_closed"] == 1
        assert db.session.get(Ask, ask_id).status is AskStatus.CLOSED
        # Quietly: nobody is e-mailed about it.
        assert outbox(Message.kind == "ask_answer") == []
    path = "/" + yes.split("/", 3)[3]
    assert app.test_client().get(path).status_code == 400  # a closed ask takes no answer


def test_a_self_started_chat_gets_the_same_check_ins(app, world):
    asker = app.test_client()
    ask_id, yes, _ = ask_from(app, asker, world, world["ana"])
    app.test_client().post("/" + yes.split("/", 3)[3], data={"answer": "yes"})
    with app.app_context():
        chat_id = db.session.get(Ask, ask_id).chat_id
        accepted = db.session.get(Chat, chat_id).created_at
        tick(accepted + timedelta(days=8))
        db.session.commit()
        asked = db.session.scalars(sa.select(CheckIn.person_id).where(CheckIn.chat_id == chat_id))
        assert sorted(asked) == sorted([world["ida"].id, world["ana"].id])
        prompts = outbox(Message.kind == "checkin_prompt")
        assert len(prompts) == 2
        assert all("coffee chat of" in m.body_text for m in prompts)


def test_a_referral_names_the_referrer_and_one_outside_is_kept_not_emailed(
    app, client, world, make
):
    round_id = make.coffee_round(world["program"], utc_now() - timedelta(days=20))
    chat = make.chat(round_id, world["ida"], world["ben"])
    with app.app_context():
        check_in = CheckIn(person_id=world["ida"].id, chat_id=chat, period_start=utc_now().date())
        db.session.add(check_in)
        db.session.commit()
        check_in_id = check_in.id
    login(client, world["ida"].email)
    for who in (world["ana"].email, "Dr. Kim Outside <KIM@example.org>"):
        response = client.post(f"/check-ins/{check_in_id}", data={"status": "met", "suggest": who})
        assert response.status_code == 302, text_of(response)
    page = text_of(client.get("/programs/im/directory"))
    assert "Suggested for you" in page and "suggested by Ben Same" in page
    assert "Ask Ana Ahead" in page
    assert "Dr. Kim Outside" in page and "Hallway does not write to them" in page
    ask_page = text_of(client.get(f"/programs/im/directory/{world['ana'].id}/ask"))
    assert "Ben Same suggested I write to you" in ask_page
    assert send(client, world["ana"]).status_code == 302
    # Acted on, the suggestion is no longer one.
    page = text_of(client.get("/programs/im/directory"))
    assert "Ask Ana Ahead" not in page and "Dr. Kim Outside" in page
    with app.app_context():
        assert db.session.scalar(sa.select(Ask.referred_by_id)) == world["ben"].id
        (mail,) = outbox(Message.kind == "ask")
        assert "on Ben Same's suggestion" in mail.body_text
        kept = db.session.scalar(sa.select(OutsideReferral))
        assert (kept.name, kept.email, kept.suggested_by) == (
            "Dr. Kim Outside",
            "kim@example.org",
            "Ben Same",
        )
        assert outbox(Message.to_address == "kim@example.org") == []
    # A name alone for someone unknown is refused with how to give it.
    response = client.post(f"/check-ins/{check_in_id}", data={"status": "met", "suggest": "x@y"})
    assert "Dr. Kim <kim@example.org>" in text_of(response)


def test_a_coordinator_adds_a_guest_who_answers_by_link_and_never_signs_in(app, client, world):
    login(client, world["coordinator"].email)
    page = text_of(
        client.post(
            "/programs/im/guests",
            data={
                "name": "Gil Guest",
                "email": "gil@alumni.example.org",
                "note": "Alumnus, now in global health policy.",
                "topics": "global health, policy",
                "asks_per_month": "1",
                "meets": "video",
            },
            follow_redirects=True,
        )
    )
    assert "Gil Guest is in the directory as a guest" in page
    # An address that has an account is not made a guest.
    page = text_of(
        client.post(
            "/programs/im/guests",
            data={
                "name": "Ana",
                "email": world["ana"].email,
                "asks_per_month": "1",
                "meets": "video",
            },
        )
    )
    assert "who has an account" in page
    with app.app_context():
        gil = db.session.scalar(sa.select(Person).where(Person.email == "gil@alumni.example.org"))
        assert gil.is_guest and gil.password_hash is None
        gil_id = gil.id
    asker = app.test_client()
    login(asker, world["ida"].email)
    directory = text_of(asker.get("/programs/im/directory?role=guest"))
    assert "Gil Guest" in directory and "Guest" in directory and "Video only" in directory
    assert "gil@alumni.example.org" not in directory
    ask_id, yes, _ = ask_from(app, asker, world, type("P", (), {"id": gil_id})())
    guest = app.test_client()
    assert "You said yes" in text_of(guest.post("/" + yes.split("/", 3)[3], data={"answer": "yes"}))
    # No account: no password reset, no session.
    guest.post("/password/forgot", data={"email": "gil@alumni.example.org"})
    with app.app_context():
        assert outbox(Message.kind == "password_reset") == []
        assert db.session.get(Ask, ask_id).status is AskStatus.ACCEPTED
    assert "do not match" in text_of(login(guest, "gil@alumni.example.org"))


def test_the_directory_reads_a_fixed_number_of_queries_from_20_to_2000_open_people(
    app, client, world
):
    login(client, world["ida"].email)
    program_id = world["program"].id

    def grow_to(n: int) -> None:
        with app.app_context():
            have = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Listing)
                .where(Listing.program_id == program_id)
            )
            ids = insert_rows(
                db.session,
                Person,
                [
                    {
                        "email": f"open{have + k}@example.edu",
                        "name": f"Open Person {have + k}",
                        "stage": CareerStage.PGY3,
                        "interests": [],
                    }
                    for k in range(n - have)
                ],
                ids=True,
            )
            insert_rows(
                db.session,
                Membership,
                [{"person_id": i, "program_id": program_id, "role": Role.TRAINEE} for i in ids],
            )
            insert_rows(
                db.session,
                Listing,
                [
                    {
                        "program_id": program_id,
                        "person_id": i,
                        "topics": ["global health"] if i % 3 else ["research"],
                        "topics_key": "|global health|" if i % 3 else "|research|",
                        "note": "Glad to talk.",
                    }
                    for i in ids
                ],
            )
            db.session.commit()

    grow_to(20)
    small = queries_for(client, "/programs/im/directory?ahead=1")
    grow_to(2000)
    large = queries_for(client, "/programs/im/directory?ahead=1")
    assert large == small
    # Dee (who hid from Ida) and Eve (paused) are not counted.
    assert "1,998 people open to asks" in text_of(client.get("/programs/im/directory"))


def test_the_asker_withdraws_a_waiting_ask_and_nobody_else_can(app, world):
    asker = app.test_client()
    ask_id, yes, _ = ask_from(app, asker, world, world["ana"])
    other = app.test_client()
    login(other, world["ben"].email)
    assert other.post(f"/asks/{ask_id}/withdraw").status_code == 404
    response = asker.post(f"/asks/{ask_id}/withdraw", follow_redirects=True)
    assert "Withdrawn: your ask to Ana Ahead" in text_of(response)
    with app.app_context():
        assert db.session.get(Ask, ask_id).status is AskStatus.WITHDRAWN
    # Withdrawn, it takes no answer and frees the asker to ask again.
    assert app.test_client().get("/" + yes.split("/", 3)[3]).status_code == 400
    assert send(asker, world["ana"]).status_code == 302
