"""Outcomes brought in (program/outcomes): a dean defines measures, uploads a term's file,
previews it and applies it whole or not at all; a re-import replaces the term's values; every
refusal writes nothing; each import is audited; nobody but deans and admins gets near it."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from program.audit.models import AuditEvent
from program.extensions import db
from program.outcomes.models import Measure, OutcomeUpload, OutcomeValue
from tests.conftest import login, text_of


@pytest.fixture
def world(app, make):
    program = make.program("Internal Medicine Residency", slug="im")
    people = [make.trainee(program, name=f"Resident {n}") for n in range(3)]
    outsider = make.person(name="Not On A Roster")
    make.term(program, slug="fall")
    dean = make.dean()
    return {"program": program, "people": people, "outsider": outsider, "dean": dean}


def define(client, **fields):
    data = {
        "name": "Well-being index",
        "kind": "numeric",
        "definition": "The Mayo well-being index, 0-9, taken each spring.",
        "source": "The annual well-being survey",
        "better": "lower",
        "favourable": "",
        "minimum_group": "10",
        **fields,
    }
    return client.post("/outcomes/", data=data, follow_redirects=True)


def upload(client, text: str, name: str = "outcomes.csv", term: str = "fall"):
    return client.post(
        "/outcomes/upload",
        data={"term": term, "file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def values(app) -> set[tuple]:
    with app.app_context():
        return set(
            db.session.execute(
                sa.select(
                    OutcomeValue.person_id, OutcomeValue.number, OutcomeValue.answer
                ).order_by(OutcomeValue.id)
            ).all()
        )


def test_a_dean_defines_measures_and_the_refusals_say_why(app, client, world):
    login(client, world["dean"].email)
    assert "The measure “Well-being index” is defined" in text_of(define(client))
    assert "exists already" in text_of(define(client, name="well-being  INDEX"))
    no_answer = define(client, name="Match", kind="categorical", better="higher")
    assert "Name the favourable answer" in text_of(no_answer)
    too_few = define(client, name="Products", minimum_group="4")
    assert "Number must be between 5 and 1000" in text_of(too_few)
    define(client, name="Match", kind="categorical", better="higher", favourable="first choice")
    with app.app_context():
        assert db.session.scalars(sa.select(Measure.name).order_by(Measure.id)).all() == [
            "Well-being index",
            "Match",
        ]
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEvent.action == "outcomes.measure_defined")
            )
            == 2
        )


def test_a_file_is_previewed_then_imported_whole_and_a_reimport_replaces(app, client, world):
    login(client, world["dean"].email)
    define(client)
    define(client, name="Match", kind="categorical", better="higher", favourable="first choice")
    a, b, c = (p.email for p in world["people"])
    page = upload(client, f"Email,Well-being index,Match\n{a},3.5,first choice\n{b},,other\n")
    assert "2 rows matched" in text_of(page)
    assert "Well-being index: 1 values" in text_of(page) and "Match: 2 values" in text_of(page)
    assert values(app) == set()  # a preview writes nothing
    with app.app_context():
        upload_id = db.session.scalar(sa.select(OutcomeUpload.id))
    done = client.post(f"/outcomes/uploads/{upload_id}", follow_redirects=True)
    assert "The outcomes are imported" in text_of(done)
    ids = {p.email: p.id for p in world["people"]}
    assert values(app) == {
        (ids[a], 3.5, None),
        (ids[a], None, "first choice"),
        (ids[b], None, "other"),
    }
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "outcomes.imported")
        )
        assert event.details["people"] == 2 and event.actor_id == world["dean"].id
        assert db.session.get(OutcomeUpload, upload_id).content == b""  # the file is not kept
    # The same file twice is refused; a new file of the well-being index replaces its values.
    assert "imported already" in text_of(
        client.post(f"/outcomes/uploads/{upload_id}", follow_redirects=True)
    )
    again = upload(client, f"email,Well-being index\n{c},6\n")
    assert "replacing the 1 this term has" in text_of(again)
    with app.app_context():
        second = db.session.scalar(sa.select(sa.func.max(OutcomeUpload.id)))
    client.post(f"/outcomes/uploads/{second}")
    assert values(app) == {
        (ids[c], 6.0, None),
        (ids[a], None, "first choice"),
        (ids[b], None, "other"),
    }


def test_a_file_with_any_problem_imports_nothing(app, client, world):
    login(client, world["dean"].email)
    define(client)
    a, b, _ = (p.email for p in world["people"])
    page = upload(
        client,
        f"email,Well-being index,Shoe size\n{a},abc,\n{world['outsider'].email},4,\n{a},5,\n{b},nan,\n",
    )
    said = text_of(page)
    assert "The column “Shoe size” is not a measure defined in Hallway" in said
    assert "Row 2, “Well-being index”: “abc” is not a number." in said
    assert "Row 4: " + a + " is also on row 2." in said
    assert "Row 5, “Well-being index”: “nan” is not a number." in said
    assert (
        f"Row 3: no one with the address {world['outsider'].email} is on this term's rosters."
        in said
    )
    assert "Import " not in said  # no button
    with app.app_context():
        upload_id = db.session.scalar(sa.select(OutcomeUpload.id))
    refused = client.post(f"/outcomes/uploads/{upload_id}", follow_redirects=True)
    assert "Nothing was imported: the file has 5 problems" in text_of(refused)
    assert values(app) == set()


def test_unreadable_files_are_refused_before_they_are_kept(app, client, world):
    login(client, world["dean"].email)
    define(client)
    assert "needs one “email” column" in text_of(upload(client, "name,Well-being index\nA,3\n"))
    assert "Upload a .csv or .xlsx file." in text_of(upload(client, "x", name="outcomes.pdf"))
    assert "Not a valid choice" in text_of(upload(client, "email\n", term="no-such-term"))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutcomeUpload)) == 0


def test_an_xlsx_file_reads_as_its_csv_would(app, client, world):
    login(client, world["dean"].email)
    define(client)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["E-mail", "Well-being index"])
    sheet.append([world["people"][0].email, 2])
    data = io.BytesIO()
    book.save(data)
    page = client.post(
        "/outcomes/upload",
        data={"term": "fall", "file": (io.BytesIO(data.getvalue()), "ir.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "1 rows matched" in text_of(page) and "Well-being index: 1 values" in text_of(page)


def test_coordinators_and_trainees_never_reach_outcomes(app, make, world):
    coordinator = make.coordinator(world["program"])
    for who in (coordinator, world["people"][0]):
        browser = app.test_client()
        login(browser, who.email)
        assert browser.get("/outcomes/").status_code == 403
        assert "Outcomes" not in text_of(browser.get("/"))
