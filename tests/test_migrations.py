"""The migrations build exactly the schema the models describe, and come down cleanly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from program import create_app
from program.extensions import db
from tests.conftest import make_config


def table_names(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_from_empty_matches_the_models_and_downgrade_removes_everything(
    empty_database_url,
):
    app = create_app(make_config(empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == [], f"the migrations and the models differ: {diff}"
    assert set(db.metadata.tables) <= table_names(app)

    with app.app_context():
        downgrade(revision="base")
        db.engine.dispose()
    assert table_names(app) <= {"alembic_version"}

    # And back up again: a downgrade leaves nothing behind that blocks a fresh upgrade.
    with app.app_context():
        upgrade()
        db.engine.dispose()
    assert set(db.metadata.tables) <= table_names(app)


def test_every_migration_has_a_downgrade():
    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    files = sorted(versions.glob("*.py"))
    assert files
    for path in files:
        source = path.read_text()
        assert "def downgrade" in source and "pass\n" not in source.split("def downgrade")[1], path


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="runs against PostgreSQL")
def test_postgresql_is_really_what_this_run_uses(database_url):
    assert database_url.startswith("postgresql")


def test_coming_down_from_0011_keeps_unwritten_mail_as_failed_with_the_reason(empty_database_url):
    """The schema before 0011 cannot hold a message that is not written yet: a downgrade keeps
    it, marked failed and saying why, and leaves written and sent mail as it was."""
    from program.db import utc_now
    from program.messages.models import Message, MessageStatus
    from program.people.models import Person

    app = create_app(make_config(empty_database_url))
    with app.app_context():
        upgrade()
        person = Person(email="a@example.edu", name="Ada Lee", security_stamp="0" * 32)
        db.session.add(person)
        db.session.flush()
        mail = {"recipient_id": person.id, "to_address": person.email, "kind": "intro"}
        db.session.add_all(
            [
                Message(**mail, template="intro"),
                Message(
                    **mail,
                    subject="Meet Ada",
                    body_text="Hello",
                    body_html="<p>Hello</p>",
                    status=MessageStatus.SENT,
                    sent_at=utc_now(),
                ),
            ]
        )
        db.session.commit()
        db.session.remove()
        downgrade(revision="0010")
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT status, subject, body_text, last_error FROM message ORDER BY id")
            ).all()
        db.engine.dispose()
    unwritten, sent = rows
    assert unwritten.status == "failed" and unwritten.body_text == ""
    assert "downgraded before this message was written" in unwritten.last_error
    assert tuple(sent) == ("sent", "Meet Ada", "Hello", None)


def test_0015_keeps_every_round_chat_with_its_members_and_check_ins_both_ways(
    empty_database_url,
):
    """SQLite changes a column by copying the table: with foreign keys on, dropping the old
    `chat` would cascade into its members and check-ins. Going down drops only the chats the
    older schema cannot hold (self-started ones); going up again finds each chat's program."""
    from datetime import date

    from program.checkins.models import CheckIn
    from program.coffee.models import Chat, ChatMember, Round
    from program.people.models import Person
    from program.programs.models import Program

    app = create_app(make_config(empty_database_url))
    with app.app_context():
        upgrade()
        program = Program(name="Medicine", slug="med")
        people = [Person(email=f"p{k}@example.edu", name=f"P {k}") for k in range(4)]
        round_ = Round(program=program, number=1, scheduled_for=date(2026, 10, 1), seed=1)
        db.session.add_all([program, round_, *people])
        db.session.flush()
        paired = Chat(program=program, round=round_)
        started = Chat(program=program)
        db.session.add_all([paired, started])
        db.session.flush()
        db.session.add_all(
            [ChatMember(chat=paired, person=people[k], position=k) for k in (0, 1)]
            + [ChatMember(chat=started, person=people[k], position=k - 2) for k in (2, 3)]
            + [
                CheckIn(person=people[0], chat=paired, period_start=date(2026, 10, 1)),
                CheckIn(person=people[2], chat=started, period_start=date(2026, 10, 1)),
            ]
        )
        db.session.commit()
        program_id = program.id
        db.session.remove()

        def counts() -> tuple[int, int, int]:
            with db.engine.connect() as conn:
                return tuple(
                    conn.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar_one()
                    for t in ("chat", "chat_member", "check_in")
                )

        assert counts() == (2, 4, 2)
        downgrade(revision="0014")
        assert counts() == (1, 2, 1)
        upgrade()
        assert counts() == (1, 2, 1)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT program_id FROM chat")).scalar_one() == program_id
        db.engine.dispose()
