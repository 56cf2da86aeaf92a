"""What every domain mails, told to the outbox (which imports no domain), and what the reports
read, told to the change count: the app factory and the worker call `register_notifications`
and `watch_report_data`, so a new domain's e-mails work once listed here."""

from __future__ import annotations

from program.accounts.notifications import NOTIFICATIONS as accounts
from program.asks.notifications import NOTIFICATIONS as asks
from program.changes import PAIRS, POOL, REPORTS, watch
from program.checkins.notifications import NOTIFICATIONS as checkins
from program.coffee.notifications import NOTIFICATIONS as coffee
from program.coffee.pool import POOL_READS
from program.formal.notifications import NOTIFICATIONS as formal
from program.formal.pairs import JUDGED_FROM
from program.meetings.notifications import NOTIFICATIONS as meetings
from program.messages.registry import register
from program.surveys.notifications import NOTIFICATIONS as surveys
from reports.data import STATE_TABLES


def register_notifications() -> None:
    """Tell the outbox what every domain mails (its kinds and composers): the outbox imports no
    domain, so a domain's e-mails work once listed here. The worker calls this too."""

    register(accounts, asks, checkins, coffee, formal, meetings, surveys)


def watch_report_data() -> None:
    """Count every committed write to what a report's data state reads, what a term's pairs
    are judged from and what a coffee round's preview is made from (`program.changes`)."""
    # The dashboard's figures read these and leave guests out (program/home/dashboard.py).
    watch(REPORTS, (*STATE_TABLES, ("person", ("is_guest",))))
    watch(PAIRS, JUDGED_FROM)
    watch(POOL, POOL_READS)
