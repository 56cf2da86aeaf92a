"""Results kept for every process: a report or a round's preview one process built is read by the
others from the database, not built again; a row not signed with the app's key is never
unpickled; the worker builds them ahead after its tick."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from program.extensions import db
from program.kept import SHARED_SIZE, KeptResult, kept
from program.programs.models import Program
from tests.conftest import login, new_app
from tests.reports.test_reports import term_data  # noqa: F401  (the fixture)


@pytest.fixture
def other(database_url, tmp_path):
    """A second process's app: its own memory, the same database."""
    return new_app(database_url, tmp_path / "other")


def never(*args, **kwargs):
    raise AssertionError("built again: the kept result was not read")


def test_a_report_one_process_built_is_read_by_another(app, other, monkeypatch, term_data):  # noqa: F811
    from program.reporting import services

    with app.app_context():
        built = services.make_report(db.session.get(Program, term_data["program"].id), "fall")
        db.session.commit()
    monkeypatch.setattr(services, "build_report", never)
    with other.app_context():
        found = services.make_report(db.session.get(Program, term_data["program"].id), "fall")
    assert found is not built and found.digest == built.digest
    assert found.metrics == built.metrics and found.hidden_cells == built.hidden_cells


def test_a_row_not_signed_with_the_apps_key_is_built_again(
    app,
    other,
    database_url,
    tmp_path,
    monkeypatch,
    term_data,  # noqa: F811
):
    from program.reporting import services

    with app.app_context():
        program = db.session.get(Program, term_data["program"].id)
        built = services.make_report(program, "fall")
        db.session.commit()
        row = db.session.scalar(sa.select(KeptResult).where(KeptResult.kind == "reports"))
        # Someone with the database but not the key swaps the payload for their own pickle.
        flipped = bytes([row.payload[40] ^ 0xFF])
        row.payload = row.payload[:40] + flipped + row.payload[41:]
        db.session.commit()
    calls = []
    real = services.build_report
    monkeypatch.setattr(services, "build_report", lambda *a, **k: calls.append(1) or real(*a, **k))
    with other.app_context():
        again = services.make_report(db.session.get(Program, term_data["program"].id), "fall")
    assert calls == [1] and again.digest == built.digest
    # A process with another key reads nothing the first one wrote.
    stranger = new_app(database_url, tmp_path / "stranger", SECRET_KEY="another-key")
    with stranger.app_context():
        services.make_report(db.session.get(Program, term_data["program"].id), "fall")
    assert calls == [1, 1]


def test_the_shared_table_keeps_the_latest_of_each_kind(app):
    with app.app_context():
        store = kept("numbers")
        for n in range(SHARED_SIZE + 5):
            store.put(("n", n), n)
        kept("words").put("w", "a word")
        db.session.commit()
        count = sa.select(sa.func.count()).select_from(KeptResult)
        assert db.session.scalar(count.where(KeptResult.kind == "numbers")) == SHARED_SIZE
        assert db.session.scalar(count.where(KeptResult.kind == "words")) == 1


def test_two_processes_offering_the_same_result_at_once_both_succeed(app, other):
    """Two workers that built the same report at the same moment: the first row stays, the
    second offer is skipped, neither request fails."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def offer(application) -> None:
        try:
            with application.app_context():
                barrier.wait()
                kept("reports").put(("same", 1), {"a": 1})
                db.session.commit()
        except BaseException as exc:  # reported below, from the main thread
            errors.append(exc)

    threads = [threading.Thread(target=offer, args=(a,)) for a in (app, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KeptResult)) == 1


def test_the_worker_builds_the_report_and_preview_ahead_for_every_process(
    app,
    other,
    make,
    monkeypatch,
    term_data,  # noqa: F811
):
    from program import worker
    from program.matching import coffee as pairing
    from program.reporting import services

    stop = threading.Event()
    totals = worker.run_worker(app, stop, once=True)
    assert totals["ticks"] == 1
    monkeypatch.setattr(services, "build_report", never)
    monkeypatch.setattr(pairing, "plan_round", never)
    coordinator = make.coordinator(term_data["program"])
    client = other.test_client()
    login(client, coordinator.email)
    page = client.get("/reports?program=med&term=fall")
    assert page.status_code == 200 and "Medicine" in page.get_data(as_text=True)
    assert client.get("/programs/med/coffee").status_code == 200


def test_a_signed_row_that_cannot_be_read_is_built_again(app):
    """Another release's objects, say: signed by this key, but not readable as this code's."""
    from program.kept import _signer

    with app.app_context():
        store = kept("previews")
        payload = _signer().sign(b"not zlib")
        db.session.add(KeptResult(digest=store._digest("k"), kind="previews", payload=payload))
        db.session.commit()
        assert store.get("k") is None


def test_one_programs_failure_leaves_the_others_built_ahead(app, make, monkeypatch, term_data):  # noqa: F811
    from program import worker
    from program.reporting import services

    other = make.program("Surgery", slug="surgery")
    make.term(other, slug="fall")
    real, asked = services.make_report, []

    def fails_for_medicine(program, term_slug):
        asked.append(program.slug)
        if program.slug == "med":  # the first program built
            raise RuntimeError("a broken program")
        return real(program, term_slug)

    monkeypatch.setattr(worker, "make_report", fails_for_medicine)
    with app.app_context():
        worker.warm_kept()
        kinds = db.session.scalars(sa.select(KeptResult.kind)).all()
    # Medicine failed first; Surgery's report and preview were built after it all the same.
    assert asked == ["med", "surgery"]
    assert sorted(kinds) == ["coffee_previews", "reports"]


def test_the_worker_sends_what_its_tick_queued_before_building_ahead(app, monkeypatch):
    """Building ahead takes seconds at scale: the tick's prompts go out first."""
    from program import worker
    from program.messages import sending

    done: list[str] = []
    real_send = sending.send_due

    def tick(now):
        done.append("tick")
        return {}

    def send_due(**kwargs):
        done.append("send")
        return real_send(**kwargs)

    monkeypatch.setattr(worker, "locked_tick", tick)
    monkeypatch.setattr(worker, "send_due", send_due)
    monkeypatch.setattr(worker, "warm_kept", lambda should_stop: done.append("build ahead"))
    worker.run_worker(app, threading.Event(), once=True)
    assert done == ["tick", "send", "build ahead"]


def test_a_stopping_worker_builds_no_further_program_ahead(app, make, monkeypatch, term_data):  # noqa: F811
    from program import worker

    asked: list[str] = []
    monkeypatch.setattr(worker, "make_report", lambda program, slug: asked.append(slug))
    stop = threading.Event()
    stop.set()
    with app.app_context():
        worker.warm_kept(should_stop=stop.is_set)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KeptResult)) == 0
    assert asked == []


def test_a_terms_programs_are_protected_once_for_all_their_reports(
    app,
    make,
    monkeypatch,
    term_data,  # noqa: F811
):
    """Every program's report of a term reads the same tables, protected together: worked out
    once per state of the term's data (forty programs' reports, one protection), again once
    the data moves, and never put in the database (too large to share)."""
    from program.checkins.models import CheckIn
    from program.reporting import services

    second = make.program("Surgery", slug="surg")
    make.term(second, slug="fall")
    protected = []
    real = services.term_tables

    def counted(conn, slug, threshold):
        protected.append(slug)
        return real(conn, slug, threshold)

    monkeypatch.setattr(services, "term_tables", counted)
    states = []
    real_state = services.data_state

    def state(conn, scope):
        states.append(scope.term_slug)
        return real_state(conn, scope)

    monkeypatch.setattr(services, "data_state", state)
    with app.app_context():
        med = db.session.get(Program, term_data["program"].id)
        surg = db.session.scalar(sa.select(Program).where(Program.slug == "surg"))
        first = services.make_report(med, "fall")
        assert states == ["fall"]  # the term's state read once, for the report and its tables
        services.make_report(surg, "fall")
        services.make_report(None, "fall")  # all programs
        assert protected == ["fall"]
        # Nothing written since: the state is not read again (`program.changes`).
        assert states == ["fall"]
        # A check-in answered: the term is protected again, once.
        check_in = db.session.scalar(sa.select(CheckIn).where(CheckIn.status.is_(None)))
        check_in.status = "not_yet"
        check_in.answered_at = first.as_of + timedelta(hours=1)
        db.session.commit()
        services.make_report(med, "fall")
        services.make_report(surg, "fall")
        assert protected == ["fall", "fall"]
        assert states == ["fall", "fall"]
        kinds = set(db.session.scalars(sa.select(KeptResult.kind)))
        assert "term-tables" not in kinds and "reports" in kinds
