"""Writing audit events. Every service that changes data calls `record` in the same transaction."""

from __future__ import annotations

from typing import Any

from program.audit.models import AuditEvent
from program.extensions import db
from program.people.models import Person


def record(
    actor: Person | None,
    action: str,
    obj: Any,
    *,
    program_id: int | None = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event for `obj` (any model with an id) and flush it with the change."""
    db.session.flush()  # so a just-created object has its id
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        program_id=program_id,
        summary=summary[:300],
        details=details or {},
    )
    db.session.add(event)
    db.session.flush()
    return event
