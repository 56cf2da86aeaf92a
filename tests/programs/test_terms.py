"""Terms, cohorts and the program's people list and person pages, as a coordinator uses them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from program.audit.models import AuditEvent
from program.extensions import db
from program.people.models import CareerStage, Department
from program.programs.models import Cohort, CohortMember, Membership, Role, Term
from tests.accounts.test_accounts import count, snapshot
from tests.conftest import login, text_of


def coordinator_of_im(make, client):
    program = make.program("Internal Medicine Residency", slug="im")
    coordinator = make.coordinator(program)
    login(client, coordinator.email)
    return program


TERM = {"name": "Fall 2026", "starts_on": "2026-08-01", "ends_on": "2026-12-31"}


class TestTerms:
    def test_create_a_term_then_see_it(self, app, client, make):
        coordinator_of_im(make, client)
        response = client.post("/programs/im/terms/new", data=TERM)
        assert response.headers["Location"] == "/programs/im/terms/fall-2026/"
        page = text_of(client.get("/programs/im/terms/fall-2026/"))
        assert "Fall 2026" in page and "01 Aug 2026 – 31 Dec 2026" in page
        assert "Fall 2026" in text_of(client.get("/programs/im/"))
        with app.app_context():
            assert db.session.scalar(sa.select(AuditEvent.action)) == "term.created"

    def test_end_before_start_and_overlap_are_refused(self, app, client, make):
        coordinator_of_im(make, client)
        client.post("/programs/im/terms/new", data=TERM)
        before = snapshot(app)
        response = client.post(
            "/programs/im/terms/new", data={**TERM, "name": "Odd", "ends_on": "2026-07-01"}
        )
        assert "A term must end after it starts." in text_of(response)
        response = client.post(
            "/programs/im/terms/new",
            data={"name": "Winter", "starts_on": "2026-12-01", "ends_on": "2027-03-01"},
        )
        assert "These dates overlap Fall 2026" in text_of(response)
        response = client.post(
            "/programs/im/terms/new", data={"name": "No dates", "starts_on": "", "ends_on": "soon"}
        )
        assert "Give the first day." in text_of(response)
        assert snapshot(app) == before

    def test_other_programs_may_use_the_same_dates_and_names(self, app, client, make):
        coordinator_of_im(make, client)
        surgery = make.program(slug="surgery")
        make.term(surgery, "Fall 2026", slug="fall-2026")
        assert client.post("/programs/im/terms/new", data=TERM).status_code == 302
        assert count(app, Term) == 2

    def test_edit_and_close_then_reopen(self, app, client, make):
        coordinator_of_im(make, client)
        client.post("/programs/im/terms/new", data=TERM)
        response = client.post(
            "/programs/im/terms/fall-2026/edit", data={**TERM, "ends_on": "2027-01-15"}
        )
        assert response.status_code == 302
        client.post("/programs/im/terms/fall-2026/closed", data={"closed": "1"})
        page = text_of(client.get("/programs/im/terms/fall-2026/"))
        assert "closed" in page and "Reopen term" in page and "Import a roster" not in page
        refused = client.post("/programs/im/terms/fall-2026/cohorts", data={"name": "PGY-1"})
        assert "is closed; reopen it" in text_of(refused)
        client.post("/programs/im/terms/fall-2026/closed", data={"closed": "0"})
        with app.app_context():
            term = db.session.scalar(sa.select(Term))
            assert term.closed_at is None and str(term.ends_on) == "2027-01-15"
            actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions == ["term.created", "term.updated", "term.closed", "term.reopened"]

    def test_unknown_term_is_404(self, client, make):
        coordinator_of_im(make, client)
        assert client.get("/programs/im/terms/nope/").status_code == 404


class TestCohortsAndPeople:
    def test_add_cohorts_and_refuse_a_duplicate(self, app, client, make):
        program = coordinator_of_im(make, client)
        make.term(program, slug="fall-2026")
        client.post("/programs/im/terms/fall-2026/cohorts", data={"name": "PGY-1"})
        response = client.post("/programs/im/terms/fall-2026/cohorts", data={"name": "pgy-1"})
        assert "already has a cohort called" in text_of(response)
        assert count(app, Cohort) == 1

    @pytest.mark.parametrize("again", ["Ärzte", "ÄRZTE", " ärzte ", "A\u0308rzte"])
    def test_a_duplicate_in_any_alphabet_is_refused_not_a_server_error(
        self, app, client, make, again
    ):
        """SQLite's lower() knows only ASCII: uniqueness is decided by Hallway's own key."""
        program = coordinator_of_im(make, client)
        make.term(program, slug="fall-2026")
        client.post("/programs/im/terms/fall-2026/cohorts", data={"name": "Ärzte"})
        response = client.post("/programs/im/terms/fall-2026/cohorts", data={"name": again})
        assert response.status_code == 200
        assert "already has a cohort called" in text_of(response)
        assert count(app, Cohort) == 1

    def test_move_a_person_between_cohorts(self, app, client, make):
        program = coordinator_of_im(make, client)
        term = make.term(program, slug="fall-2026", cohorts=("PGY-1", "PGY-2"))
        trainee = make.trainee(program, name="Priya Natarajan")
        with app.app_context():
            cohorts = {c.name: c.id for c in db.session.scalars(sa.select(Cohort))}
        url = f"/programs/im/people/{trainee.id}/cohort/fall-2026"
        client.post(url, data={"cohort": str(cohorts["PGY-1"])})
        response = client.post(url, data={"cohort": str(cohorts["PGY-2"])}, follow_redirects=True)
        assert "Priya Natarajan is now in PGY-2 for Fall 2026." in text_of(response)
        with app.app_context():
            rows = db.session.scalars(sa.select(CohortMember)).all()
            assert [(r.cohort_id, r.term_id) for r in rows] == [(cohorts["PGY-2"], term.id)]
        # A cohort of another program's term is not a choice here.
        other = make.term(make.program(slug="surgery"), slug="fall-2026", cohorts=("Interns",))
        with app.app_context():
            foreign = db.session.scalar(sa.select(Cohort.id).where(Cohort.term_id == other.id))
        response = client.post(url, data={"cohort": str(foreign)}, follow_redirects=True)
        assert "Choose one of the term's cohorts." in text_of(response)
        client.post(url, data={"cohort": ""})
        assert count(app, CohortMember) == 0

    def test_people_list_filters_and_paginates(self, app, client, make):
        program = coordinator_of_im(make, client)
        make.term(program, slug="fall-2026", cohorts=("PGY-1",))
        with app.app_context():
            cardiology = Department(name="Cardiology", name_key="cardiology")
            db.session.add(cardiology)
            db.session.commit()
            cardiology_id = cardiology.id
        for n in range(55):
            make.trainee(
                program,
                name=f"Resident {n:02d}",
                stage=CareerStage.PGY1 if n % 2 else CareerStage.PGY2,
            )
        mentor = make.mentor(program, name="Dr. Heart", department_id=cardiology_id)
        make.trainee(make.program(slug="surgery"), name="Not Ours")
        page = text_of(client.get("/programs/im/people"))
        assert "56 people" in page and "Page 1 of 2" in page and "Not Ours" not in page
        assert "Dr. Heart" in text_of(client.get("/programs/im/people?role=mentor"))
        assert "1 person" in text_of(client.get(f"/programs/im/people?department={cardiology_id}"))
        assert "27 people" in text_of(client.get("/programs/im/people?stage=PGY1&role=trainee"))
        assert "Resident 07" in text_of(client.get("/programs/im/people?q=resident+07"))
        with app.app_context():
            m = db.session.scalar(sa.select(Membership).where(Membership.person_id == mentor.id))
            m.coffee_track = False
            db.session.commit()
        assert "Dr. Heart" not in text_of(client.get("/programs/im/people?track=coffee&q=heart"))
        assert "Nobody matches" in text_of(client.get("/programs/im/people?stage=fellow"))
        # Bad filter values are ignored, never an error page.
        assert client.get("/programs/im/people?stage=wizard&cohort=abc&page=-3").status_code == 200

    def test_person_page_and_ending_a_membership(self, app, client, make):
        program = coordinator_of_im(make, client)
        trainee = make.trainee(program, name="Jonah Whitfield")
        page = text_of(client.get(f"/programs/im/people/{trainee.id}"))
        assert "Jonah Whitfield" in page and "Trainee" in page
        with app.app_context():
            membership_id = db.session.scalar(
                sa.select(Membership.id).where(Membership.person_id == trainee.id)
            )
        url = f"/programs/im/people/{trainee.id}/memberships/{membership_id}/end"
        response = client.post(url, data={"reason": ""}, follow_redirects=True)
        assert "Say why the membership ends" in text_of(response)
        response = client.post(url, data={"reason": "Left the program"}, follow_redirects=True)
        assert "no longer a trainee" in text_of(response)
        assert "ended" in text_of(client.get(f"/programs/im/people/{trainee.id}"))
        assert "Jonah Whitfield" not in text_of(client.get("/programs/im/people"))

    def test_people_of_other_programs_are_not_found_here(self, client, make):
        coordinator_of_im(make, client)
        outsider = make.trainee(make.program(slug="surgery"))
        assert client.get(f"/programs/im/people/{outsider.id}").status_code == 404
        assert (
            client.post(f"/programs/im/people/{outsider.id}/cohort/x", data={}).status_code == 404
        )

    def test_coordinators_cannot_end_a_coordinator_role_here(self, app, client, make):
        program = coordinator_of_im(make, client)
        other_coordinator = make.coordinator(program)
        with app.app_context():
            membership_id = db.session.scalar(
                sa.select(Membership.id).where(
                    Membership.person_id == other_coordinator.id,
                    Membership.role == Role.COORDINATOR,
                )
            )
        url = f"/programs/im/people/{other_coordinator.id}/memberships/{membership_id}/end"
        assert client.post(url, data={"reason": "coup"}).status_code == 404


def test_page_queries_do_not_grow_with_the_number_of_people(app, client, make):
    from tests.conftest import queries_for

    program = coordinator_of_im(make, client)
    term = make.term(program, slug="fall-2026", cohorts=("PGY-1",))
    for _ in range(3):
        make.trainee(program)
    upload_id = make.roster_upload(program, term, make.person())
    urls = [
        "/programs/im/people",
        "/programs/im/",
        "/programs/im/terms/fall-2026/",
        f"/programs/im/terms/fall-2026/import/{upload_id}",
    ]
    few = {url: queries_for(client, url) for url in urls}
    for _ in range(40):
        make.trainee(program)
    assert {url: queries_for(client, url) for url in urls} == few
