"""Sending the outbox: claim due messages, send each once, retry failures with backoff.

Several workers may run at once. On PostgreSQL each claims its rows with
SELECT ... FOR UPDATE SKIP LOCKED and marks them "sending" before it lets go, so no two workers
ever hold the same message. SQLite has no row locks: run a single worker there (the demo does).
A message is committed as sent right after the server accepts it; a worker that dies mid-send
leaves it "sending", and it is retried only after SENDING_TIMEOUT, the one window in which a
crash could send a message twice.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app

from program.db import utc_now
from program.extensions import db
from program.messages.models import Message, MessageStatus

SENDING_TIMEOUT = timedelta(minutes=15)
# SMTP wants CRLF line ends; the classic policy writes them without re-parsing every header.
SMTP_POLICY = compat32.clone(linesep="\r\n")
BATCH = 100


class PermanentFailure(Exception):
    """The server refused the message for good (bad address, policy): do not retry."""


class Transport(Protocol):
    def send(self, message: MIMEMultipart) -> None: ...

    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for the whole batch."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c["SMTP_SECURITY"] == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                c["SMTP_HOST"],
                c["SMTP_PORT"],
                timeout=c["SMTP_TIMEOUT"],
                context=ssl.create_default_context(),
            )
        else:
            connection = smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"], timeout=c["SMTP_TIMEOUT"])
            if c["SMTP_SECURITY"] == "starttls":
                connection.starttls(context=ssl.create_default_context())
        if c["SMTP_USER"]:
            connection.login(c["SMTP_USER"], c["SMTP_PASSWORD"])
        return connection

    def send(self, message: MIMEMultipart) -> None:
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.sendmail(
                parseaddr(message["From"])[1], [message["To"]], message.as_bytes(policy=SMTP_POLICY)
            )
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            self.close()
            raise
        except (smtplib.SMTPException, OSError):
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None


class FileTransport:
    """Writes each message as an .eml file: the demo's mail never leaves the machine."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, message: MIMEMultipart) -> None:
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        (self.directory / f"{name}.eml").write_bytes(bytes(message))

    def close(self) -> None:
        return None


def transport_for(config: dict[str, Any]) -> Transport:
    if config["MAIL_TRANSPORT"] == "file":
        return FileTransport(config["MAIL_FILE_DIR"])
    return SmtpTransport(config)


def build_email(message: Message, sender: str) -> MIMEMultipart:
    """The MIME message: plain text first, HTML as the alternative.

    Built with the classic email API: the newer MIMEMultipart refolds every header through its
    parser and costs several milliseconds a message, which a bulk send feels.
    """
    email = MIMEMultipart("alternative")
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = Header(message.subject, "utf-8").encode()
    email["Date"] = format_datetime(utc_now())
    domain = sender.rsplit("@", 1)[-1].strip(">") or "hallway.invalid"
    email["Message-ID"] = make_msgid(idstring=f"hallway.{message.id}", domain=domain)
    email["Auto-Submitted"] = "auto-generated"
    email["X-Hallway-Kind"] = message.kind
    email.attach(MIMEText(message.body_text, "plain", "utf-8"))
    email.attach(MIMEText(message.body_html, "html", "utf-8"))
    return email


def backoff(attempts: int) -> timedelta:
    """Wait before retry n: 2, 4, 8 ... minutes, at most a day."""
    return min(timedelta(minutes=2**attempts), timedelta(days=1))


def claim_due(now: datetime, limit: int) -> list[int]:
    """Mark up to `limit` due messages as this worker's ("sending") and return their ids."""
    stale = now - SENDING_TIMEOUT
    stmt = (
        sa.select(Message.id)
        .where(
            sa.or_(
                sa.and_(Message.status == MessageStatus.QUEUED, Message.next_attempt_at <= now),
                sa.and_(Message.status == MessageStatus.SENDING, Message.claimed_at < stale),
            )
        )
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(stmt))
    if ids:
        db.session.execute(
            sa.update(Message)
            .where(Message.id.in_(ids))
            .values(status=MessageStatus.SENDING, claimed_at=now)
        )
    db.session.commit()
    return ids


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def send_due(limit: int | None = None, now: datetime | None = None) -> SendReport:
    """Send what is due, in batches, until nothing is due (or `limit` messages were handled)."""
    from program.admin.services import get_settings

    config = current_app.config
    sender = get_settings().mail_sender or config["MAIL_DEFAULT_SENDER"]
    transport = transport_for(config)
    report = SendReport()
    handled = 0
    try:
        while limit is None or handled < limit:
            batch = BATCH if limit is None else min(BATCH, limit - handled)
            ids = claim_due(now or utc_now(), batch)
            if not ids:
                break
            messages = db.session.scalars(
                sa.select(Message).where(Message.id.in_(ids)).order_by(Message.id)
            ).all()
            for message in messages:
                # Detached: the commit after each send must not expire (and reload) the batch.
                db.session.expunge(message)
            for message in messages:
                _send_one(transport, message, sender, config["MESSAGE_MAX_ATTEMPTS"], report)
            handled += len(ids)
    finally:
        transport.close()
    return report


def _send_one(
    transport: Transport, message: Message, sender: str, max_attempts: int, report: SendReport
) -> None:
    attempts = message.attempts + 1
    values: dict[str, Any] = {"attempts": attempts}
    try:
        transport.send(build_email(message, sender))
    except PermanentFailure as exc:
        values.update(status=MessageStatus.FAILED, last_error=str(exc)[:2000])
        report.failed += 1
    except (smtplib.SMTPException, OSError) as exc:
        values["last_error"] = f"{type(exc).__name__}: {exc}"[:2000]
        if attempts >= max_attempts:
            values["status"] = MessageStatus.FAILED
            report.failed += 1
        else:
            values.update(
                status=MessageStatus.QUEUED, next_attempt_at=utc_now() + backoff(attempts)
            )
            report.retried += 1
    else:
        values.update(status=MessageStatus.SENT, sent_at=utc_now(), last_error=None)
        report.sent += 1
    # Committed one by one, and only if this worker still holds the claim: a sent message must
    # never be left looking unsent.
    db.session.execute(
        sa.update(Message)
        .where(Message.id == message.id, Message.status == MessageStatus.SENDING)
        .values(**values)
    )
    db.session.commit()
