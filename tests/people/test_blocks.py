"""Pairs that must never happen: a private "please don't pair me with" list, and faculty who
assess a trainee, honoured by both matchings and by hand-made pairs, and kept private."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from program.audit.models import AuditEvent
from program.coffee.rounds import preview_round
from program.db import DomainError
from program.extensions import db
from program.formal.matches import propose_matches, publish_pair, set_proposed_mentor
from program.matching import coffee as pairing
from program.matching import formal as matching
from program.people.blocks import PRIVATE, block, record_assessor, ruled_out
from program.people.models import CareerStage, PairingBlock, Person
from program.programs.models import Program, Term
from tests.conftest import login, text_of

# --- the pure matchings never make a ruled-out pair (property) ----------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 30),
    st.integers(1, 10),
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 9)), max_size=60),
    st.integers(0, 10**6),
)
def test_formal_matching_never_proposes_a_forbidden_pair(n_trainees, n_mentors, banned, seed):
    trainees = [matching.Person(t, stage_rank=4) for t in range(n_trainees)]
    mentors = [matching.Mentor(100 + m, stage_rank=12, capacity=2) for m in range(n_mentors)]
    forbidden = frozenset((t, 100 + m) for t, m in banned if t < n_trainees and m < n_mentors)
    proposal = matching.propose(trainees, mentors, forbidden=forbidden, seed=seed)
    assert not {(p.trainee_id, p.mentor_id) for p in proposal.pairs} & forbidden
    # Nobody is silently dropped: every trainee is paired or listed with the reason.
    assert {p.trainee_id for p in proposal.pairs} | set(proposal.unmatched) == set(
        range(n_trainees)
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 40),
    st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=80),
    st.integers(0, 10**6),
)
def test_coffee_rounds_never_pair_a_forbidden_pair_even_to_seat_everyone(n, banned, seed):
    people = [pairing.Participant(i, stage_rank=i % 5) for i in range(n)]
    forbidden = frozenset(pairing.pair_key(a, b) for a, b in banned if a < n and b < n and a != b)
    plan = pairing.plan_round(people, forbidden=forbidden, seed=seed)
    for chat in plan.chats:
        for i, a in enumerate(chat):
            for b in chat[i + 1 :]:
                assert pairing.pair_key(a, b) not in forbidden
    seated = {p for chat in plan.chats for p in chat}
    assert seated | set(plan.left_out) == set(range(n))


# --- through the services ----------------------------------------------------------------------


def program_with_people(make):
    program = make.program("Internal Medicine Residency", slug="im")
    term = make.term(program, slug="fall")
    mentors = [
        make.mentor(program, name=f"Dr. M{n}", stage=CareerStage.SENIOR_FACULTY) for n in range(2)
    ]
    trainee = make.trainee(program, name="Zoë Ångström", stage=CareerStage.PGY1)
    for mentor in mentors:
        make.availability(term, mentor, capacity=2)
    return program, term, mentors, trainee


def test_a_private_block_rules_the_pair_out_of_formal_matching_and_by_hand(app, make):
    _program, term, (m0, m1), trainee = program_with_people(make)
    with app.test_request_context():
        me = db.session.get(Person, trainee.id)
        block(me, db.session.get(Person, m0.id))
        db.session.commit()
        t = db.session.get(Term, term.id)
        for seed in range(5):
            proposal = propose_matches(None, t, seed=seed)
            assert [(p.trainee_id, p.mentor_id) for p in proposal.pairs] == [(trainee.id, m1.id)]
        try:
            publish_pair(None, t, db.session.get(Person, m0.id), me)
        except DomainError as exc:
            assert exc.message == PRIVATE  # says a private preference, never whose
        else:
            raise AssertionError("a privately blocked pair was published")
        db.session.rollback()


def test_the_assessor_rule_is_said_plainly_and_honoured(app, make):
    program, term, (m0, _m1), trainee = program_with_people(make)
    coordinator = make.coordinator(program)
    with app.test_request_context():
        record_assessor(
            db.session.get(Person, coordinator.id),
            db.session.get(Program, program.id),
            db.session.get(Person, m0.id),
            db.session.get(Person, trainee.id),
        )
        db.session.commit()
        t = db.session.get(Term, term.id)
        proposal = propose_matches(None, t)
        assert (trainee.id, m0.id) not in {(p.trainee_id, p.mentor_id) for p in proposal.pairs}
        try:
            set_proposed_mentor(
                db.session.get(Person, coordinator.id),
                t,
                db.session.get(Person, trainee.id),
                db.session.get(Person, m0.id),
            )
        except DomainError as exc:
            assert "assesses Zoë Ångström's work" in exc.message and "LCME" in exc.message
        else:
            raise AssertionError("an assessor was made the mentor")
        db.session.rollback()


def test_coffee_rounds_honour_both(app, make):
    program, _term, (m0, m1), trainee = program_with_people(make)
    with app.test_request_context():
        from program.coffee.models import Enrollment

        for p in (m0, m1, trainee):
            db.session.add(Enrollment(program_id=program.id, person_id=p.id))
        block(db.session.get(Person, trainee.id), db.session.get(Person, m0.id))
        db.session.commit()
        assert ruled_out([m0.id, m1.id, trainee.id], program.id) == {
            tuple(sorted((m0.id, trainee.id)))
        }
        for seed in range(6):
            plan = preview_round(
                db.session.get(Program, program.id), seed=seed, on=date(2026, 10, 1)
            ).plan
            for chat in plan.chats:
                assert not {m0.id, trainee.id} <= set(chat)


def test_the_list_is_private_and_found_by_name_in_any_alphabet(app, client, make):
    program, _term, (m0, _m1), trainee = program_with_people(make)
    coordinator = make.coordinator(program)
    login(client, m0.email)
    found = text_of(client.get("/account/pairing?q=zoe angstrom"))
    assert "Zoë Ångström" not in found  # accents are letters of their own
    found = text_of(client.get("/account/pairing?q=ZOË"))
    assert "Zoë Ångström" in found
    response = client.post("/account/pairing", data={"person": trainee.id}, follow_redirects=True)
    assert "You will not be paired with Zoë Ångström" in text_of(response)
    assert "Zoë Ångström" in text_of(client.get("/account/pairing"))
    # Someone outside the member's programs cannot be added (nor found).
    outsider = make.trainee(make.program(slug="other"), name="Out Sider")
    response = client.post("/account/pairing", data={"person": outsider.id}, follow_redirects=True)
    assert "Choose someone from one of your programs" in text_of(response)
    client.post("/logout")
    # The trainee's own list is empty; the coordinator sees nothing of it anywhere.
    login(client, trainee.email)
    assert "Dr. M0" not in text_of(client.get("/account/pairing")).split("Add someone")[0]
    client.post("/logout")
    login(client, coordinator.email)
    for url in (f"/programs/im/people/{m0.id}", f"/programs/im/people/{trainee.id}"):
        page = text_of(client.get(url))
        assert "rather not" not in page and "block" not in page.lower()
    with app.app_context():
        summaries = db.session.scalars(
            sa.select(AuditEvent.summary).where(AuditEvent.action == "pairing_block.changed")
        ).all()
        assert summaries and all("Zoë" not in s for s in summaries)
        entry = db.session.scalar(sa.select(PairingBlock))
    # Taking someone off: only one's own entries.
    client.post("/logout")
    login(client, trainee.email)
    response = client.post("/account/pairing", data={"entry": entry.id}, follow_redirects=True)
    assert "That is not on your list" in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PairingBlock)) == 1


def test_a_coordinator_records_who_assesses_whom_on_the_person_page(app, client, make):
    program, _term, (m0, m1), trainee = program_with_people(make)
    coordinator = make.coordinator(program)
    login(client, coordinator.email)
    response = client.post(
        f"/programs/im/people/{m0.id}/assesses",
        data={"trainee_email": trainee.email},
        follow_redirects=True,
    )
    assert "Recorded: Dr. M0 assesses Zoë Ångström" in text_of(response)
    assert "Assesses Zoë Ångström" in text_of(client.get(f"/programs/im/people/{m0.id}"))
    refused = client.post(
        f"/programs/im/people/{m0.id}/assesses",
        data={"trainee_email": m1.email},
        follow_redirects=True,
    )
    assert "is not a trainee of Internal Medicine Residency" in text_of(refused)
    unknown = client.post(
        f"/programs/im/people/{m0.id}/assesses",
        data={"trainee_email": "nobody@example.edu"},
        follow_redirects=True,
    )
    assert "Nobody in Hallway has that address" in text_of(unknown)
