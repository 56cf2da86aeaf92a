"""What meetings mail: proposed times, the calendar invitation and its updates (each written
when queued)."""

from program.messages.registry import Notifications

NOTIFICATIONS = Notifications(
    kinds=frozenset({"meeting_proposal", "meeting_invitation", "meeting_update"})
)
