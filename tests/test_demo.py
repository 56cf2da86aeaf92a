"""The README's first command: set up the database, seed the demo, print the logins."""

from __future__ import annotations

import sqlalchemy as sa

from program import create_app
from program.audit.models import AuditEvent
from program.checkins.models import CheckIn, CheckInStatus
from program.coffee.models import Enrollment, Round, RoundStatus
from program.db import utc_now
from program.extensions import db
from program.formal.health import Flag
from program.formal.pairs import pair_health
from program.institution import get_settings
from program.meetings.models import Meeting
from program.messages.models import Message
from program.people.models import Person
from program.programs.models import Cohort, Membership, Program, Role, Term
from program.reporting.services import make_report
from reports.data import find_scope, load
from reports.metrics import BY_ID, compute
from reports.metrics import SATISFACTION_TABLE as SATISFACTION
from seed.demo import COFFEE_GHOST, DEMO_PASSWORD, MENTORS, QUIET_TRAINEES, demo_logins
from tests.conftest import login, make_config, text_of


def test_demo_seeds_once_prints_logins_and_every_login_works(empty_database_url):
    app = create_app(make_config(empty_database_url))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "Demo institution created." in result.output
    assert DEMO_PASSWORD in result.output
    for _role, email in demo_logins():
        assert email in result.output

    again = runner.invoke(args=["demo", "--no-serve"])
    assert again.exit_code == 0, again.output
    assert "already there; kept as it is" in again.output

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Program)) == 3
        # The dashboard's aggregates agree with the report's metrics on every program's every
        # term (withdrawals, several rounds, ended and proposed pairs, unanswered check-ins).
        from reports.data import find_scope
        from tests.reports.test_reports import assert_glance_agrees

        with db.engine.connect() as conn:
            for term_slug, program_slug in db.session.execute(
                sa.select(Term.slug, Program.slug).join(Program, Program.id == Term.program_id)
            ).all():
                assert_glance_agrees(conn, find_scope(conn, term_slug, program_slug))
        im = db.session.scalar(sa.select(Program.id).where(Program.slug == "im-residency"))
        roles = db.session.execute(
            sa.select(Membership.role, sa.func.count())
            .where(Membership.program_id == im)
            .group_by(Membership.role)
        ).all()
        assert dict(roles) == {Role.COORDINATOR: 1, Role.MENTOR: 18, Role.TRAINEE: 48}
        people = db.session.scalar(sa.select(sa.func.count()).select_from(Person))
        # The roster came in through the importer, into a term with its cohorts.
        assert db.session.scalar(
            sa.select(AuditEvent.action).where(AuditEvent.action == "roster.imported")
        )
        assert set(
            db.session.scalars(sa.select(Cohort.name).join(Term).where(Term.program_id == im))
        ) == {"PGY-1", "PGY-2", "PGY-3"}
        # A published formal matching filling every place mentors offered (more residents than
        # places: the rest wait, listed with the reason), some pairs silent.
        term = db.session.scalar(sa.select(Term).where(Term.program_id == im))
        rows = pair_health(term)
        assert len(rows) == sum(m[-1] or 0 for m in MENTORS)
        email = dict(db.session.execute(sa.select(Person.id, Person.email)).all())
        paired = {email[r.assignment.trainee_id] for r in rows}
        silent = {email[r.assignment.trainee_id] for r in rows if Flag.SILENT in r.health.flags}
        assert silent == {f"{key}@demo.example.edu" for key in QUIET_TRAINEES} & paired
        assert len(silent) >= 3
        # The demo pair: the mentor answered this month, the trainee's check-in is open.
        month = utc_now().date().replace(day=1)
        answers = dict(
            db.session.execute(
                sa.select(Person.email, CheckIn.status)
                .join(CheckIn, CheckIn.person_id == Person.id)
                .where(
                    CheckIn.period_start == month,
                    Person.email.in_(["mentor@demo.example.edu", "trainee1@demo.example.edu"]),
                )
            ).all()
        )
        assert answers == {
            "mentor@demo.example.edu": CheckInStatus.MET,
            "trainee1@demo.example.edu": None,
        }
        # Four coffee rounds; the ghost is paused and told.
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    Round.status == RoundStatus.PUBLISHED, Round.program_id == im
                )
            )
            == 4
        )
        paused = db.session.scalars(
            sa.select(Person.email)
            .join(Enrollment, Enrollment.person_id == Person.id)
            .where(Enrollment.snooze_reason == "unanswered", Enrollment.program_id == im)
        ).all()
        assert paused == [f"{COFFEE_GHOST}@demo.example.edu"]
        # The other programs have history: two closed terms each, and a trend to report.
        closed = db.session.scalar(
            sa.select(sa.func.count()).select_from(Term).where(Term.closed_at.is_not(None))
        )
        assert closed == 4
        kinds = set(db.session.scalars(sa.select(Message.kind)))
        assert {
            "invitation",
            "availability_request",
            "intro",
            "checkin_prompt",
            "thank_you_nudge",
            "coffee_enrolled",
            "coffee_paused",
        } <= kinds
        db.engine.dispose()
    # Three programs, about 300 people; the other two with two past terms each.
    assert 250 <= people <= 320
    demo_reports_are_useful_and_pass_the_audit(app, runner)
    with app.app_context():
        # One agreed meeting (the demo pair's, invitations in the inbox) and one proposal
        # waiting for a choice.
        statuses = sorted(s.value for s in db.session.scalars(sa.select(Meeting.status)))
        assert statuses == ["agreed", "proposed"]
        invitations = db.session.scalars(
            sa.select(Message).where(Message.kind == "meeting_invitation")
        ).all()
        assert len(invitations) == 2 and all("METHOD:REQUEST" in m.calendar for m in invitations)
        db.engine.dispose()

    app.test_client_class = __import__("tests.conftest", fromlist=["CsrfClient"]).CsrfClient
    expected_pages = {
        "admin": ("/admin/", "Programs"),
        "dean": ("/", "Semester reports for every program"),
        "coordinator": ("/programs/im-residency/", "Internal Medicine Residency"),
        "coordinator (surgery)": ("/programs/surgery-residency/", "at a glance"),
        "coordinator (MD program)": ("/programs/md-program/", "at a glance"),
        "mentor": ("/", "Internal Medicine Residency"),
        "trainee": ("/", "Internal Medicine Residency"),
    }
    for role, email in demo_logins():
        client = app.test_client()
        assert login(client, email, DEMO_PASSWORD).status_code == 302, role
        url, text = expected_pages[role]
        response = client.get(url)
        assert response.status_code == 200 and text in text_of(response), role
        if email == "trainee1@demo.example.edu":
            page = text_of(response)
            assert "Did you meet?" in page and "Dr. Miguel Santos · formal mentoring" in page
    with app.app_context():
        db.engine.dispose()


def demo_reports_are_useful_and_pass_the_audit(app, runner) -> None:
    """Every term's reports: the audit passes; in the current term's program reports at most a
    quarter of the cells are hidden, and no headline figure whose own count, complement and
    base are all at or above the threshold."""
    with app.app_context():
        terms = db.session.execute(
            sa.select(Program.slug, Term.slug, Term.ends_on).join(Term).order_by(Term.starts_on)
        ).all()
        threshold = get_settings().suppression_threshold
        current = {slug: (p, ends) for p, slug, ends in terms if ends >= utc_now().date()}
        for term in sorted({slug for _, slug, _ in terms}):
            result = runner.invoke(args=["report", "audit", "--term", term])
            assert result.exit_code == 0 and "Passed" in result.output, result.output
        headlines: dict[str, list] = {}
        term_of: dict[str, str] = {}
        for program, term, ends in terms:
            if ends < utc_now().date():
                continue
            report = make_report(
                db.session.scalar(sa.select(Program).filter_by(slug=program)), term
            )
            rows = report.computed.rows
            cells = (
                len(rows)
                + len(report.computed.differences)
                + sum(len(d) for d in report.computed.distributions.values())
            )
            assert report.hidden_cells <= cells / 4, (program, report.hidden_cells, cells)
            # The satisfaction table by cohort: the MD program's classes are large enough to
            # read it; its bands and "no rating" are mostly shown.
            lines = [r for r in rows if r.group_kind == "cohort" and r.metric in SATISFACTION]
            if program == "md-program":
                coffee = [r for r in lines if r.track == "coffee"]
                assert coffee and sum(r.suppressed for r in coffee) <= len(coffee) / 3
            # Programs with a past term open with what came of its actions.
            assert bool(report.carried) == (program != "im-residency"), program
            headlines[program] = [r for r in rows if r.group_kind == "all" and r.track != "both"]
            term_of[program] = term
        # A headline figure is hidden for its own small count; or, where the all-programs
        # report's sum would pin another program's small one and only headline figures can
        # protect it (the protection's documented last resort), to protect that one.
        small = {
            (r.track, r.metric)
            for rows in headlines.values()
            for r in rows
            if r.suppressed and r.hidden_reason != "protects another cell"
        }
        for program, rows in headlines.items():
            for row in rows:
                # (Both tracks' network figures are the tracks' added: where one track's is
                # hidden, one of the three must be, and theirs gives way.)
                if not row.suppressed:
                    continue
                protecting = row.hidden_reason == "protects another cell"
                if protecting and (row.track, row.metric) in small:
                    continue
                kind = BY_ID[row.metric].kind
                own = [v for v in truth_of(app, program, term_of[program], row) if v is not None]
                assert kind != "count" and any(v < threshold for v in own), (program, row)
        assert current
        db.engine.dispose()


def truth_of(app, program: str, term: str, row) -> tuple:
    """A headline row's own count, complement and base before anything was hidden."""
    with db.engine.connect() as conn:
        frames = load(conn, find_scope(conn, term, program))
    computed = compute(frames, with_next_term=False)
    mine = computed.get(row.track, row.metric)
    if mine.denominator is None:
        return (mine.n,)
    return (mine.numerator, mine.denominator - mine.numerator, mine.denominator)


def test_demo_refuses_a_database_that_holds_real_people(app, make):
    make.person("Real Person", email="real.person@hospital.example.org")
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Person))
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code != 0
    assert "not a demo database" in result.output and "writes nothing" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)) == before
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Program)) == 0


def test_demo_serves_only_on_this_machine(app):
    result = app.test_cli_runner().invoke(args=["demo", "--host", "0.0.0.0"])
    assert result.exit_code != 0 and "only on this machine" in result.output


def test_demo_inbox_answers_only_this_machine(app, client):
    app.config["DEMO"] = True
    assert client.get("/demo/inbox").status_code == 200
    remote = client.get("/demo/inbox", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 404


def test_a_demo_served_again_on_another_port_links_its_mail_there(app, make):
    from seed.demo import point_links_at

    person = make.person("Demo Person", email="trainee1@demo.example.edu")
    with app.app_context():
        db.session.add(
            Message(
                recipient_id=person.id,
                to_address=person.email,
                kind="invitation",
                subject="Welcome",
                body_text="Set a password: http://127.0.0.1:5000/accounts/set/abc and "
                "https://mentoring.example.edu/keep",
                body_html='<a href="http://localhost:5000/checkin/x">We met</a>',
            )
        )
        db.session.commit()
        assert point_links_at("http://127.0.0.1:5101") == 1
        db.session.commit()
        message = db.session.scalar(sa.select(Message))
        assert message.body_text == (
            "Set a password: http://127.0.0.1:5101/accounts/set/abc and "
            "https://mentoring.example.edu/keep"
        )
        assert message.body_html == '<a href="http://127.0.0.1:5101/checkin/x">We met</a>'
        assert point_links_at("http://127.0.0.1:5101") == 0
