"""The outbox sender: claims due rows one at a time and delivers them.

At least once: a row is marked sent after the SMTP server accepted it, so a sender
that dies in between leaves it leased, and once the lease ends another sender (or
this one, restarted) sends it again, with the same Message-ID. Failures back off
exponentially (`MAIL_RETRY_BACKOFF_MS` doubling, at most `MAIL_RETRY_MAX_DELAY`)
for `MAIL_RETRY_FOR` hours; a 5xx answer fails at once.
"""

import logging
import os
import smtplib
import socket
import threading
import uuid
from datetime import timedelta

from flask import current_app

from app import clock, events, mail
from app.extensions import db
from app.outages import outage_kind, record_outage
from app.outbox import store

log = logging.getLogger(__name__)
# Never zero: a retried row must fall after the pass that failed it.
MIN_RETRY_DELAY = timedelta(milliseconds=1)


def sender_name():
    """host:pid:random, for `claimed_by` (unique per sender, readable in status)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def deliver_due(app, *, owner=None, stop=None, limit=None):
    """Deliver every row due now, one at a time; returns how many were handled.

    Returns when nothing is due (rows retried in this pass wait for their time);
    tests call it to run the sender synchronously.
    """
    owner = owner or sender_name()
    handled = 0
    with app.app_context():
        started = clock.now()
        if not store.any_due(started):
            return 0
        while limit is None or handled < limit:
            if stop is not None and stop.is_set():
                break
            row_id = store.claim(
                owner=owner,
                due_by=started,
                lease_seconds=app.config["MAIL_LEASE_SECONDS"],
            )
            if row_id is None:
                break
            handle(row_id, owner)
            handled += 1
    return handled


def handle(row_id, owner):
    """Prepare (if a request) and deliver one claimed row."""
    row = store.load(row_id)
    kind = row.kind
    try:
        if row.body_text is None and not prepare(row, owner):
            return
        message = build(row)
        attempt = row.attempts + 1
        db.session.rollback()  # no transaction open during the SMTP talk
        transport(message, kind)
    except (smtplib.SMTPException, OSError, MailServerMissing) as error:
        db.session.rollback()
        record_failure(row_id, owner, kind=kind, error=error)
    except Exception as error:  # the sender must outlive any one bad row
        if outage_kind(error) is not None:
            # Not the row's fault: the run loop logs the outage; the lease ends and
            # the row is taken up again once the database is back.
            raise
        db.session.rollback()
        log.exception("mail sender failed on a %s mail", kind)
        record_failure(row_id, owner, kind=kind, error=error)
    else:
        if store.mark_sent(row_id, owner=owner):
            events.emit(events.MAIL_SENT, kind=kind, attempts=attempt)
        else:
            log.warning("a %s mail was sent after its lease ended", kind)


def prepare(row, owner):
    """Turn a request row into a mail; False when there is none to send."""
    preparer = store.preparer_for(current_app, row.kind)
    if preparer is None:
        raise LookupError(f"no preparer for {row.kind} mails")
    content = preparer(row.recipient)
    if content is None:
        db.session.rollback()
        store.mark_discarded(row.id, owner=owner)
        return False
    if not store.store_content(row.id, owner=owner, content=content):
        return False
    store.load(row.id)
    return True


def build(row):
    return mail.build_message(
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        to=row.recipient,
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
        message_id=row.message_id,
    )


class MailServerMissing(Exception):
    """Production without MAIL_SERVER: the mail waits for one to be configured."""


def transport(message, kind):
    config = current_app.config
    if config["MAIL_SERVER"]:
        mail.deliver(message, mail.SmtpSettings.from_config(config))
    elif config["APP_ENV"] == "production":
        # The body holds a live link; production logs must not become a mailbox.
        log.error("MAIL_SERVER is not set: a %s mail waits in the outbox", kind)
        raise MailServerMissing()
    else:
        mail.log_mail(message, kind=kind)


def retry_delay(config, attempts):
    """Doubling from MAIL_RETRY_BACKOFF_MS, capped at MAIL_RETRY_MAX_DELAY seconds."""
    first = max(0, config["MAIL_RETRY_BACKOFF_MS"]) / 1000
    cap = max(0, config["MAIL_RETRY_MAX_DELAY"])
    seconds = min(first * 2 ** min(attempts - 1, 32), cap)
    return max(timedelta(seconds=seconds), MIN_RETRY_DELAY)


def record_failure(row_id, owner, *, kind, error):
    """Retry later, or give up on a 5xx answer or once MAIL_RETRY_FOR has passed."""
    config = current_app.config
    row = store.load(row_id)
    attempts = row.attempts + 1
    described = (
        "no_mail_server"
        if isinstance(error, MailServerMissing)
        else mail.describe_error(error)
    )
    now = clock.now()
    deadline = row.created_at + timedelta(hours=config["MAIL_RETRY_FOR"])
    if mail.is_permanent(error) or now >= deadline:
        if store.mark_failed(row_id, owner=owner, error=described):
            log.warning(
                "%s mail not delivered after %d attempt(s): %s",
                kind,
                attempts,
                described,
            )
            events.emit(
                events.MAIL_FAILED, kind=kind, attempts=attempts, error=described
            )
        return
    retry_at = min(now + retry_delay(config, attempts), deadline)
    if store.mark_deferred(row_id, owner=owner, error=described, retry_at=retry_at):
        events.emit(
            events.MAIL_DEFERRED,
            kind=kind,
            attempts=attempts,
            error=described,
            retry_in=round((retry_at - now).total_seconds(), 3),
        )


class Sender:
    """`deliver_due` in a loop: every MAIL_POLL_INTERVAL, or when woken by a commit."""

    def __init__(self, app):
        self.app = app
        self.owner = sender_name()
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self.thread = None

    def wake(self):
        self.wakeup.set()

    def run(self):
        interval = self.app.config["MAIL_POLL_INTERVAL"]
        while not self.stopping.is_set():
            try:
                deliver_due(self.app, owner=self.owner, stop=self.stopping)
            except Exception as error:  # database away: try again at the next poll
                # An outage is one line per kind and period, not one per poll.
                if not record_outage(error):
                    log.exception("mail sender could not read the outbox")
            # A wake-up after the pass looked is kept (the event stays set); one
            # cleared here came after the commit, which the next pass sees.
            self.wakeup.wait(interval)
            self.wakeup.clear()

    def start(self):
        self.thread = threading.Thread(target=self.run, name="mail-sender", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout=None):
        """Finish the mail in hand, then stop; True when the thread has ended."""
        self.stopping.set()
        self.wakeup.set()
        if self.thread is None:
            return True
        self.thread.join(timeout)
        return not self.thread.is_alive()


def start_sender(app):
    """Start this process's sender thread for `app` (a gunicorn worker, at boot).

    Another app served by the same gunicorn.conf.py (the bench's bare app) has none.
    """
    if not app.config.get("MAIL_SENDER_THREAD"):
        return None
    sender = app.extensions.get(store.SENDER_KEY)
    if sender is None:
        sender = app.extensions[store.SENDER_KEY] = Sender(app).start()
    return sender


def stop_sender(app, timeout=None):
    """Stop the sender thread started by `start_sender`, if any."""
    sender = app.extensions.pop(store.SENDER_KEY, None)
    return True if sender is None else sender.stop(timeout)
