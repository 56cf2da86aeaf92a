"""Roster import: preview, confirm all or nothing, re-import as a no-op, files as they come."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

import program.roster.services as roster_services
from program.audit.models import AuditEvent
from program.extensions import db
from program.messages.models import Message
from program.people.models import CareerStage, Department, Person
from program.programs.models import Cohort, CohortMember, Membership, Role
from program.roster.models import RosterUpload
from tests.accounts.test_accounts import count
from tests.conftest import login, outbox, text_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROSTER_TABLES_EXCEPT_UPLOADS = None


def data_snapshot(app) -> list:
    """Every row of every table except the uploaded files themselves."""
    with app.app_context():
        return [
            db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            for table in db.metadata.sorted_tables
            if table.name != "roster_upload"
        ]


@pytest.fixture
def setup(make, client):
    program = make.program("Internal Medicine Residency", slug="im")
    coordinator = make.coordinator(program, name="Carmen Reyes")
    term = make.term(program, "Fall 2026", slug="fall-2026")
    login(client, coordinator.email)
    return program, term, coordinator


def upload(client, name: str, content: bytes | None = None, filename: str | None = None):
    data = content if content is not None else (FIXTURES / name).read_bytes()
    return client.post(
        "/programs/im/terms/fall-2026/import",
        data={"file": (io.BytesIO(data), filename or name)},
        content_type="multipart/form-data",
    )


def preview_url(response) -> str:
    assert response.status_code == 302, text_of(response)
    return response.headers["Location"]


class TestCleanRoster:
    def test_preview_writes_nothing_then_confirm_imports_everything(self, app, client, setup):
        before = data_snapshot(app)
        url = preview_url(upload(client, "clean.csv"))
        page = text_of(client.get(url))
        assert "6 to add" in page and "0 problems" in page
        assert "Import 6 changes and e-mail 6 invitations" in page
        assert "Priya Natarajan" in page
        assert "“Cardiology” is a new department" in page
        assert "“PGY-1” is a new cohort of this term" in page
        assert data_snapshot(app) == before

        response = client.post(url)
        assert response.status_code == 302
        done = text_of(client.get(response.headers["Location"]))
        assert "Roster imported: 6 added" in done and "6 invitations in the outbox" in done
        with app.app_context():
            invited = {m.to_address: m.body_text for m in outbox(Message.kind == "invitation")}
        # Each is told what their roles and tracks bring: Lena mentors in the coffee track only.
        lena = invited["lena.fischer@example.edu"]
        assert "- have a coffee chat about once a month" in lena
        assert "mentees" not in lena and "formal mentor" not in lena
        assert "- meet your formal mentor" in invited["priya.natarajan@example.edu"]
        assert (
            "- say each term how many mentees you can take" in invited["miguel.santos@example.edu"]
        )
        with app.app_context():
            priya = db.session.scalar(
                sa.select(Person).where(Person.email == "priya.natarajan@example.edu")
            )
            assert (priya.name, priya.department.name, priya.stage) == (
                "Priya Natarajan",
                "Internal Medicine",
                CareerStage.PGY1,
            )
            assert priya.interests == ["cardiology", "medical education"]
            sam_roles = set(
                db.session.scalars(
                    sa.select(Membership.role)
                    .join(Person)
                    .where(Person.email == "sam.lee@example.edu")
                )
            )
            assert sam_roles == {Role.TRAINEE, Role.MENTOR}
            lena = db.session.scalar(
                sa.select(Membership).join(Person).where(Person.email == "lena.fischer@example.edu")
            )
            assert (lena.formal_track, lena.coffee_track) == (False, True)
            cohorts = dict(
                db.session.execute(
                    sa.select(Person.email, Cohort.name)
                    .join(CohortMember, CohortMember.person_id == Person.id)
                    .join(Cohort)
                ).all()
            )
            assert cohorts["priya.natarajan@example.edu"] == "PGY-1"
            assert len(cohorts) == 4
            invitations = outbox(Message.kind == "invitation")
            assert len(invitations) == 6
            assert all("/invitation/" in m.body_text for m in invitations)
            event = db.session.scalar(
                sa.select(AuditEvent).where(AuditEvent.action == "roster.imported")
            )
            assert event.details["added"] == 6 and event.details["unchanged"] == 0
            assert event.details["file_sha256"]
            assert db.session.scalar(sa.select(RosterUpload.applied_at)) is not None

    def test_importing_the_same_file_again_changes_nothing(self, app, client, setup):
        client.post(preview_url(upload(client, "clean.csv")))
        before = data_snapshot(app)
        url = preview_url(upload(client, "clean.csv"))
        page = text_of(client.get(url))
        assert "6 unchanged" in page
        assert "No changes" in page
        assert "Import 0 changes" not in page
        response = client.post(url, follow_redirects=True)
        assert "No changes" in text_of(response)
        assert data_snapshot(app) == before

    def test_xlsx_imports_like_csv(self, app, client, setup):
        client.post(preview_url(upload(client, "clean.xlsx")))
        assert count(app, Person) == 7  # six imported and the coordinator
        assert "6 unchanged" in text_of(client.get(preview_url(upload(client, "clean.csv"))))

    def test_utf16_reads_like_utf8(self, app, client, setup):
        client.post(preview_url(upload(client, "utf-16.csv")))
        assert "6 unchanged" in text_of(client.get(preview_url(upload(client, "clean.csv"))))


class TestChanges:
    def test_changes_show_old_and_new_values_and_missing_people_are_kept(self, app, client, setup):
        client.post(preview_url(upload(client, "clean.csv")))
        edited = (FIXTURES / "clean.csv").read_text()
        edited = edited.replace(
            "Jonah Whitfield,trainee,Internal Medicine,PGY2,PGY-2",
            "Jonah Whitfield,trainee,internal medicine,PGY3,PGY-3",
        )
        edited = "\n".join(line for line in edited.splitlines() if not line.startswith("amara"))
        url = preview_url(upload(client, "edited.csv", edited.encode()))
        page = text_of(client.get(url))
        assert "1 to change" in page and "1 not in this file" in page
        assert "Stage PGY2 PGY3" in page
        assert "Cohort PGY-2 PGY-3" in page
        assert "Department" not in page.split("To change")[1].split("Not in this file")[0], (
            "case-only department differences are not changes"
        )
        assert "Amara Okafor" in page.split("Not in this file")[1]
        imported = client.post(url)
        assert imported.status_code == 302, text_of(imported)[-600:]
        with app.app_context():
            jonah = db.session.scalar(
                sa.select(Person).where(Person.email == "jonah.whitfield@example.edu")
            )
            assert jonah.stage is CareerStage.PGY3
            amara = db.session.scalar(
                sa.select(Membership).join(Person).where(Person.email == "amara.okafor@example.edu")
            )
            assert amara.ended_at is None  # never removed silently
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Department)) == 3

    def test_someone_from_another_program_joins_without_revealing_or_overwriting(
        self, app, client, setup, make
    ):
        other = make.program("Surgery", slug="surgery")
        make.trainee(other, name="Secret Name", email="priya.natarajan@example.edu")
        url = preview_url(upload(client, "clean.csv"))
        page = text_of(client.get(url))
        assert "1 joining from other programs" in page
        assert "Secret Name" not in page
        imported = client.post(url)
        assert imported.status_code == 302, text_of(imported)[-600:]
        with app.app_context():
            priya = db.session.scalar(
                sa.select(Person).where(Person.email == "priya.natarajan@example.edu")
            )
            assert priya.name == "Secret Name"
            assert priya.stage is CareerStage.PGY1  # the factory's, kept
            assert {m.program.slug for m in priya.memberships} == {"surgery", "im"}
            # She already has a password, so no invitation.
            assert (
                db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Message)
                    .where(Message.recipient_id == priya.id)
                )
                == 0
            )

    def test_reimport_never_renames_someone_another_program_shares(self, app, client, setup, make):
        other = make.program("Surgery", slug="surgery")
        make.trainee(other, name="Dr. Priya Natarajan", email="priya.natarajan@example.edu")
        client.post(preview_url(upload(client, "clean.csv")))
        before = data_snapshot(app)
        url = preview_url(upload(client, "clean.csv"))
        page = text_of(client.get(url))
        assert "Nothing to change" in page or "0 to change" in page, page
        assert "Dr. Priya Natarajan →" not in page
        imported = client.post(url)
        assert imported.status_code == 302, text_of(imported)[-600:]
        assert data_snapshot(app) == before
        with app.app_context():
            priya = db.session.scalar(
                sa.select(Person).where(Person.email == "priya.natarajan@example.edu")
            )
            assert priya.name == "Dr. Priya Natarajan"

    def test_a_person_only_in_this_program_is_renamed_by_the_file(self, app, client, setup, make):
        client.post(preview_url(upload(client, "clean.csv")))
        edited = (FIXTURES / "clean.csv").read_text().replace("Priya Natarajan", "Priya N. Rao")
        url = preview_url(upload(client, "clean.csv", edited.encode()))
        page = text_of(client.get(url))
        assert "Priya Natarajan Priya N. Rao" in page
        imported = client.post(url)
        assert imported.status_code == 302, text_of(imported)[-600:]
        with app.app_context():
            assert (
                db.session.scalar(
                    sa.select(Person.name).where(Person.email == "priya.natarajan@example.edu")
                )
                == "Priya N. Rao"
            )


class TestMessyAndHostileFiles:
    def test_messy_file_is_read_and_its_duplicate_reported_with_its_row(self, app, client, setup):
        url = preview_url(upload(client, "messy.csv"))
        page = text_of(client.get(url))
        assert (
            "Row Column Problem 4 E-mail priya.natarajan@example.edu is already on row 2 of this file."
            in page
        )
        before = data_snapshot(app)
        response = client.post(url)
        assert response.status_code == 200
        assert "problem(s) to fix first; nothing was imported" in text_of(response)
        assert data_snapshot(app) == before

    def test_messy_file_fixed_imports_with_normalised_values(self, app, client, setup, make):
        with app.app_context():
            db.session.add(Department(name="Internal Medicine", name_key="internal medicine"))
            db.session.commit()
        fixed = (
            (FIXTURES / "messy.csv")
            .read_bytes()
            .replace(
                b"PRIYA.NATARAJAN@example.edu,Priya N.,trainee,Internal Medicine,pgy1,PGY-1,,\r\n",
                b"",
            )
        )
        client.post(preview_url(upload(client, "messy.csv", fixed)))
        with app.app_context():
            people = {p.email: p for p in db.session.scalars(sa.select(Person))}
            priya = people["priya.natarajan@example.edu"]
            assert priya.name == "Priya Natarajan"
            assert priya.department.name == "Internal Medicine"  # matched, not duplicated
            assert people["jonah.whitfield@example.edu"].stage is CareerStage.PGY2
            assert people["miguel.santos@example.edu"].stage is CareerStage.MID_CAREER_FACULTY

    def test_windows_1252_names_keep_their_accents(self, app, client, setup):
        client.post(preview_url(upload(client, "windows-1252.csv")))
        with app.app_context():
            names = set(db.session.scalars(sa.select(Person.name)))
        assert {"José Núñez", "Zoë Ångström", "François Bergère – “Frank”"} <= names

    def test_hostile_file_is_escaped_and_reported(self, app, client, setup):
        url = preview_url(upload(client, "hostile.csv"))
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html and "<b>Bold</b>" not in html
        assert "&lt;script&gt;alert" in html
        assert "is too long (10,000 characters; at most 200)" in text_of(response)
        assert re.search(r"<td>6</td><td>Name</td>", html)
        assert "x" * 300 not in html

    def test_formula_cells_are_stored_as_text_and_exported_inert(self, app, client, setup):
        content = (FIXTURES / "hostile.csv").read_text().splitlines()
        safe = "\n".join(line for line in content if not line.startswith("long@")).encode()
        url = preview_url(upload(client, "hostile.csv", safe))
        # The preview flags each formula-like cell with its row and column before anything is
        # written; the coordinator confirms knowing it.
        preview = text_of(client.get(url))
        assert "Worth a look" in preview
        assert (
            'Name: “=HYPERLINK("http://evil.example";"click")” starts like a spreadsheet '
            "formula; it will be stored as text" in preview
        )
        assert "Department: “+cmd” starts like" in preview and "Cohort: “@SUM(A1)”" in preview
        imported = client.post(url)
        assert imported.status_code == 302, text_of(imported)[-600:]
        with app.app_context():
            formula = db.session.scalar(
                sa.select(Person).where(Person.email == "formula@example.edu")
            )
            assert formula.name.startswith("=HYPERLINK")
        exported = client.get("/programs/im/terms/fall-2026/roster.csv").data.decode("utf-8-sig")
        cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
        assert '\'=HYPERLINK("http://evil.example";"click")' in cells
        assert "'+cmd" in cells
        assert not any(c[:1] in ("=", "+", "-", "@") for c in cells if c)
        workbook = load_workbook(
            io.BytesIO(client.get("/programs/im/terms/fall-2026/roster.xlsx").data)
        )
        values = {cell.value: cell.data_type for row in workbook.active.iter_rows() for cell in row}
        assert values['=HYPERLINK("http://evil.example";"click")'] == "s"

    def test_an_xlsx_formula_with_no_saved_value_says_so(self, app, client, setup):
        from tests.roster import hostile

        sheet = iter(
            [
                hostile.SHEET_HEAD + "<sheetData>",
                hostile.header_row(),
                '<row r="2">'
                + hostile._cell("A2", "ada@example.edu")
                + '<c r="B2" t="str"><f>CONCAT(D2," ",E2)</f></c>'
                + hostile._cell("C2", "trainee")
                + "</row>",
                "</sheetData></worksheet>",
            ]
        )
        before = data_snapshot(app)
        preview = text_of(
            client.get(preview_url(upload(client, "x", hostile.workbook(sheet), "r.xlsx")))
        )
        assert (
            'holds a formula (=CONCAT(D2," ",E2)) whose value is not saved in the file' in preview
        )
        assert "is empty; every person needs a name" not in preview
        assert data_snapshot(app) == before

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("binary.csv", None, "This file is not a text CSV file"),
            ("roster.pdf", b"%PDF-1.4", "Upload a .csv or .xlsx file."),
            ("roster.xlsx", b"email,name\n", "is named .xlsx but is not an Excel workbook"),
            ("roster.csv", b"", "The file is empty"),
            (
                "roster.csv",
                b"mail,full name,kind\nx@example.edu,X,trainee\n",
                "has no “Role” column",
            ),
            ("roster.csv", b"name,department\nX,Y\n", "has no “E-mail”, “Role” columns"),
        ],
    )
    def test_unreadable_files_are_refused_with_a_message(
        self, app, client, setup, name, content, message
    ):
        before = data_snapshot(app)
        data = (FIXTURES / name).read_bytes() if content is None else content
        response = upload(client, "x", data, filename=name)
        assert response.status_code == 200
        assert message in text_of(response)
        assert data_snapshot(app) == before
        assert count(app, RosterUpload) == 0

    def test_a_file_over_the_limit_is_refused(self, app, client, setup):
        app.config["ROSTER_MAX_BYTES"] = 1000
        response = upload(
            client, "big.csv", b"email,name,role\n" + b"a@example.edu,A,trainee\n" * 100
        )
        assert "the limit is" in text_of(response)
        assert count(app, RosterUpload) == 0

    def test_closed_term_refuses_imports(self, app, client, setup):
        client.post("/programs/im/terms/fall-2026/closed", data={"closed": "1"})
        response = upload(client, "clean.csv")
        assert "is closed; reopen it" in text_of(response)


def test_a_failure_half_way_through_the_import_writes_nothing(app, client, setup, monkeypatch):
    url = preview_url(upload(client, "clean.csv"))
    before = data_snapshot(app)
    original = roster_services._place_in_cohorts

    def place_then_fail(*args, **kwargs):
        # By now the people and their memberships are written, and so are the cohort places.
        original(*args, **kwargs)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(roster_services, "_place_in_cohorts", place_then_fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post(url)
    assert response.status_code == 500
    assert data_snapshot(app) == before
    with app.app_context():
        assert db.session.get(RosterUpload, int(url.rsplit("/", 1)[1])).applied_at is None


def test_an_upload_of_another_program_is_not_found_here(app, client, setup, make):
    other = make.program("Surgery", slug="surgery")
    other_term = make.term(other, slug="fall-2026")
    upload_id = make.roster_upload(other, other_term, make.coordinator(other))
    assert client.get(f"/programs/im/terms/fall-2026/import/{upload_id}").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_round_trips(app, client, setup, fmt):
    client.post(preview_url(upload(client, "clean.csv")))
    exported = client.get(f"/programs/im/terms/fall-2026/roster.{fmt}")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    if fmt == "csv":
        assert exported.data.startswith(b"\xef\xbb\xbf")
    page = text_of(client.get(preview_url(upload(client, f"roster.{fmt}", exported.data))))
    assert "6 unchanged" in page and "0 to change" in page and "0 to add" in page
    assert "roster.exported" in [e for e in _actions(app)]


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action)))


def test_an_xlsx_export_of_a_term_with_a_slash_in_its_name(app, client, setup, make):
    """Excel forbids / \\ ? * [ ] : in sheet titles; "AY 2027/28" once gave a server error."""
    program, _term, _coordinator = setup
    make.term(program, "AY 2027/28: [Block *1*]?", slug="ay-2027-28")
    response = client.get("/programs/im/terms/ay-2027-28/roster.xlsx")
    assert response.status_code == 200
    title = openpyxl.load_workbook(io.BytesIO(response.data)).active.title
    assert title == "AY 2027-28- -Block -1---"[:31] and len(title) <= 31


def test_the_assesses_column_records_who_never_mentors_whom(app, client, setup):
    from program.formal.models import Assessor

    roster = (
        b"email,name,role,stage,assesses\n"
        b"priya@example.edu,Priya Natarajan,trainee,PGY-1,\n"
        b"omar@example.edu,Omar Haddad,trainee,PGY-2,\n"
        b"santos@example.edu,Dr. Miguel Santos,faculty,Senior faculty,priya@example.edu; omar@example.edu\n"
    )
    url = preview_url(upload(client, "r.csv", roster))
    assert "2 new record(s) of faculty assessing a trainee" in text_of(client.get(url))
    client.post(url)
    with app.app_context():
        pairs = set(
            db.session.execute(
                sa.select(Person.email, Assessor.trainee_id).join(
                    Assessor, Assessor.assessor_id == Person.id
                )
            ).all()
        )
        assert len(pairs) == 2 and {p[0] for p in pairs} == {"santos@example.edu"}
    # The same file again: nothing to record, nothing changes.
    before = data_snapshot(app)
    again = preview_url(upload(client, "r.csv", roster))
    assert "No changes" in text_of(client.get(again))
    client.post(again)
    assert data_snapshot(app) == before
    # An address that is nobody's trainee here, or on a trainee's row, is refused.
    bad = (
        b"email,name,role,assesses\n"
        b"santos@example.edu,Dr. Miguel Santos,faculty,stranger@example.edu\n"
        b"priya@example.edu,Priya Natarajan,trainee,omar@example.edu\n"
    )
    page = text_of(client.get(preview_url(upload(client, "bad.csv", bad))))
    assert "stranger@example.edu is not a trainee of this file or program" in page
    assert "Only faculty (mentors) are recorded as assessing trainees" in page
