"""`program.db.insert_rows`: many rows in one write, by COPY on PostgreSQL, and each row as an
ORM insert would have written it (defaults, a default that reads its row, enums, JSON, a NULL
JSON, times), ids returned in the order given."""

from __future__ import annotations

import sqlalchemy as sa

from program.db import insert_rows
from program.extensions import db
from program.messages.models import Message, MessageStatus
from program.people.models import CareerStage, Person


def people(tag: str, n: int) -> list[dict]:
    return [
        {
            "email": f"{tag}{k}@example.edu",
            "name": f"Dr. Ada {tag.upper()}{k} Lovelace",
            "stage": CareerStage.PGY1 if k % 2 else None,
            "interests": ["cardiology", "ethics"] if k % 3 else [],
            "security_stamp": f"{k:032d}",
        }
        for k in range(n)
    ]


def read(ids: list[int]) -> list[tuple]:
    found = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(ids)))}
    return [
        (
            found[i].email[1:],
            found[i].name[11:],
            found[i].sort_name[:5],
            found[i].stage,
            found[i].interests,
            found[i].active,
            found[i].created_at is not None,
        )
        for i in ids
    ]


def test_rows_as_an_insert_writes_them_ids_in_order(app):
    """By COPY on PostgreSQL, by INSERT on SQLite (the suite runs on both)."""
    with app.app_context():
        ids = insert_rows(db.session, Person, people("a", 7), ids=True)
        db.session.commit()
        assert len(ids) == len(set(ids)) == 7
        emails = [db.session.get(Person, i).email for i in ids]
        assert emails == [f"a{k}@example.edu" for k in range(7)]
        # The same rows through the ORM: every column reads back alike.
        orm = [Person(**row) for row in people("b", 7)]
        db.session.add_all(orm)
        db.session.commit()
        assert read(ids) == read([p.id for p in orm])
        assert db.session.get(Person, ids[0]).sort_name.startswith("lovelace")

        # Rows of two shapes in one batch (written and unwritten messages), a NULL JSON.
        insert_rows(
            db.session,
            Message,
            [
                {
                    "recipient_id": ids[0],
                    "to_address": "a0@example.edu",
                    "kind": "intro",
                    "template": "intro",
                    "details": None,
                },
                {
                    "recipient_id": ids[1],
                    "to_address": "a1@example.edu",
                    "kind": "invitation",
                    "subject": "Hello",
                    "body_text": "Hi",
                    "body_html": "<p>Hi</p>",
                },
                {
                    "recipient_id": ids[2],
                    "to_address": "a2@example.edu",
                    "kind": "invitation",
                    "template": "invitation",
                    "details": {"invited_by": None, "doing": ["meet your mentor"]},
                },
            ],
        )
        db.session.commit()
        messages = db.session.scalars(sa.select(Message).order_by(Message.id)).all()
        assert [m.status for m in messages] == [MessageStatus.QUEUED] * 3
        assert [m.attempts for m in messages] == [0, 0, 0]
        assert all(m.next_attempt_at and m.created_at for m in messages)
        assert [m.written for m in messages] == [False, True, False]
        assert messages[0].details is None
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(Message.details.is_(None))) == 2
        )  # SQL NULL, not a JSON null
        assert messages[2].details == {"invited_by": None, "doing": ["meet your mentor"]}


def test_nothing_to_write_writes_nothing(app):
    with app.app_context():
        assert insert_rows(db.session, Person, [], ids=True) == []


def test_what_the_session_holds_is_written_first(app):
    """Like an ORM insert: a change still pending in the session (here a deleted message whose
    dedupe key the new row takes) reaches the database before the rows do."""
    with app.app_context():
        person = Person(email="p@example.edu", name="Pat Doe", security_stamp="0" * 32)
        db.session.add(person)
        db.session.flush()
        row = {
            "recipient_id": person.id,
            "to_address": person.email,
            "kind": "invitation",
            "template": "invitation",
            "dedupe_key": "invitation:again",
        }
        insert_rows(db.session, Message, [row])
        db.session.commit()
        db.session.delete(db.session.scalar(sa.select(Message)))  # pending, not flushed
        insert_rows(db.session, Message, [row])
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_new_messages_skip_the_keys_already_queued_in_one_statement(app):
    """`queue_new_messages`: the rows whose dedupe key is new are written (with the columns'
    defaults), those whose key a row holds are skipped without refusing the transaction, and
    a rehearsal counts only the recipients of what was written."""
    from program.messages.services import counting_recipients, queue_new_messages
    from tests.conftest import QueryCounter

    with app.app_context():
        a = Person(email="a@example.edu", name="Ann Doe", security_stamp="0" * 32)
        b = Person(email="b@example.edu", name="Bob Doe", security_stamp="1" * 32)
        db.session.add_all([a, b])
        db.session.flush()

        def row(person: Person, key: str) -> dict:
            return {
                "recipient_id": person.id,
                "to_address": person.email,
                "kind": "thank_you_nudge",
                "template": "thank_you_nudge",
                "dedupe_key": key,
            }

        first, again = [row(a, "once:a")], [row(a, "once:a"), row(b, "once:b")]
        a_id, b_id = a.id, b.id
        queue_new_messages(first)
        db.session.commit()
        with counting_recipients() as counted, QueryCounter(app) as counter:
            queue_new_messages(again)
        db.session.commit()
        assert counter.count == 1
        assert counted == [b_id]
        stored = db.session.execute(
            sa.select(Message.dedupe_key, Message.recipient_id, Message.status).order_by(
                Message.dedupe_key
            )
        ).all()
        assert stored == [
            ("once:a", a_id, MessageStatus.QUEUED),
            ("once:b", b_id, MessageStatus.QUEUED),
        ]
