"""Publishing a formal pair: active at once, one intro to each side, the rules enforced."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from program.db import DomainError
from program.extensions import db
from program.formal.matches import publish_pair
from program.formal.models import Assignment, AssignmentStatus
from program.people.models import Person
from program.programs.models import Term
from tests.conftest import outbox


def test_publishing_a_pair_introduces_both_sides_once(app, make):
    program = make.program(slug="im")
    term = make.term(program, slug="fall")
    mentor = make.mentor(program, name="Dr. Miguel Santos", interests=["heart failure"])
    trainee = make.trainee(program, name="Priya Natarajan")
    other_trainee = make.trainee(program)
    outsider = make.mentor(make.program(slug="surgery"))
    with app.test_request_context():
        t = db.session.get(Term, term.id)
        m, tr = db.session.get(Person, mentor.id), db.session.get(Person, trainee.id)
        assignment = publish_pair(None, t, m, tr)
        db.session.commit()
        assert assignment.status is AssignmentStatus.ACTIVE and assignment.started_at
        intros = {msg.recipient_id: msg for msg in outbox()}
        assert set(intros) == {mentor.id, trainee.id}
        assert intros[trainee.id].subject == f"{program.name}: meet Dr. Miguel Santos"
        assert "heart failure" in intros[trainee.id].body_text
        assert "What two or three decisions" in intros[trainee.id].body_text
        # Each side can reach the other: the address, and a reply goes to them.
        assert intros[trainee.id].reply_to == m.email and m.email in intros[trainee.id].body_text
        assert intros[mentor.id].reply_to == tr.email and tr.email in intros[mentor.id].body_text
        assert "Priya Natarajan will write to you" in intros[mentor.id].body_text
        with pytest.raises(DomainError, match="already has a formal mentor"):
            publish_pair(None, t, m, tr)
        with pytest.raises(DomainError, match="is not a mentor of this program"):
            publish_pair(
                None,
                t,
                db.session.get(Person, outsider.id),
                db.session.get(Person, other_trainee.id),
            )
        with pytest.raises(DomainError, match="is not a trainee of this program"):
            publish_pair(None, t, m, db.session.get(Person, outsider.id))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1
