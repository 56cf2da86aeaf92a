"""What the directory mails: an ask, its answer, the follow-up (written when queued)."""

from program.messages.registry import Notifications

NOTIFICATIONS = Notifications(kinds=frozenset({"ask", "ask_answer", "ask_follow_up"}))
