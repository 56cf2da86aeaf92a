"""The pages a person sees: their home, the program overview, error pages, accessible forms."""

from __future__ import annotations

import re

import pytest

from program.db import utc_now
from program.extensions import db
from program.formal.models import Assignment, AssignmentStatus
from program.programs.models import Term
from tests.conftest import login, text_of


def test_home_shows_programs_roles_and_formal_pairs(app, client, make):
    from datetime import date

    program = make.program("Internal Medicine Residency", slug="im")
    mentor = make.mentor(program, name="Dr. Miguel Santos")
    trainee = make.trainee(program, name="Priya Natarajan")
    make.mentor(make.program("Surgery", slug="surgery"), person=trainee)
    with app.app_context():
        term = Term(
            program_id=program.id,
            slug="fall",
            name="Fall 2026",
            starts_on=date(2026, 9, 1),
            ends_on=date(2026, 12, 31),
        )
        db.session.add(term)
        db.session.flush()
        db.session.add(
            Assignment(
                term_id=term.id,
                mentor_id=mentor.id,
                trainee_id=trainee.id,
                status=AssignmentStatus.ACTIVE,
                started_at=utc_now(),
            )
        )
        db.session.commit()
    login(client, trainee.email)
    page = text_of(client.get("/"))
    assert "Internal Medicine Residency Trainee" in page
    assert "Surgery Mentor" in page
    assert "Mentor: Dr. Miguel Santos" in page
    client.post("/logout")
    login(client, mentor.email)
    assert "Mentee: Priya Natarajan" in text_of(client.get("/"))


def test_home_of_someone_in_no_program_explains_what_comes(client, make):
    login(client, make.person().email)
    page = text_of(client.get("/"))
    assert "You are not in any program yet" in page
    assert "No formal mentoring pair yet" not in page


@pytest.mark.parametrize("role", ["coordinator", "dean", "admin"])
def test_each_role_home_fits_it_and_its_navigation_leads_to_its_work(app, make, role):
    program = make.program("Internal Medicine Residency", slug="im")
    make.trainee(program)
    person = {
        "coordinator": lambda: make.coordinator(program, name="Carmen Reyes"),
        "dean": lambda: make.person(is_dean=True),
        "admin": lambda: make.admin(),
    }[role]()
    client = app.test_client()
    login(client, person.email)
    response = client.get("/")
    page, html = text_of(response), response.get_data(as_text=True)
    assert "No formal mentoring pair yet" not in page
    assert "Your formal mentoring" not in page
    nav = html[html.index('aria-label="Main"') : html.index("</nav>")]
    assert 'href="/reports"' in nav
    if role == "coordinator":
        assert 'href="/programs/im/"' in nav and "Internal Medicine Residency" in nav
    if role == "admin":
        assert 'href="/admin/programs"' in nav or "/admin/" in nav
    trainee = app.test_client()
    login(trainee, make.trainee(program).email)
    trainee_nav = trainee.get("/").get_data(as_text=True)
    trainee_nav = trainee_nav[trainee_nav.index('aria-label="Main"') : trainee_nav.index("</nav>")]
    assert 'href="/reports"' not in trainee_nav and 'href="/programs/im/"' not in trainee_nav


def test_program_overview_counts_people_by_role(client, make):
    program = make.program("Internal Medicine Residency", slug="im")
    coordinator = make.coordinator(program, name="Carmen Reyes")
    for _ in range(3):
        make.trainee(program)
    make.mentor(program)
    login(client, coordinator.email)
    page = text_of(client.get("/programs/im/"))
    assert "Trainees 3" in page and "Mentors 1" in page and "Coordinators 1" in page
    assert "Carmen Reyes" in page
    assert "No terms yet" in page


@pytest.mark.parametrize(("path", "code", "title"), [("/no/such/page", 404, "Not found")])
def test_error_pages_keep_the_site_style(client, path, code, title):
    response = client.get(path)
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert f'<h1 class="h3">{title}</h1>' in html
    assert "bootstrap" in html and '<main id="main"' in html


def test_forbidden_page_is_styled(client, make):
    login(client, make.person().email)
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "Your account does not give access to this page." in text_of(response)


def form_pages(client, make) -> list[str]:
    program = make.program(slug="im")
    person = make.person()
    admin = make.admin()
    pages = ["/login", "/password/forgot"]
    login(client, admin.email)
    pages += [
        "/admin/programs/new",
        "/admin/programs/im/edit",
        "/admin/programs/im/coordinators",
        f"/admin/people/{person.id}",
        "/admin/settings",
        "/admin/people",
        "/admin/audit",
    ]
    assert program
    return pages


def test_every_field_has_a_label_and_the_page_has_landmarks(client, make):
    for path in form_pages(client, make):
        if path in ("/login", "/password/forgot"):
            anonymous = client.application.test_client()
            html = anonymous.get(path).get_data(as_text=True)
        else:
            html = client.get(path).get_data(as_text=True)
        assert "<main" in html and "<header" in html and "<footer" in html, path
        assert '<html lang="en">' in html, path
        labels = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if re.search(r'type="(hidden|submit)"', tag) or 'aria-hidden="true"' in tag:
                continue
            field_id = re.search(r'id="([^"]+)"', tag).group(1)
            assert field_id in labels, f"{path}: field {field_id} has no label"


def test_a_field_error_is_tied_to_its_field(client, make):
    login(client, make.admin().email)
    html = client.post(
        "/admin/settings", data={"name": "X", "suppression_threshold": "3"}
    ).get_data(as_text=True)
    field = re.search(r'<input[^>]*id="suppression_threshold"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field
    assert "suppression_threshold-error" in field
    assert 'id="suppression_threshold-error"' in html


def test_the_people_pager_carries_the_filters_and_nothing_else(app, client, make):
    program = make.program("Big Residency", slug="big")
    coordinator = make.coordinator(program)
    make.term(program, slug="fall")
    with app.app_context():
        from program.people.models import Person
        from program.programs.models import Membership, Role

        for n in range(55):
            person = Person(email=f"p{n}@example.edu", name=f"Person {n:02d}", interests=[])
            db.session.add(person)
            db.session.flush()
            db.session.add(
                Membership(person_id=person.id, program_id=program.id, role=Role.TRAINEE)
            )
        db.session.commit()
    login(client, coordinator.email)
    # A hostile "slug" (or "page") in the query is not passed on to the next page's link.
    response = client.get("/programs/big/people?slug=evil&q=Person&role=trainee")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/programs/big/people?page=2" in page and "evil" not in page.split("pagination")[-1]
    assert "q=Person" in page and "role=trainee" in page
