"""Every route declares who may use it, and each role gets the answer it should."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from program.extensions import db
from program.people.models import Person
from program.permissions import Action, may, may_in
from program.programs.models import Membership, Program
from tests.conftest import login

# Served by Flask and Bootstrap-Flask: public files only.
STATIC_ENDPOINTS = {"static", "bootstrap.static"}

ROLES = ["anonymous", "trainee", "mentor", "coordinator", "other_coordinator", "dean", "admin"]

LOGIN = "login"  # a redirect to the sign-in page
ALL_SIGNED_IN = {role: 200 for role in ROLES[1:]}
ADMIN_ONLY = {**dict.fromkeys(ROLES[1:], 403), "admin": 200}
ADMIN_ONLY_POST = {**dict.fromkeys(ROLES[1:], 403), "admin": 302}
# This program's coordinators and admins; everyone else, deans included, is refused.
COORDINATORS = {
    "anonymous": LOGIN,
    **dict.fromkeys(ROLES[1:], 403),
    "coordinator": 200,
    "admin": 200,
}
COORDINATORS_POST = {**COORDINATORS, "coordinator": 302, "admin": 302}
# Outcomes: deans and admins only.
DEANS = {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 403), "dean": 200, "admin": 200}

# An action that e-mails people, past the page that asks first.
CONFIRMED = {"confirmed": "yes"}


def matrix(world: dict) -> list[tuple[str, str, str, dict, dict[str, int | str]]]:
    """(endpoint, method, url, form data, expected answer per role) for every route."""
    slug = world["slug"]
    person_id = world["person_id"]
    membership_id = world["membership_id"]
    subject_membership = world["subject_membership_id"]
    term = f"/programs/{slug}/terms/fall"
    upload = world["upload_id"]
    check_in = world["check_in_id"]
    # A person's own check-in: theirs alone; to anyone else it does not exist.
    own = {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 404), "trainee": 200}
    demo_only = dict.fromkeys(ROLES, 404)  # the demo inbox exists only in demo mode
    members = {
        "anonymous": LOGIN,
        **dict.fromkeys(ROLES[1:], 403),
        **dict.fromkeys(["trainee", "mentor", "coordinator", "admin"], 200),
    }
    return [
        ("checkins.answer_link", "GET", "/checkin/not-a-token", {}, dict.fromkeys(ROLES, 400)),
        ("surveys.answer_link", "GET", "/survey/not-a-token", {}, dict.fromkeys(ROLES, 400)),
        ("surveys.answer", "GET", f"/surveys/{world['survey_response_id']}", {}, own),
        ("surveys.status", "GET", f"{term}/survey", {}, COORDINATORS),
        ("outcomes.index", "GET", "/outcomes/", {}, DEANS),
        # No file: the form says so (200) to those allowed.
        ("outcomes.upload", "POST", "/outcomes/upload", {"term": "fall"}, DEANS),
        (
            "outcomes.upload_preview",
            "GET",
            "/outcomes/uploads/999",
            {},
            {**DEANS, "dean": 404, "admin": 404},
        ),
        ("checkins.edit", "GET", f"/check-ins/{check_in}", {}, own),
        (
            "checkins.quick_answer",
            "POST",
            f"/check-ins/{check_in}/quick",
            {"status": "not_yet"},
            {**own, "trainee": 302},
        ),
        (
            "home.notifications",
            "GET",
            "/account/notifications",
            {},
            {"anonymous": LOGIN, **ALL_SIGNED_IN},
        ),
        ("home.pairing_list", "GET", "/account/pairing", {}, {"anonymous": LOGIN, **ALL_SIGNED_IN}),
        ("formal.availability", "GET", f"{term}/availability", {}, COORDINATORS),
        (
            "formal.ask_availability",
            "POST",
            f"{term}/availability/request",
            CONFIRMED,
            COORDINATORS_POST,
        ),
        (
            "formal.remind_availability_view",
            "POST",
            f"{term}/availability/remind",
            CONFIRMED,
            COORDINATORS_POST,
        ),
        (
            "formal.availability_link",
            "GET",
            "/availability/not-a-token",
            {},
            dict.fromkeys(ROLES, 400),
        ),
        (
            "formal.my_availability",
            "GET",
            f"/availability/mine/{world['availability_id']}",
            {},
            {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 404), "mentor": 200},
        ),
        ("formal.matches", "GET", f"{term}/matches", {}, COORDINATORS),
        ("formal.propose_view", "POST", f"{term}/matches/propose", {}, COORDINATORS_POST),
        (
            "formal.edit_match",
            "POST",
            f"{term}/matches/{person_id}",
            {"mentor": ""},
            COORDINATORS_POST,
        ),
        ("formal.publish_view", "POST", f"{term}/matches/publish", CONFIRMED, COORDINATORS_POST),
        ("formal.pairs", "GET", f"{term}/pairs", {}, COORDINATORS),
        ("coffee.overview", "GET", f"/programs/{slug}/coffee", {}, COORDINATORS),
        # No round in this world: found for nobody, and refused before that for the rest.
        (
            "coffee.round_page",
            "GET",
            f"/programs/{slug}/coffee/rounds/1",
            {},
            {**COORDINATORS, "coordinator": 404, "admin": 404},
        ),
        (
            "reporting.index",
            "GET",
            "/reports",
            {},
            # Anyone who may read some program's report; trainees and mentors may not.
            {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 200), "trainee": 403, "mentor": 403},
        ),
        (
            "reporting.file",
            "GET",
            f"/reports/{slug}/fall.pdf",
            {},
            {**COORDINATORS, "dean": 200},
        ),
        (
            "coffee.bulk",
            "POST",
            f"/programs/{slug}/coffee/enroll",
            {"reason": "consent form 2026", **CONFIRMED},
            COORDINATORS_POST,
        ),
        ("coffee.publish", "POST", f"/programs/{slug}/coffee/rounds", CONFIRMED, COORDINATORS_POST),
        ("coffee.enrollment_link", "GET", "/coffee/not-a-token", {}, dict.fromkeys(ROLES, 400)),
        (
            "coffee.mine",
            "POST",
            f"/coffee/mine/{slug}",
            {"action": "join"},
            # The program's own members (the service checks the coffee track).
            {
                "anonymous": LOGIN,
                **dict.fromkeys(ROLES[1:], 302),
                "other_coordinator": 403,
                "dean": 403,
            },
        ),
        ("formal.end_pair", "GET", f"{term}/pairs/{world['assignment_id']}/end", {}, COORDINATORS),
        (
            "formal.nudge",
            "POST",
            f"{term}/pairs/{world['assignment_id']}/nudge",
            CONFIRMED,
            COORDINATORS_POST,
        ),
        (
            "formal.rematch",
            "GET",
            f"/mentoring/{world['assignment_id']}/rematch",
            {},
            # The pair's own two people; to anyone else it does not exist.
            {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 404), "trainee": 200, "mentor": 200},
        ),
        ("demo.inbox", "GET", "/demo/inbox", {}, demo_only),
        ("demo.latest", "GET", "/demo/inbox/latest", {}, demo_only),
        ("demo.message", "GET", "/demo/inbox/1", {}, demo_only),
        ("demo.message_html", "GET", "/demo/inbox/1/html", {}, demo_only),
        ("home.index", "GET", "/", {}, {"anonymous": LOGIN, **ALL_SIGNED_IN}),
        ("home.how", "GET", "/how-hallway-works", {}, dict.fromkeys(ROLES, 200)),
        (
            "accounts.login",
            "GET",
            "/login",
            {},
            {"anonymous": 200, **dict.fromkeys(ROLES[1:], 302)},
        ),
        (
            "accounts.logout",
            "POST",
            "/logout",
            {},
            {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 302)},
        ),
        ("accounts.forgot_password", "GET", "/password/forgot", {}, dict.fromkeys(ROLES, 200)),
        # No SAML IdP configured here (tests/accounts/test_saml.py signs in through one).
        ("accounts.saml_metadata", "GET", "/saml/metadata", {}, dict.fromkeys(ROLES, 404)),
        ("accounts.saml_login", "GET", "/login/saml", {}, dict.fromkeys(ROLES, 404)),
        ("accounts.saml_acs", "POST", "/saml/acs", {}, dict.fromkeys(ROLES, 404)),
        ("accounts.saml_sls", "GET", "/saml/sls", {}, dict.fromkeys(ROLES, 404)),
        # No provider of that name here (tests/accounts/test_oidc.py signs in through one).
        ("accounts.sso_start", "GET", "/login/sso/nowhere", {}, dict.fromkeys(ROLES, 404)),
        (
            "accounts.sso_callback",
            "GET",
            "/login/sso/nowhere/callback",
            {},
            dict.fromkeys(ROLES, 404),
        ),
        (
            "accounts.accept_invitation",
            "GET",
            "/invitation/not-a-token",
            {},
            dict.fromkeys(ROLES, 400),
        ),
        (
            "accounts.reset_password",
            "GET",
            "/password/reset/not-a-token",
            {},
            dict.fromkeys(ROLES, 400),
        ),
        ("programs.overview", "GET", f"/programs/{slug}/", {}, COORDINATORS),
        ("programs.new_term", "GET", f"/programs/{slug}/terms/new", {}, COORDINATORS),
        ("programs.term", "GET", f"{term}/", {}, COORDINATORS),
        ("programs.edit_term", "GET", f"{term}/edit", {}, COORDINATORS),
        ("programs.close_term", "POST", f"{term}/closed", {"closed": "0"}, COORDINATORS_POST),
        ("programs.add_cohort", "POST", f"{term}/cohorts", {"name": "PGY-9"}, COORDINATORS_POST),
        ("programs.people", "GET", f"/programs/{slug}/people", {}, COORDINATORS),
        ("programs.person", "GET", f"/programs/{slug}/people/{person_id}", {}, COORDINATORS),
        (
            "programs.edit_person_details",
            "POST",
            f"/programs/{slug}/people/{person_id}/details",
            {"name": "Sam Subject", "stage": "", "department": "", "interests": ""},
            COORDINATORS_POST,
        ),
        (
            "formal.set_capacity_view",
            "POST",
            f"{term}/people/{world['mentor_id']}/capacity",
            {"capacity": "2"},
            COORDINATORS_POST,
        ),
        (
            "programs.move_person",
            "POST",
            f"/programs/{slug}/people/{person_id}/cohort/fall",
            {"cohort": ""},
            COORDINATORS_POST,
        ),
        (
            "programs.end_person_membership",
            "POST",
            f"/programs/{slug}/people/{person_id}/memberships/{subject_membership}/end",
            {"reason": "Left"},
            COORDINATORS_POST,
        ),
        (
            "programs.record_assesses",
            "POST",
            f"/programs/{slug}/people/{person_id}/assesses",
            {"trainee_email": "nobody@example.edu"},
            COORDINATORS_POST,
        ),
        (
            "programs.remove_assesses",
            "POST",
            f"/programs/{slug}/people/{person_id}/assesses/999/remove",
            {},
            COORDINATORS_POST,
        ),
        ("roster.upload", "GET", f"{term}/import", {}, COORDINATORS),
        ("roster.preview", "GET", f"{term}/import/{upload}", {}, COORDINATORS),
        ("roster.export_csv", "GET", f"{term}/roster.csv", {}, COORDINATORS),
        ("roster.export_xlsx", "GET", f"{term}/roster.xlsx", {}, COORDINATORS),
        ("admin.programs", "GET", "/admin/", {}, {"anonymous": LOGIN, **ADMIN_ONLY}),
        ("admin.new_program", "GET", "/admin/programs/new", {}, {"anonymous": LOGIN, **ADMIN_ONLY}),
        (
            "admin.edit_program",
            "GET",
            f"/admin/programs/{slug}/edit",
            {},
            {"anonymous": LOGIN, **ADMIN_ONLY},
        ),
        (
            "admin.program_coordinators",
            "GET",
            f"/admin/programs/{slug}/coordinators",
            {},
            {"anonymous": LOGIN, **ADMIN_ONLY},
        ),
        (
            "admin.end_coordinator",
            "POST",
            f"/admin/programs/{slug}/coordinators/{membership_id}/end",
            {},
            {"anonymous": LOGIN, **ADMIN_ONLY_POST},
        ),
        (
            "admin.sign_in_mode",
            "POST",
            "/admin/settings/sign-in",
            {"mode": "both", "break_glass_id": "0"},
            {"anonymous": LOGIN, **ADMIN_ONLY_POST},
        ),
        ("admin.people", "GET", "/admin/people", {}, {"anonymous": LOGIN, **ADMIN_ONLY}),
        (
            "admin.person",
            "GET",
            f"/admin/people/{person_id}",
            {},
            {"anonymous": LOGIN, **ADMIN_ONLY},
        ),
        (
            "admin.set_person_active",
            "POST",
            f"/admin/people/{person_id}/active",
            {"active": "1"},
            {"anonymous": LOGIN, **ADMIN_ONLY_POST},
        ),
        (
            "admin.invite_person",
            "POST",
            f"/admin/people/{person_id}/invite",
            {},
            {"anonymous": LOGIN, **ADMIN_ONLY_POST},
        ),
        ("admin.settings", "GET", "/admin/settings", {}, {"anonymous": LOGIN, **ADMIN_ONLY}),
        ("admin.audit", "GET", "/admin/audit", {}, {"anonymous": LOGIN, **ADMIN_ONLY}),
        ("admin.mail", "GET", "/admin/mail", {}, {"anonymous": LOGIN, **ADMIN_ONLY}),
        (
            "admin.send_message_again",
            "POST",
            "/admin/mail/1/again",
            {},
            {"anonymous": LOGIN, **ADMIN_ONLY_POST},
        ),
        (
            "admin.change_person_email",
            "POST",
            f"/admin/people/{person_id}/email",
            {"email": "renamed@example.edu"},
            {"anonymous": LOGIN, **ADMIN_ONLY_POST},
        ),
        # Meetings: the pair's own two people; to anyone else the pairing does not exist.
        (
            "meetings.new",
            "GET",
            f"/meetings/new/assignment/{world['assignment_id']}",
            {},
            {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 404), "trainee": 200, "mentor": 200},
        ),
        ("meetings.propose_from_link", "GET", "/meetings/propose/x", {}, dict.fromkeys(ROLES, 400)),
        ("meetings.accept_link", "GET", "/meetings/accept/x", {}, dict.fromkeys(ROLES, 400)),
        ("meetings.other_times", "GET", "/meetings/other-times/x", {}, dict.fromkeys(ROLES, 400)),
        (
            "meetings.cancel_view",
            "POST",
            "/meetings/999999/cancel",
            {},
            {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 404)},
        ),
        (
            "meetings.accept_here",
            "POST",
            "/meetings/999999/accept/0",
            {},
            {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 404)},
        ),
        (
            "meetings.calendar",
            "GET",
            "/meetings/999999/invitation.ics",
            {},
            {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 404)},
        ),
        # The directory: this program's members (and admins); a person's own listing needs a
        # place in the coffee track, which an admin who is no member lacks.
        # A mentor's record: one's own for anyone signed in; a coordinator's copy of a member's.
        (
            "home.mentoring_record",
            "GET",
            "/account/mentoring-record",
            {},
            {"anonymous": LOGIN, **ALL_SIGNED_IN},
        ),
        (
            "programs.mentoring_record",
            "GET",
            f"/programs/{slug}/people/{person_id}/mentoring-record",
            {},
            COORDINATORS,
        ),
        # A term's findings and actions: this program's coordinators (and admins).
        (
            "reporting.add_action_view",
            "POST",
            f"/programs/{slug}/terms/fall/actions",
            {"finding": "Few met.", "action": "Remind at one week."},
            COORDINATORS_POST,
        ),
        (
            "reporting.follow_up_action",
            "POST",
            f"/programs/{slug}/actions/999999",
            {"status": "done"},
            {**COORDINATORS, "coordinator": 404, "admin": 404},
        ),
        ("asks.directory", "GET", f"/programs/{slug}/directory", {}, members),
        (
            "asks.my_listing",
            "GET",
            f"/programs/{slug}/directory/me",
            {},
            {**members, "admin": 403},
        ),
        (
            "asks.listing_state",
            "POST",
            f"/programs/{slug}/directory/me/state",
            {"action": "pause"},
            {**members, **dict.fromkeys(["trainee", "mentor", "coordinator", "admin"], 302)},
        ),
        # Nobody is open to asks in this world: the person is not found, for whoever may look.
        (
            "asks.ask",
            "GET",
            f"/programs/{slug}/directory/{person_id}/ask",
            {},
            {**members, **dict.fromkeys(["trainee", "mentor", "coordinator", "admin"], 404)},
        ),
        ("asks.answer_link", "GET", "/ask/not-a-token", {}, dict.fromkeys(ROLES, 400)),
        (
            "asks.answer_here",
            "POST",
            "/asks/999999/answer",
            {"answer": "yes"},
            {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 404)},
        ),
        (
            "asks.withdraw",
            "POST",
            "/asks/999999/withdraw",
            {},
            {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], 404)},
        ),
        ("asks.guest_list", "GET", f"/programs/{slug}/guests", {}, COORDINATORS),
        (
            "asks.guest_remove",
            "POST",
            f"/programs/{slug}/guests/999999/remove",
            {},
            COORDINATORS_POST,
        ),
        # Slack's requests: not found where Slack is not set up; where it is, the request's
        # signature is the only key (tests/chat/test_slack.py).
        ("chat.slack_events", "POST", "/slack/events", {}, dict.fromkeys(ROLES, 404)),
        # Teams' bot likewise: its signed token is the only key (tests/chat/test_teams.py).
        ("chat.teams_messages", "POST", "/api/messages", {}, dict.fromkeys(ROLES, 404)),
        # The signed link is the only key; a forged one is refused to everyone alike.
        (
            "home.unsubscribe",
            "GET",
            "/account/unsubscribe/not-a-token",
            {},
            dict.fromkeys(ROLES, 400),
        ),
    ]


@pytest.fixture
def world(make):
    program = make.program("Internal Medicine Residency", slug="im")
    other = make.program("Surgery Residency", slug="surgery")
    people = {
        "trainee": make.trainee(program),
        "mentor": make.mentor(program),
        "coordinator": make.coordinator(program),
        "other_coordinator": make.coordinator(other),
        "dean": make.dean(),
        "admin": make.admin(),
    }
    subject = make.trainee(program, name="Sam Subject")
    term = make.term(program, slug="fall")
    upload = make.roster_upload(program, term, people["coordinator"])
    assignment = make.assignment(term, people["mentor"], people["trainee"])
    check_in = make.check_in(people["trainee"], assignment)
    availability = make.availability(term, people["mentor"])
    survey_response = make.survey_response(term, people["trainee"])
    with make.app.app_context():
        membership_id, subject_membership_id = (
            db.session.scalar(sa.select(Membership.id).where(Membership.person_id == person_id))
            for person_id in (people["coordinator"].id, subject.id)
        )
    return {
        "slug": program.slug,
        "people": people,
        "person_id": subject.id,
        "membership_id": membership_id,
        "subject_membership_id": subject_membership_id,
        "upload_id": upload,
        "check_in_id": check_in,
        "availability_id": availability,
        "survey_response_id": survey_response,
        "assignment_id": assignment,
        "mentor_id": people["mentor"].id,
    }


def test_every_route_declares_a_permission(app):
    missing = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in STATIC_ENDPOINTS
        and not getattr(app.view_functions[rule.endpoint], "permission", None)
    ]
    assert missing == [], f"routes without a declared permission: {missing}"


def test_the_matrix_covers_every_route(app, world):
    covered = {row[0] for row in matrix(world)}
    routes = {rule.endpoint for rule in app.url_map.iter_rules()} - STATIC_ENDPOINTS
    assert routes - covered == set(), "add the new routes to the permission matrix"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_answer(app, world, role):
    def signed_in_client():
        client = app.test_client()
        if role != "anonymous":
            assert login(client, world["people"][role].email).status_code == 302
        return client

    shared = signed_in_client()
    failures = []
    for endpoint, method, url, data, expected_by_role in matrix(world):
        # Signing out ends the session, so that route gets a client of its own; and it ends
        # every session of that person, so the shared client signs in again after it.
        client = signed_in_client() if endpoint == "accounts.logout" else shared
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        if endpoint == "accounts.logout":
            shared = signed_in_client()
        expected = expected_by_role[role]
        if expected == LOGIN:
            ok = response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            ok = response.status_code == expected
        if not ok:
            failures.append((endpoint, url, expected, response.status_code))
    assert failures == []


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(app, make, client):
    admin = make.admin()
    login(client, admin.email)
    response = client.post(
        "/admin/programs/new", data={"name": "Sneaky", "slug": "sneaky"}, csrf=False
    )
    assert response.status_code == 400
    assert "expired or was sent from elsewhere" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Program)) == 0


def test_sign_in_itself_needs_a_csrf_token(client, make):
    person = make.person()
    response = client.post("/login", data={"email": person.email, "password": "x"}, csrf=False)
    assert response.status_code == 400


def test_may_follows_current_memberships_only(app, make):
    program = make.program()
    coordinator = make.coordinator(program)
    inactive_admin = make.admin(active=False)
    with app.app_context():
        person = db.session.get(Person, coordinator.id)
        prog = db.session.get(Program, program.id)
        assert may(person, Action.MANAGE_PROGRAM, prog)
        assert may(person, Action.VIEW_REPORTS, prog)
        assert not may(person, Action.ADMINISTER)
        membership = db.session.scalar(
            sa.select(Membership).where(Membership.person_id == person.id)
        )
        from program.db import utc_now

        membership.ended_at = utc_now()
        db.session.flush()
        assert not may(person, Action.MANAGE_PROGRAM, prog)
        assert not may(person, Action.PARTICIPATE, prog)
        assert not may(db.session.get(Person, inactive_admin.id), Action.ADMINISTER)
        assert not may(None, Action.PARTICIPATE, prog)
        db.session.rollback()


def test_dean_reads_reports_everywhere_but_manages_nothing(app, make):
    program = make.program()
    dean = make.dean()
    with app.app_context():
        person = db.session.get(Person, dean.id)
        prog = db.session.get(Program, program.id)
        assert may(person, Action.VIEW_REPORTS, prog)
        assert may(person, Action.VIEW_REPORTS)
        assert not may(person, Action.MANAGE_PROGRAM, prog)
        assert not may(person, Action.ADMINISTER)


def test_may_in_answers_as_may_does_for_each_program_in_one_query(app, make):
    """A list of forty programs asks once for the person's roles, and answers as `may` would
    for each: a coordinator's, a trainee's, an ended coordinator's, a dean's, an admin's."""
    programs = [make.program(f"Program {n}", slug=f"p{n}") for n in range(6)]
    coordinator = make.coordinator(programs[0])
    make.coordinator(programs[1], person=coordinator)
    make.trainee(programs[2], person=coordinator)
    make.coordinator(programs[3], person=coordinator)
    people = [coordinator, make.dean(), make.admin(), make.trainee(programs[4])]
    with app.app_context():
        db.session.execute(
            sa.update(Membership)
            .where(Membership.person_id == coordinator.id, Membership.program_id == programs[3].id)
            .values(ended_at=sa.func.now())
        )
        loaded = [db.session.get(Program, p.id) for p in programs]
        for ref in people:
            person = db.session.get(Person, ref.id)
            for action in Action:
                expected = [p for p in loaded if may(person, action, p)]
                statements = []

                def count(*args, seen=statements):
                    seen.append(args[2])

                sa.event.listen(db.engine, "before_cursor_execute", count)
                try:
                    assert may_in(person, action, loaded) == expected, (ref, action)
                finally:
                    sa.event.remove(db.engine, "before_cursor_execute", count)
                assert len(statements) <= 1
        coordinator_sees = may_in(
            db.session.get(Person, coordinator.id), Action.VIEW_REPORTS, loaded
        )
        assert [p.slug for p in coordinator_sees] == ["p0", "p1"]
        db.session.rollback()


def test_unknown_program_is_404_not_403(client, make):
    coordinator = make.coordinator(make.program())
    login(client, coordinator.email)
    assert client.get("/programs/no-such-program/").status_code == 404
