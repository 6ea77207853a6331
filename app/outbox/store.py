"""Outbox rows: add them to a transaction, claim one, record how its delivery went.

Nothing here commits except the sender's own steps (claim, finish): a service's
`enqueue` rides in the service's transaction.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, event, func, or_, select, update

from app import clock, mail
from app.database import read_connection
from app.extensions import db
from app.models.outbox import (
    STATUS_DISCARDED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_SENT,
    OutboxMail,
)

PREPARERS_KEY = "outbox_preparers"
SENDER_KEY = "outbox_sender"
WAKE_KEY = "outbox_wakes_sender"
# What a done row keeps: no address, no link, no body.
SCRUBBED = {"recipient": None, "subject": None, "body_text": None, "body_html": None}


@dataclass(frozen=True)
class MailContent:
    """One rendered mail."""

    to: str
    subject: str
    text: str
    html: str


RANDOM = secrets.SystemRandom()


def register_preparer(app, kind, preparer):
    """`preparer(recipient)` turns a request row of `kind` into a MailContent (or
    None: no mail), in the sender's transaction, so what it writes commits with it."""
    app.extensions.setdefault(PREPARERS_KEY, {})[kind] = preparer


def preparer_for(app, kind):
    return app.extensions.get(PREPARERS_KEY, {}).get(kind)


def enqueue(content, *, kind):
    """Add a rendered mail to the caller's transaction; never commits."""
    return add_row(
        kind=kind,
        recipient=content.to,
        subject=content.subject,
        body_text=content.text,
        body_html=content.html,
    )


def enqueue_request(*, kind, to):
    """Add a mail request the sender renders with the preparer of `kind`.

    Whether the request leads to a mail (a known account) shows in the sender's
    work, not in the answer: it runs after a random delay, without a wake-up, so its
    timing does not follow the request's (MAIL_REQUEST_DELAY_MS).
    """
    most = current_app.config["MAIL_REQUEST_DELAY_MS"]
    delay = timedelta(milliseconds=RANDOM.uniform(most / 4, most)) if most else None
    return add_row(kind=kind, recipient=to, delay=delay)


def add_row(*, delay=None, **values):
    now = clock.now()
    row = OutboxMail(
        message_id=mail.new_message_id(current_app.config["MAIL_DEFAULT_SENDER"]),
        status=STATUS_PENDING,
        attempts=0,
        next_attempt_at=now + delay if delay else now,
        **values,
    )
    db.session.add(row)
    if delay is None:
        wake_sender_on_commit()
    return row


def wake_sender_on_commit():
    """This process's sender looks at the outbox right after the commit."""
    sender = current_app.extensions.get(SENDER_KEY)
    session = db.session()
    if sender is None or session.info.get(WAKE_KEY):
        return
    session.info[WAKE_KEY] = True
    event.listen(session, "after_commit", lambda _session: sender.wake())


def due(due_by, now=None):
    """Pending rows whose time has come by `due_by` and whose lease has ended."""
    now = now or due_by
    return (
        OutboxMail.status == STATUS_PENDING,
        OutboxMail.next_attempt_at <= due_by,
        or_(OutboxMail.leased_until.is_(None), OutboxMail.leased_until <= now),
    )


def any_due(now):
    """A plain read first: on SQLite an idle poll must not take the write lock."""
    with read_connection() as connection:
        found = connection.execute(
            select(OutboxMail.id).where(*due(now)).limit(1)
        ).scalar()
    return found is not None


def claim(*, owner, due_by, lease_seconds):
    """Lease the next row due by `due_by` to `owner`; its id, or None.

    PostgreSQL: senders skip rows another one is claiming (SKIP LOCKED). SQLite
    renders no FOR UPDATE; its single writer runs one claim at a time, and the
    outer WHERE sees the other's lease.
    """
    now = clock.now()
    pick = (
        select(OutboxMail.id)
        .where(*due(due_by, now))
        .order_by(OutboxMail.next_attempt_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(OutboxMail)
        # `=` a scalar subquery: PostgreSQL runs it once (an InitPlan); with IN it
        # may run it per row, each run picking the next row, claiming several.
        .where(OutboxMail.id == pick.scalar_subquery(), *due(due_by, now))
        .values(leased_until=now + timedelta(seconds=lease_seconds), claimed_by=owner)
        .returning(OutboxMail.id)
        .execution_options(synchronize_session=False)
    )
    claimed = db.session.execute(statement).scalar_one_or_none()
    db.session.commit()
    return claimed


def load(row_id):
    return db.session.get(OutboxMail, row_id, populate_existing=True)


def store_content(row_id, *, owner, content):
    """Write what a preparer made, with what it added (a token), in one commit."""
    return finish(
        row_id,
        owner=owner,
        release=False,
        recipient=content.to,
        subject=content.subject,
        body_text=content.text,
        body_html=content.html,
    )


def mark_sent(row_id, *, owner):
    now = clock.now()
    return finish(
        row_id,
        owner=owner,
        status=STATUS_SENT,
        attempts=OutboxMail.attempts + 1,
        last_error=None,
        finished_at=now,
        **SCRUBBED,
    )


def mark_discarded(row_id, *, owner):
    return finish(
        row_id,
        owner=owner,
        status=STATUS_DISCARDED,
        finished_at=clock.now(),
        **SCRUBBED,
    )


def mark_deferred(row_id, *, owner, error, retry_at):
    return finish(
        row_id,
        owner=owner,
        attempts=OutboxMail.attempts + 1,
        last_error=error,
        next_attempt_at=retry_at,
    )


def mark_failed(row_id, *, owner, error):
    """Given up: the body (a live link) goes, the address stays for `mail status`."""
    return finish(
        row_id,
        owner=owner,
        status=STATUS_FAILED,
        attempts=OutboxMail.attempts + 1,
        last_error=error,
        finished_at=clock.now(),
        body_text=None,
        body_html=None,
    )


def finish(row_id, *, owner, release=True, **values):
    """Update a row this sender still holds and commit; False if it lost the lease."""
    if release:
        values.update(leased_until=None, claimed_by=None)
    statement = (
        update(OutboxMail)
        .where(OutboxMail.id == row_id, OutboxMail.claimed_by == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    held = db.session.execute(statement).rowcount == 1
    if held:
        db.session.commit()
    else:
        db.session.rollback()
    return held


def counts():
    """{status: rows}."""
    rows = db.session.execute(
        select(OutboxMail.status, func.count()).group_by(OutboxMail.status)
    )
    return dict(rows.all())


def rows_with_status(status, limit):
    """The oldest rows of a status."""
    return db.session.scalars(
        select(OutboxMail)
        .where(OutboxMail.status == status)
        .order_by(OutboxMail.created_at)
        .limit(limit)
    ).all()


def purge(*, older_than):
    """Delete rows done (sent, failed, discarded) before `older_than`; commits."""
    deleted = db.session.execute(
        delete(OutboxMail)
        .where(
            OutboxMail.status != STATUS_PENDING,
            OutboxMail.finished_at < older_than,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return deleted
