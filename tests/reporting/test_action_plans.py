"""Action plans (issue 19, part 4): a coordinator records a term's findings and actions on its
report page and follows them up; the next term's report opens with them, the all-programs
report lists every program's; audited; others refused."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from program.audit.models import AuditEvent
from program.extensions import db
from program.reporting.models import ActionItem, ActionStatus
from tests.conftest import login, text_of


@pytest.fixture
def plans(make):
    medicine = make.program("Medicine", slug="med")
    surgery = make.program("Surgery", slug="surg")
    coordinator = make.coordinator(medicine, name="Cora Coordinator")
    other = make.coordinator(surgery, name="Sam Surgeon")
    make.trainee(medicine)
    make.trainee(surgery)
    for program in (medicine, surgery):
        make.term(
            program,
            "Spring 2026",
            slug="spring-2026",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 6, 30),
        )
        make.term(program, "Fall 2026", slug="fall-2026")
    return {"coordinator": coordinator, "other": other, "dean": make.dean()}


FINDING = "A third of the coffee chats never met."
ACTION = "Remind first movers at one week; offer a video option."


def test_an_action_recorded_on_a_term_opens_the_next_terms_report(app, client, plans):
    login(client, plans["coordinator"].email)
    page = text_of(client.get("/reports?program=med&term=spring-2026"))
    assert "Findings and actions for Spring 2026" in page
    # Bad input: refused with its message, nothing written.
    response = client.post(
        "/programs/med/terms/spring-2026/actions",
        data={"finding": "   ", "action": ACTION},
        follow_redirects=True,
    )
    assert "This field is required" in text_of(response) or "Say what the finding is" in text_of(
        response
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionItem)) == 0
    response = client.post(
        "/programs/med/terms/spring-2026/actions",
        data={"finding": FINDING, "action": ACTION, "owner": "Cora", "due_on": "2026-09-30"},
        follow_redirects=True,
    )
    assert "Action recorded" in text_of(response) and FINDING in text_of(response)
    with app.app_context():
        item_id = db.session.scalar(sa.select(ActionItem.id))
    # The follow-up's list offers every status, the stored one chosen.
    html = client.get("/reports?program=med&term=spring-2026").get_data(as_text=True)
    options = re.search(rf'<select[^>]*id="status-{item_id}".*?</select>', html, flags=re.S)
    assert options is not None
    assert re.findall(r'<option value="([a-z_]+)"', options.group(0)) == [
        s.value for s in ActionStatus
    ]
    assert '<option value="planned" selected>' in options.group(0)
    client.post(
        f"/programs/med/actions/{item_id}",
        data={"status": "done", "outcome": "Chats that met rose to 71%."},
    )
    with app.app_context():
        item = db.session.get(ActionItem, item_id)
        assert item.status is ActionStatus.DONE and item.outcome == "Chats that met rose to 71%."
        actions = set(
            db.session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.action.like("report.action%"))
            )
        )
        assert actions == {"report.action_added", "report.action_updated"}

    # The next term's report opens with it, in the page and the PDF.
    page = text_of(client.get("/reports?program=med&term=fall-2026"))
    assert "Actions from last term, and what came of them" in page
    assert FINDING in page and "Done" in page and "Chats that met rose to 71%." in page
    assert page.index("Actions from last term") < page.index("Summary")
    pdf = client.get("/reports/med/fall-2026.pdf")
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split()
    )
    assert "Actions from last term" in text and "offer a video" in text
    # Not in the term's own report, nor in another program's.
    assert "Actions from last term" not in text_of(
        client.get("/reports?program=med&term=spring-2026")
    )
    dean = app.test_client()
    login(dean, plans["dean"].email)
    assert "Actions from last term" not in text_of(dean.get("/reports?program=surg&term=fall-2026"))
    # The all-programs report lists every program's.
    everything = text_of(dean.get("/reports?program=all&term=fall-2026"))
    assert "Actions from last term" in everything and "Medicine" in everything


def test_only_the_programs_coordinators_record_and_follow_up(app, client, plans):
    with app.app_context():
        from program.programs.models import Program, Term

        program = db.session.scalar(sa.select(Program).where(Program.slug == "med"))
        term = db.session.scalar(
            sa.select(Term).where(Term.program_id == program.id, Term.slug == "spring-2026")
        )
        item = ActionItem(program_id=program.id, term_id=term.id, finding="F", action="A")
        db.session.add(item)
        db.session.commit()
        item_id = item.id
    other = app.test_client()
    login(other, plans["other"].email)
    data = {"finding": FINDING, "action": ACTION}
    assert other.post("/programs/med/terms/spring-2026/actions", data=data).status_code == 403
    assert (
        other.post(f"/programs/med/actions/{item_id}", data={"status": "done"}).status_code == 403
    )
    # Surgery's coordinator following up Medicine's action through Surgery's address: not found.
    assert (
        other.post(f"/programs/surg/actions/{item_id}", data={"status": "done"}).status_code == 404
    )
    dean = app.test_client()
    login(dean, plans["dean"].email)
    assert "Findings and actions" not in text_of(dean.get("/reports?program=med&term=spring-2026"))
    assert dean.post("/programs/med/terms/spring-2026/actions", data=data).status_code == 403
    with app.app_context():
        assert db.session.get(ActionItem, item_id).status is ActionStatus.PLANNED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionItem)) == 1


def test_a_missing_or_overlong_entry_is_refused_with_nothing_written(app, plans):
    from program.db import DomainError
    from program.people.models import Person
    from program.programs.models import Program, Term
    from program.reporting.services import add_action

    with app.test_request_context():
        program = db.session.scalar(sa.select(Program).where(Program.slug == "med"))
        term = db.session.scalar(
            sa.select(Term).where(Term.program_id == program.id, Term.slug == "fall-2026")
        )
        actor = db.session.get(Person, plans["coordinator"].id)
        for kwargs, field in (
            ({"finding": "  ", "action": ACTION}, "finding"),
            ({"finding": FINDING, "action": "x" * 1001}, "action"),
            # The owner is refused past its 200 characters, never cut short in silence.
            ({"finding": FINDING, "action": ACTION, "owner": "y" * 201}, "owner"),
        ):
            with pytest.raises(DomainError) as refused:
                add_action(actor, program, term, **kwargs)
            assert refused.value.field == field
            db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionItem)) == 0
