"""Writing audit events. Every service that changes data calls `record` in the same transaction."""

from __future__ import annotations

from typing import Any

from program.audit.models import AuditEvent
from program.extensions import db
from program.people.models import Person


def record_changes(
    actor: Person | None,
    action: str,
    obj: Any,
    what: str,
    before: dict[str, Any],
    after: dict[str, Any],
    labels: dict[str, str],
    *,
    program_id: int | None = None,
) -> AuditEvent | None:
    """Audit a change of settings field by field: old → new in the details and in a summary
    a person reads ("Institution settings: suppression threshold 10 → 11"), so a change and
    its undo are two different lines. Only fields in `labels` are recorded: pass no secret.
    Nothing is recorded when nothing changed."""
    changes = {
        k: [before.get(k), after[k]] for k in labels if k in after and before.get(k) != after[k]
    }
    if not changes:
        return None

    def shown(value: Any) -> str:
        if value is None or value == "":
            return "(none)"
        if isinstance(value, bool):
            return "on" if value else "off"
        return f"“{value}”" if isinstance(value, str) else str(value)

    parts = [f"{labels[k]} {shown(old)} → {shown(new)}" for k, (old, new) in changes.items()]
    return record(
        actor,
        action,
        obj,
        program_id=program_id,
        summary=f"{what}: " + "; ".join(parts),
        details=changes,
    )


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
