"""What every domain mails, told to the outbox (which imports no domain): the app factory and the
worker call `register_notifications`, so a new domain's e-mails work once listed here."""

from __future__ import annotations

from program.accounts.notifications import NOTIFICATIONS as accounts
from program.asks.notifications import NOTIFICATIONS as asks
from program.checkins.notifications import NOTIFICATIONS as checkins
from program.coffee.notifications import NOTIFICATIONS as coffee
from program.formal.notifications import NOTIFICATIONS as formal
from program.meetings.notifications import NOTIFICATIONS as meetings
from program.messages.registry import register


def register_notifications() -> None:
    """Tell the outbox what every domain mails (its kinds and composers): the outbox imports no
    domain, so a domain's e-mails work once listed here. The worker calls this too."""

    register(accounts, asks, checkins, coffee, formal, meetings)
