"""A mentor's own record (issue 19, part 5): counted, never named; ratings only as an aggregate
of at least the threshold of respondents; a coordinator's copy covers their program only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pdfua
import pikepdf
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from program.audit.models import AuditEvent
from program.checkins.models import CheckIn, CheckInStatus
from program.extensions import db
from program.formal.models import Availability
from program.people.models import Person
from tests.conftest import login, text_of

SEP = datetime(2026, 9, 1, 9, tzinfo=UTC)
PERIOD = "starts=2026-08-01&ends=2026-12-31"
AFTER_FALL = datetime(2027, 1, 15, 9, tzinfo=UTC)


@pytest.fixture
def record_world(app, make, time_machine):
    """Dr. Mira Mentor has three mentees in Medicine and two coffee chats there, each rating
    their meeting of October 2026 (five people, Fall 2026); she also mentors one trainee in
    Surgery (one rating), which Medicine's coordinator must not see. The clock: January 2027,
    Fall 2026 over."""
    time_machine.move_to(AFTER_FALL)
    medicine = make.program("Medicine", slug="med")
    surgery = make.program("Surgery", slug="surg")
    coordinator = make.coordinator(medicine, name="Cora Coordinator")
    other = make.coordinator(surgery, name="Sam Surgeon")
    mentor = make.mentor(medicine, name="Dr. Mira Mentor")
    make.mentor(surgery, person=mentor)
    term = make.term(medicine, slug="fall")
    surgery_term = make.term(surgery, slug="fall")
    trainees = [make.trainee(medicine, name=f"Trainee Secret{n}") for n in range(3)]
    outsider = make.trainee(surgery, name="Trainee Elsewhere")
    pairs = [make.assignment(term, mentor, t, started_at=SEP) for t in trainees]
    elsewhere = make.assignment(surgery_term, mentor, outsider, started_at=SEP)
    round_id = make.coffee_round(medicine, SEP)
    partner = make.trainee(medicine, name="Trainee Partner")
    chat = make.chat(round_id, mentor, partner)
    second = make.trainee(medicine, name="Trainee Second")
    second_chat = make.chat(make.coffee_round(medicine, SEP, number=2), mentor, second)
    with app.app_context():
        answered = datetime(2026, 10, 9, tzinfo=UTC)

        def met(person, rating, **pairing):
            db.session.add(
                CheckIn(
                    person_id=person.id,
                    period_start=date(2026, 10, 1),
                    status=CheckInStatus.MET,
                    met_on=date(2026, 10, 5),
                    rating=rating,
                    answered_at=answered,
                    **pairing,
                )
            )

        for trainee, pair in zip(trainees, pairs, strict=True):
            met(trainee, 5, assignment_id=pair)
        met(outsider, 2, assignment_id=elsewhere)
        met(partner, 4, chat_id=chat)
        met(second, 4, chat_id=second_chat)
        db.session.add(
            Availability(
                term_id=term.id,
                person_id=mentor.id,
                accepting=True,
                capacity=3,
                answered_at=SEP,
            )
        )
        db.session.commit()
    return {
        "mentor": mentor,
        "coordinator": coordinator,
        "other": other,
        "trainees": trainees,
        "pairs": pairs,
        "outsider": outsider,
        "second": second,
    }


def rows(response) -> dict[tuple[str, str], str]:
    text = response.get_data().decode("utf-8-sig")
    return {(r["program"], r["item"]): r["value"] for r in csv.DictReader(io.StringIO(text))}


def test_a_mentor_downloads_their_record_counted_never_named(app, client, record_world):
    login(client, record_world["mentor"].email)
    assert "Your mentoring record" in text_of(client.get("/"))
    page = client.get("/account/mentoring-record")
    assert page.status_code == 200 and "Mentoring record" in text_of(page)
    found = rows(client.get(f"/account/mentoring-record?{PERIOD}&fmt=csv"))
    assert found[("Medicine", "formal mentees")] == "3"
    assert found[("Medicine", "formal meetings recorded")] == "3"
    assert found[("Medicine", "coffee-chat partners")] == "2"
    assert found[("Medicine", "coffee chats that met")] == "2"
    assert found[("Medicine", "availability offered")] == "Fall 2026: 3 places"
    assert found[("Surgery", "formal mentees")] == "1"
    assert found[("All programs", "formal mentees")] == "4"
    # 5 people rated in Medicine's Fall 2026: shown. Surgery's one rating is not counted (the
    # record without it would tell it).
    assert found[("All programs", "usefulness rating")].startswith(
        "Median 5 of 5 from 5 ratings by 5 people over 1 term; 100% rated 4 or 5. 1 more not "
        "counted."
    )
    response = client.get(f"/account/mentoring-record?{PERIOD}&fmt=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Mentoring record: Dr. Mira Mentor" in text and "Median 5 of 5" in text
    for name in ("Secret", "Elsewhere", "Partner"):
        assert name not in text and name not in response.get_data(as_text=False).decode("latin-1")
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "report.mentoring_record")
            )
            == 2
        )


def test_ratings_from_fewer_than_the_threshold_are_not_shown_at_all(app, client, record_world):
    with app.app_context():
        db.session.execute(
            sa.update(CheckIn)
            .where(CheckIn.person_id == record_world["second"].id)
            .values(rating=None)
        )
        db.session.commit()
    login(client, record_world["mentor"].email)
    found = rows(client.get(f"/account/mentoring-record?{PERIOD}&fmt=csv"))
    line = found[("All programs", "usefulness rating")]
    assert line.startswith("Not shown: no term of the period can be counted")
    assert "at least 5 people rated" in line and "Median" not in line


def test_a_coordinators_copy_covers_their_program_only(app, client, record_world):
    mentor_id = record_world["mentor"].id
    login(client, record_world["coordinator"].email)
    found = rows(client.get(f"/programs/med/people/{mentor_id}/mentoring-record?{PERIOD}&fmt=csv"))
    assert found[("Medicine", "formal mentees")] == "3"
    assert ("Surgery", "formal mentees") not in found
    # Medicine's term alone: the same figure as the mentor's own record, so the two copies
    # together tell nothing of Surgery's one rating.
    assert found[("All programs", "usefulness rating")].startswith(
        "Median 5 of 5 from 5 ratings by 5 people over 1 term; 100% rated 4 or 5. Ratings"
    )
    # Someone who is not in the program is not found; another program's coordinator is refused.
    outsider = record_world["outsider"].id
    assert client.get(f"/programs/med/people/{outsider}/mentoring-record").status_code == 404
    other = app.test_client()
    login(other, record_world["other"].email)
    assert other.get(f"/programs/med/people/{mentor_id}/mentoring-record").status_code == 403


def test_no_two_downloads_differ_by_one_persons_rating(app, client, record_world, time_machine):
    """Ratings go by whole ended terms: any period touching Fall 2026 gives the same figure,
    a term still running gives none, and a term one person rated mostly is not counted."""
    login(client, record_world["mentor"].email)

    def line(period: str) -> str:
        found = rows(client.get(f"/account/mentoring-record?{period}&fmt=csv"))
        return found[("All programs", "usefulness rating")]

    whole = line(PERIOD)
    assert whole.startswith("Median 5 of 5 from 5 ratings")
    for period in (
        "starts=2026-08-01&ends=2026-10-03",  # before October's ratings
        "starts=2026-10-06&ends=2026-10-06",  # one day
        "starts=2026-12-30&ends=2027-01-10",  # the term's last days and after
    ):
        assert line(period) == whole, period
    assert line("starts=2027-01-01&ends=2027-01-14").startswith("Not shown")
    # Back in November, Fall 2026 still running: nothing of its ratings yet.
    time_machine.move_to(datetime(2026, 11, 20, 9, tzinfo=UTC))
    login(client, record_world["mentor"].email)
    assert line("starts=2026-08-01&ends=2026-11-19").startswith(
        "Not shown: no term of the period can be counted"
    )
    time_machine.move_to(AFTER_FALL)
    login(client, record_world["mentor"].email)
    # One mentee rates four more months: 5 of the term's 9 ratings are theirs.
    with app.app_context():
        for month in (8, 9, 11, 12):
            db.session.add(
                CheckIn(
                    person_id=record_world["trainees"][0].id,
                    assignment_id=record_world["pairs"][0],
                    period_start=date(2026, month, 1),
                    status=CheckInStatus.MET,
                    met_on=date(2026, month, 5),
                    rating=1,
                    answered_at=datetime(2026, month, 9, tzinfo=UTC),
                )
            )
        db.session.commit()
    assert line(PERIOD).startswith("Not shown: no term of the period can be counted")


def test_a_bad_period_is_refused_with_a_message_and_no_file(app, client, record_world):
    login(client, record_world["mentor"].email)
    response = client.get("/account/mentoring-record?starts=2026-12-01&ends=2026-01-01&fmt=pdf")
    assert response.status_code == 400 and "start before it ends" in text_of(response)
    response = client.get("/account/mentoring-record?starts=not-a-date&fmt=csv")
    assert response.status_code == 400 and response.mimetype == "text/html"
    response = client.get("/account/mentoring-record?starts=2000-01-01&ends=2026-01-01&fmt=csv")
    assert response.status_code == 400 and "at most 10 years" in text_of(response)


def structure(pdf: pikepdf.Pdf) -> list[tuple[str, Any]]:
    """The structure tree's elements in reading order: (type, the element)."""
    return structure_of(pdf.Root.StructTreeRoot)


def structure_of(element: Any) -> list[tuple[str, Any]]:
    """An element's descendants in reading order: (type, the element)."""
    found: list[tuple[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
            found.append((str(node.S)[1:], node))
            if "/K" in node:
                walk(node.K)

    walk(element.get("/K", pikepdf.Array()))
    return found


def children(element: Any) -> list[str]:
    """The types of an element's own child elements."""
    kids = element.get("/K", [])
    kids = kids if isinstance(kids, pikepdf.Array) else [kids]
    return [str(k.S)[1:] for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k]


def test_the_record_is_a_tagged_archival_pdf_a_screen_reader_can_follow(app, client, record_world):
    """PDF/UA-1 and PDF/A-2a: tagged in reading order, headings and a table with header cells,
    its title shown and language set, every font embedded, a Chinese name printed as itself."""
    with app.app_context():
        mentor = db.session.get(Person, record_world["mentor"].id)
        mentor.name = "Dr. 王秀英 Wang"
        db.session.commit()
    login(client, record_world["mentor"].email)
    response = client.get(f"/account/mentoring-record?{PERIOD}&fmt=pdf")
    assert response.status_code == 200
    path = Path(app.instance_path) / "record.pdf"
    path.write_bytes(response.data)
    # The machine-checkable rules of PDF/UA-1 find nothing.
    assert pdfua.validate(str(path)).findings == ()
    with pikepdf.open(path) as pdf:
        assert pdf.Root.MarkInfo.Marked is True and str(pdf.Root.Lang) == "en"
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        meta = pdf.open_metadata()
        assert meta["dc:title"] == "Mentoring record: Dr. 王秀英 Wang"
        assert meta["pdfuaid:part"] == "1"
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("2", "A")
        elements = structure(pdf)
        headings = [kind for kind, _ in elements if kind in ("H1", "H2", "H3")]
        assert headings == ["H1", "H2", "H2", "H2"]
        rows = [element for kind, element in elements if kind == "TR"]
        # The header row is header cells, each a column's header; the others are data cells.
        assert children(rows[0]) == ["TH"] * 5
        scopes = [
            str(attributes.Scope)
            for kind, cell in elements
            if kind == "TH"
            for attributes in cell.A
            if str(attributes.O) == "/Table"
        ]
        assert scopes == ["/Column"] * 5
        assert all(children(row) == ["TD"] * 5 for row in rows[1:]) and len(rows) == 4
        fonts = {
            str(font.BaseFont): font for page in pdf.pages for font in page.Resources.Font.values()
        }
        for name, font in fonts.items():
            descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = descendant.FontDescriptor
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), name
        if CJK_FONT:
            assert not any("LastResort" in name for name in fonts)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)
    assert "Formal mentees" in text and "Page 1 of 1" in text
    if CJK_FONT:
        assert "王秀英" in text


# A font with Chinese, Japanese and Korean characters, as .ci/run installs (fonts-wqy-zenhei);
# without one the PDFs are still tagged and valid, and print such names as boxes.
CJK_FONT = any(
    next(Path(folder).glob("**/wqy-zenhei.ttc"), None)
    for folder in ("/usr/share/fonts", "/usr/local/share/fonts")
    if Path(folder).is_dir()
)
