"""Sending the outbox: claim due messages, send each once, retry failures with backoff.

Several workers may run at once. On PostgreSQL each claims its rows with
SELECT ... FOR UPDATE SKIP LOCKED and marks them "sending" before it lets go, so no two workers
ever hold the same message. SQLite has no row locks: run a single worker there (the demo does).

Never twice. Just before a message is handed to the mail server, the worker records that it
started (`attempt_started_at`, committed, and only while its own claim still holds); right after
the server accepts it, the worker records it as sent, before anything else can fail. A worker
killed between those two moments — while the server reads the message, or in the instant
between the server's "250 OK" and the commit — leaves a message whose fate Hallway cannot know:
it is never sent again on its own but marked failed, "may have been delivered", for the admin to
see and send again in one click. "Started" is marked as late as the protocol allows: after the
server has accepted the sender and the recipient, just before DATA; a worker killed before that
leaves a transaction that provably delivered nothing, and the message is simply sent again.
Messages claimed but not yet started are safe to send: a stopped worker (SIGTERM) gives them
back at once, and a killed one's are taken again within a minute (CLAIM_LEASE: a live worker
renews the lease on what it still holds as it goes).

Each message is sent or fails on its own: any error in one (an address the server cannot take, a
template, a dropped connection) is recorded on that message, and the batch goes on.

Institutions' servers limit senders (Exchange Online: 30 messages a minute, 10,000 recipients a
day per mailbox). MAIL_RATE_PER_MINUTE and MAIL_RATE_PER_DAY cap what all workers together claim,
counted from the outbox itself; MAIL_CONNECTIONS caps how many workers hold a connection at once
(PostgreSQL advisory locks). A 4xx answer ("slow down", "try later") puts the message and the
rest of the batch back with a pause.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTPUTF8, compat32
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any, Protocol

import idna
import sqlalchemy as sa
from flask import current_app

from program.db import utc_now
from program.extensions import db
from program.institution import get_settings
from program.links import external_url
from program.messages.channel import RateLimited, Refused, Unreachable
from program.messages.chat import (
    TOOL_NAMES,
    Channel,
    channel_for_batch,
    chooses_chat,
    conversation,
)
from program.messages.composing import write_now
from program.messages.models import Message, MessageStatus
from program.messages.registry import is_optional
from program.messages.services import unsubscribe_token
from program.people.models import Person

# A claim not renewed for this long belongs to a worker that is gone: its messages not yet
# started go back to the queue. A live worker renews its claim well within it.
CLAIM_LEASE = timedelta(minutes=1)
# A message started by a worker that is gone is settled as "may have been delivered" after this
# (long enough that no live worker can still be talking to the server about it).
SENDING_TIMEOUT = timedelta(minutes=15)
# SMTP wants CRLF line ends; the classic policy writes them without re-parsing every header.
SMTP_POLICY = compat32.clone(linesep="\r\n")
# An internationalised address travels as UTF-8 in the headers (RFC 6531/6532).
UTF8_POLICY = SMTPUTF8.clone(linesep="\r\n")
BATCH = 100
# After a 4xx "slow down" answer the rest of the batch waits this long before another try.
SLOW_DOWN_PAUSE = timedelta(minutes=2)
# Advisory-lock keys: claims serialised while a rate limit applies, and connection slots.
CLAIM_LOCK_KEY = 0x4A11_5E00
CONNECTION_LOCK_BASE = 0x4A11_C000
UNKNOWN_OUTCOME = (
    "The sender stopped while handing this message to the mail server, so it may have been "
    "delivered; it is not sent again on its own, so that nobody gets it twice."
)


class PermanentFailure(Exception):
    """The server refused the message for good (bad address, policy): do not retry.

    `bounce` is true when the address itself was refused: Hallway stops mailing it.
    """

    def __init__(self, reason: str, *, bounce: bool = False) -> None:
        super().__init__(reason)
        self.bounce = bounce


class SlowDown(Exception):
    """A 4xx answer: the server wants less mail now. Retry later; stop this batch."""


# Called by a transport at the last moment before a message can be delivered; it records that
# the attempt started, and says whether this worker still holds the message.
Starting = Callable[[], bool]


class ClaimLost(Exception):
    """Another worker took this message over before it was started: it is theirs to send."""


class Transport(Protocol):
    def send(
        self,
        message: MIMEMultipart,
        sender: str,
        recipient: str,
        starting: Starting = lambda: True,
    ) -> None:
        """Send one message. `starting()` is called at the last moment before the message can
        be delivered (it records that); when it returns False, nothing is delivered and
        ClaimLost is raised."""
        ...

    def close(self) -> None: ...


def _refusal(code: int, text: Any, what: str) -> Exception:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    reason = f"{what}: {code} {detail}"[:2000]
    if 400 <= code < 500:
        return SlowDown(reason)
    return PermanentFailure(reason, bounce=what == "recipient refused")


def ascii_address(address: str) -> str | None:
    """The address as plain ASCII, its domain in IDNA ("punycode"), when its local part is
    ASCII already (`anh@trường.vn` → `anh@xn--trng-rib8295b.vn`); None when only SMTPUTF8 can
    carry it (a local part in another alphabet) or the domain is not a valid IDNA name."""
    if address.isascii():
        return address
    local, at, domain = address.rpartition("@")
    if not at or not local.isascii():
        return None
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:
        return None


def _transaction(
    connection: smtplib.SMTP,
    data: bytes,
    sender: str,
    recipient: str,
    options: list[str],
    starting: Starting,
) -> None:
    """smtplib's sendmail, step by step, so that `starting()` runs after the server has
    accepted the envelope and before DATA: nothing can be delivered before it."""
    connection.ehlo_or_helo_if_needed()
    mail_options = list(options)
    if connection.does_esmtp and connection.has_extn("size"):
        mail_options.append(f"size={len(data)}")
    code, answer = connection.mail(sender, mail_options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, answer, sender)
    code, answer = connection.rcpt(recipient)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: (code, answer)})
    if not starting():
        raise ClaimLost()
    code, answer = connection.data(data)
    if code != 250:
        raise smtplib.SMTPDataError(code, answer)


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
        connection.ehlo_or_helo_if_needed()
        return connection

    def send(
        self,
        message: MIMEMultipart,
        sender: str,
        recipient: str,
        starting: Starting = lambda: True,
    ) -> None:
        if self.connection is None:
            self.connection = self._connect()
        connection = self.connection
        options: list[str] = []
        policy = SMTP_POLICY
        if not (sender + recipient).isascii():
            if connection.has_extn("smtputf8"):
                options = ["SMTPUTF8", "BODY=8BITMIME"]
                policy = UTF8_POLICY
            else:
                # Only a local part in another alphabet needs SMTPUTF8; a domain goes as IDNA.
                plain_sender, plain_recipient = ascii_address(sender), ascii_address(recipient)
                if plain_sender is None or plain_recipient is None:
                    raise PermanentFailure(
                        "The mail server does not accept addresses whose part before the @ is "
                        "not in plain ASCII letters (it does not offer SMTPUTF8); ask its "
                        "administrators to enable it, or give this person such an address."
                    )
                sender, recipient = plain_sender, plain_recipient
                del message["To"]
                message["To"] = recipient
        try:
            _transaction(
                connection, message.as_bytes(policy=policy), sender, recipient, options, starting
            )
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._reset()
            raise _refusal(code, text, "recipient refused") from exc
        except smtplib.SMTPSenderRefused as exc:
            self._reset()
            raise _refusal(exc.smtp_code, exc.smtp_error, "sender refused") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise _refusal(exc.smtp_code, exc.smtp_error, "message refused") from exc
        except ClaimLost:
            self._reset()
            raise
        except BaseException:
            self.close()
            raise

    def _reset(self) -> None:
        # A refused envelope (or one given up before DATA) leaves the connection usable after
        # RSET; a connection that cannot take one is closed.
        if self.connection is not None:
            try:
                self.connection.rset()
            except (smtplib.SMTPException, OSError):
                self.close()

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

    def send(
        self,
        message: MIMEMultipart,
        sender: str,
        recipient: str,
        starting: Starting = lambda: True,
    ) -> None:
        if not starting():
            raise ClaimLost()
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        policy = SMTP_POLICY if recipient.isascii() else UTF8_POLICY
        (self.directory / f"{name}.eml").write_bytes(message.as_bytes(policy=policy))

    def close(self) -> None:
        return None


def transport_for(config: dict[str, Any]) -> Transport:
    if config["MAIL_TRANSPORT"] == "file":
        return FileTransport(config["MAIL_FILE_DIR"])
    return SmtpTransport(config)


def unsubscribe_url(recipient_id: int) -> str:
    """The one-click link that turns a person's optional e-mail off (no sign-in needed)."""
    return external_url("home.unsubscribe", token=unsubscribe_token(recipient_id))


def build_email(message: Message, sender: str) -> MIMEMultipart:
    """The MIME message: plain text first, HTML as the alternative.

    Built with the classic email API: the newer MIMEMultipart refolds every header through its
    parser and costs several milliseconds a message, which a bulk send feels.
    """
    email = MIMEMultipart("alternative")
    email["From"] = sender
    email["To"] = message.to_address
    # An address in another alphabet can only travel in an SMTPUTF8 message, which is sent
    # only to such addresses; otherwise the body's links to the partners still reach them.
    if message.reply_to and (message.reply_to.isascii() or not message.to_address.isascii()):
        email["Reply-To"] = message.reply_to
    # Plain ASCII as it is; anything else encoded, folded knowing the header's own name (else
    # the first fold comes right after "Subject:" and readers see a leading space).
    subject = " ".join((message.subject or "").split())  # one line, whatever a name held
    email["Subject"] = (
        subject if subject.isascii() else Header(subject, "utf-8", header_name="Subject").encode()
    )
    email["Date"] = format_datetime(utc_now())
    domain = parseaddr(sender)[1].rsplit("@", 1)[-1] or "hallway.invalid"
    # The same id on every attempt: a receiving server that sees it twice may drop the copy.
    email["Message-ID"] = f"<hallway.message.{message.id}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    email["X-Hallway-Kind"] = message.kind
    if is_optional(message.kind):
        email["List-Unsubscribe"] = f"<{unsubscribe_url(message.recipient_id)}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.attach(MIMEText(message.body_text, "plain", "utf-8"))
    email.attach(MIMEText(message.body_html, "html", "utf-8"))
    if message.calendar:
        # The invitation as the last alternative, with its iTIP method: what makes Outlook and
        # Google Calendar show Accept and Decline (and apply an update or a cancellation).
        method = "CANCEL" if "METHOD:CANCEL" in message.calendar else "REQUEST"
        part = MIMEText(message.calendar, "calendar", "utf-8")
        part.set_param("method", method)
        email.attach(part)
    return email


def backoff(attempts: int) -> timedelta:
    """Wait before retry n: 2, 4, 8 ... minutes, at most a day."""
    return min(timedelta(minutes=2**attempts), timedelta(days=1))


def _allowance(now: datetime, config: dict[str, Any]) -> int | None:
    """How many messages the rate limits allow to be claimed now; None when there are none.

    Counted from the outbox, so every worker on every machine shares one budget: what was sent
    in the window plus what is being sent right now.
    """
    limits = [
        (config["MAIL_RATE_PER_MINUTE"], timedelta(minutes=1)),
        (config["MAIL_RATE_PER_DAY"], timedelta(days=1)),
    ]
    left: int | None = None
    for limit, window in limits:
        if not limit:
            continue
        used = db.session.scalar(
            sa.select(sa.func.count(Message.id)).where(
                sa.or_(
                    # The mail server's budget: what went by a chat tool did not use it.
                    sa.and_(
                        Message.sent_at >= now - window,
                        sa.or_(Message.channel.is_(None), Message.channel == "email"),
                    ),
                    sa.and_(
                        Message.status == MessageStatus.SENDING,
                        Message.claimed_at >= now - SENDING_TIMEOUT,
                    ),
                )
            )
        )
        left = max(0, limit - used) if left is None else min(left, max(0, limit - used))
    return left


def claim_due(now: datetime, limit: int) -> list[int]:
    """Mark up to `limit` due messages as this worker's ("sending") and return their ids.

    Also settles the claims of workers that are gone: not yet started, they are claimed again
    once their lease lapses (CLAIM_LEASE); started, their outcome is unknown and they are marked
    failed after SENDING_TIMEOUT, never sent twice.
    """
    config = current_app.config
    postgres = db.engine.dialect.name == "postgresql"
    db.session.execute(
        sa.update(Message)
        .where(
            Message.status == MessageStatus.SENDING,
            Message.claimed_at < now - SENDING_TIMEOUT,
            Message.attempt_started_at.is_not(None),
        )
        .values(status=MessageStatus.FAILED, last_error=UNKNOWN_OUTCOME)
    )
    lapsed = sa.and_(
        Message.status == MessageStatus.SENDING,
        Message.claimed_at < now - CLAIM_LEASE,
        Message.attempt_started_at.is_(None),
    )
    if postgres and (config["MAIL_RATE_PER_MINUTE"] or config["MAIL_RATE_PER_DAY"]):
        # Count and claim as one step across workers, or two could each take the last places.
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.literal(CLAIM_LOCK_KEY))))
    allowance = _allowance(now, config)
    if allowance is not None:
        limit = min(limit, allowance)
    if limit <= 0:
        db.session.commit()
        return []
    stmt = (
        sa.select(Message.id)
        .where(
            sa.or_(
                sa.and_(Message.status == MessageStatus.QUEUED, Message.next_attempt_at <= now),
                lapsed,
            )
        )
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    )
    if postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(stmt))
    if ids:
        db.session.execute(
            sa.update(Message)
            .where(Message.id.in_(ids))
            .values(status=MessageStatus.SENDING, claimed_at=now, attempt_started_at=None)
        )
    db.session.commit()
    return ids


@contextlib.contextmanager
def connection_slot(limit: int) -> Iterator[bool]:
    """Hold one of `limit` sending slots (PostgreSQL session advisory locks) while sending.

    Yields False when every slot is taken: another worker is already using them all. With no
    limit, or on SQLite (one worker), always True.
    """
    if not limit or db.engine.dialect.name != "postgresql":
        yield True
        return
    with db.engine.connect() as connection:
        for slot in range(limit):
            key = sa.literal(CONNECTION_LOCK_BASE + slot)
            if connection.scalar(sa.select(sa.func.pg_try_advisory_lock(key))):
                connection.commit()
                try:
                    yield True
                finally:
                    connection.scalar(sa.select(sa.func.pg_advisory_unlock(key)))
                    connection.commit()
                return
        connection.rollback()
    yield False


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    slowed: bool = False
    last_error: str | None = None  # why the latest message to be retried was not sent


@dataclass
class _Batch:
    """One claimed batch and what each of its messages is sent with."""

    transport: Transport
    sender: str
    claimed_at: datetime
    # A given `now` (tests, a replay) is the clock of the whole send; else the real clock.
    fixed_now: datetime | None
    bouncing: dict[int, str]
    report: SendReport
    # The chat tool's client, None when messages go by e-mail only (or its token was refused
    # earlier in this batch); and whose messages go to it.
    chat: Channel | None = None
    chatting: set[int] = field(default_factory=set)
    refused: str = ""  # why the chat tool refused Hallway, when it did in this send

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]

    def now(self) -> datetime:
        return self.fixed_now or utc_now()


def send_due(
    limit: int | None = None,
    now: datetime | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SendReport:
    """Send what is due, in batches, until nothing is due, `limit` messages were handled, the
    rate limit is reached, the server asks to slow down, or `should_stop()` says so."""
    config = current_app.config
    settings = get_settings()
    sender = settings.mail_sender or config["MAIL_DEFAULT_SENDER"]
    if not parseaddr(sender)[0]:
        # The From line carries the institution's name: people open mail from a name they know.
        sender = formataddr((settings.name, parseaddr(sender)[1]), charset="utf-8")
    report = SendReport()
    stopping = should_stop or (lambda: False)
    with connection_slot(config["MAIL_CONNECTIONS"]) as got_slot:
        if not got_slot:
            return report
        transport = transport_for(config)
        chat = channel_for_batch()
        refused = ""  # once the chat tool refuses Hallway, the whole send goes by e-mail
        handled = 0
        try:
            while (limit is None or handled < limit) and not report.slowed and not stopping():
                size = BATCH if limit is None else min(BATCH, limit - handled)
                claimed_at = now or utc_now()
                ids = claim_due(claimed_at, size)
                if not ids:
                    break
                messages, unwritable = _written(ids)
                batch = _Batch(transport, sender, claimed_at, now, _bouncing(messages), report)
                batch.chat, batch.refused = chat, refused
                if chat is not None:
                    batch.chatting = chooses_chat({m.recipient_id for m in messages if m.card})
                for message in messages:
                    # Detached: the commit after each send must not expire (and reload) the batch.
                    db.session.expunge(message)
                for message in [m for m in messages if m.id in unwritable]:
                    report.failed += 1
                    _still_mine(
                        message,
                        batch,
                        {"status": MessageStatus.FAILED, "last_error": unwritable[message.id]},
                    )
                messages = [m for m in messages if m.id not in unwritable]
                for position, message in enumerate(messages):
                    if report.slowed or stopping():
                        _release(messages[position:], batch)
                        return report
                    _renew(messages[position:], batch)
                    _send_one(batch, message)
                refused = batch.refused
                handled += len(ids)
        finally:
            transport.close()
    return report


def _written(ids: list[int]) -> tuple[Sequence[Message], dict[int, str]]:
    """The claimed batch, its unwritten messages written now, just before they go, and kept
    (the outbox records what was sent); and those that cannot be written, with why."""

    def load() -> Sequence[Message]:
        stmt = sa.select(Message).where(Message.id.in_(ids)).order_by(Message.id)
        return db.session.scalars(stmt).all()

    messages = load()
    refused = write_now(messages)
    if refused is None:
        return messages, {}
    return load(), refused  # one query, not one a message, for what the commit expired


def _bouncing(messages: list[Message]) -> dict[int, str]:
    """Recipients among these whose address bounced for good, with the reason."""
    ids = {m.recipient_id for m in messages}
    rows = db.session.execute(
        sa.select(Person.id, Person.email_bounce_reason).where(
            Person.id.in_(ids), Person.email_bouncing_at.is_not(None)
        )
    )
    return {row.id: row.email_bounce_reason or "bounced" for row in rows}


def _release(messages: list[Message], batch: _Batch) -> None:
    """Give claimed, unstarted messages back to the queue: at once after a stop, after a pause
    when the server asked to slow down."""
    if not messages:
        return
    pause = SLOW_DOWN_PAUSE if batch.report.slowed else timedelta()
    db.session.execute(
        sa.update(Message)
        .where(
            Message.id.in_([m.id for m in messages]),
            Message.status == MessageStatus.SENDING,
            Message.claimed_at == batch.claimed_at,
            Message.attempt_started_at.is_(None),
        )
        .values(status=MessageStatus.QUEUED, claimed_at=None, next_attempt_at=batch.now() + pause)
    )
    db.session.commit()


def _renew(messages: list[Message], batch: _Batch) -> None:
    """Renew this worker's claim on what it still holds, once a third of the lease has gone,
    so that a long batch (a slow server, a rate limit) is never taken for a dead worker's."""
    now = batch.now()
    if now - batch.claimed_at < CLAIM_LEASE / 3:
        return
    db.session.execute(
        sa.update(Message)
        .where(
            Message.id.in_([m.id for m in messages]),
            Message.status == MessageStatus.SENDING,
            Message.claimed_at == batch.claimed_at,
        )
        .values(claimed_at=now)
    )
    db.session.commit()
    batch.claimed_at = now


def _still_mine(message: Message, batch: _Batch, values: dict[str, Any]) -> bool:
    """Update the message only while this worker's claim holds; commit; True if it did."""
    result = db.session.execute(
        sa.update(Message)
        .where(
            Message.id == message.id,
            Message.status == MessageStatus.SENDING,
            Message.claimed_at == batch.claimed_at,
        )
        .values(**values)
    )
    db.session.commit()
    return result.rowcount == 1


def _send_one(batch: _Batch, message: Message) -> None:
    report = batch.report
    attempts = message.attempts + 1
    values: dict[str, Any] = {"attempts": attempts}
    bounced = batch.bouncing.get(message.recipient_id)
    if bounced is not None:
        values.update(
            status=MessageStatus.FAILED,
            last_error=f"Not sent: this address bounced ({bounced})."[:2000],
        )
        report.failed += 1
        _still_mine(message, batch, values)
        return
    chatting = message.card is not None and message.recipient_id in batch.chatting
    if chatting and batch.refused:
        values["channel_note"] = batch.refused
    # The chat tool the message is being tried in, named in what is recorded if that fails.
    trying = TOOL_NAMES[batch.chat.tool] if chatting and batch.chat and not batch.refused else ""
    try:
        if not (trying and _send_in_chat(batch, message, values)):
            trying = ""  # by e-mail: the recipient chose it, or the tool cannot reach them
            email = build_email(message, batch.sender)
            batch.transport.send(
                email,
                batch.envelope_sender,
                message.to_address,
                starting=lambda: _still_mine(message, batch, {"attempt_started_at": batch.now()}),
            )
            values["channel"] = "email"
    except ClaimLost:
        return  # another worker took it over (a lapsed claim): it is theirs now
    except PermanentFailure as exc:
        values.update(status=MessageStatus.FAILED, last_error=str(exc)[:2000])
        report.failed += 1
        if exc.bounce:
            _mark_bouncing(message, str(exc), batch.now())
            batch.bouncing[message.recipient_id] = str(exc)  # the rest of the batch skips it
    except Exception as exc:
        # Anything else, a 4xx or a chat tool's 429 included, is worth another try later; the
        # batch goes on.
        report.slowed = report.slowed or isinstance(exc, SlowDown | RateLimited)
        values["last_error"] = f"{trying + ': ' if trying else ''}{type(exc).__name__}: {exc}"[
            :2000
        ]
        if attempts >= current_app.config["MESSAGE_MAX_ATTEMPTS"]:
            values["status"] = MessageStatus.FAILED
            report.failed += 1
        else:
            pause = max(backoff(attempts), SLOW_DOWN_PAUSE if report.slowed else timedelta())
            if isinstance(exc, RateLimited):
                pause = timedelta(seconds=exc.retry_after)  # as long as the tool asked
            values.update(status=MessageStatus.QUEUED, next_attempt_at=batch.now() + pause)
            report.retried += 1
            report.last_error = values["last_error"]
    else:
        values.update(status=MessageStatus.SENT, sent_at=batch.now(), last_error=None)
        report.sent += 1
    # Committed one by one, and only while this worker still holds the claim: a sent message must
    # never be left looking unsent.
    if values.get("status") is not MessageStatus.SENT:
        values["attempt_started_at"] = None  # its fate is known: settled, or to be retried
    _still_mine(message, batch, values)


def _send_in_chat(batch: _Batch, message: Message, values: dict[str, Any]) -> bool:
    """Post the message's card in the chat tool: True when posted; False when it is to go by
    e-mail instead (why is noted on it). Raises ClaimLost when another worker holds it, and
    what the tool raised when it failed (to be tried again)."""
    chat = batch.chat
    assert chat is not None  # noqa: S101 (only called with a chat tool)
    try:
        users, mention = conversation(chat, message, batch.now())
        if not _still_mine(message, batch, {"attempt_started_at": batch.now()}):
            raise ClaimLost()
        values["chat_ref"] = chat.post(users, message.card or {}, mention=mention)
    except Unreachable as exc:
        values["channel_note"] = f"Sent by e-mail: {exc}."[:500]
        return False
    except Refused as exc:
        # Hallway itself is refused: this message and the rest of the send go by e-mail.
        values["channel_note"] = batch.refused = f"Sent by e-mail: {exc}."[:500]
        return False
    values["channel"] = chat.tool
    return True


def _mark_bouncing(message: Message, reason: str, at: datetime) -> None:
    """The server refused this address for good: stop mailing it until the address changes."""
    db.session.execute(
        sa.update(Person)
        .where(Person.id == message.recipient_id, Person.email == message.to_address)
        .values(email_bouncing_at=at, email_bounce_reason=reason[:500])
    )
