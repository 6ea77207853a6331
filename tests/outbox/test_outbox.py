"""The mail outbox through the HTTP API and a real SMTP server.

Mails are rows written in the service's transaction; the sender (run here
synchronously with `deliver_due`, or as the thread a gunicorn worker starts)
delivers them with back-off, at least once, each with a Message-ID fixed at insert.
The live-server tests (SIGKILLed worker, SMTP down for a minute) are in
tests/e2e/test_mail_delivery.py.
"""

import logging
import threading
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from flask import template_rendered
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app import events
from app.extensions import db
from app.models import OneTimeToken, OutboxMail
from app.outbox import store
from app.outbox.sender import deliver_due, start_sender, stop_sender
from tests.auth.flows import (
    FRONTEND_URL,
    events_of,
    token_of,
)
from tests.helpers import assert_ok
from tests.mailserver import Sink
from tests.servers import free_port
from tests.urls import EMAIL_VERIFY_REQUEST, PASSWORD_RESET, PASSWORD_RESET_CONFIRM

pytestmark = pytest.mark.config(FRONTEND_URL=FRONTEND_URL)
RESET_LINK = f"{FRONTEND_URL}/reset-password?token="
NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def request_reset(client, email):
    return assert_ok(client.post(PASSWORD_RESET, json={"email": email}), 202)


def outbox_rows(app):
    with app.app_context():
        rows = db.session.scalars(select(OutboxMail).order_by(OutboxMail.created_at))
        return [
            {column: getattr(row, column) for column in OutboxMail.__table__.c.keys()}
            for row in rows
        ]


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_reset_request_does_the_same_work_for_any_email(
    app, client, make_user, statements
):
    active = make_user()
    disabled = make_user(is_active=False)
    request_reset(client, "warm-up@example.com")
    rendered = []

    def on_render(sender, template, context, **extra):
        rendered.append(template.name)

    work = {}
    with template_rendered.connected_to(on_render, app):
        for case, email in [
            ("unknown", "nobody@example.com"),
            ("active", active.email),
            ("disabled", disabled.email),
        ]:
            statements.clear()
            request_reset(client, email)
            work[case] = list(statements)
    # One INSERT of an outbox row and its commit, whatever the email: no lookup,
    # no token, no template on the request path.
    assert work["unknown"] == work["active"] == work["disabled"]
    assert [s.split()[0] for s in work["active"]] == ["INSERT"]
    assert "mail_outbox" in work["active"][0]
    assert rendered == []
    assert count(app, OneTimeToken) == 0


def test_the_sender_mails_only_active_accounts_and_scrubs_done_rows(
    app, client, make_user, mailbox, caplog
):
    caplog.set_level(logging.INFO)
    user = make_user()
    request_reset(client, user.email)
    request_reset(client, "nobody@example.com")
    [received] = mailbox.wait_for(1)
    assert received.rcpt_tos == [user.email]
    sent, discarded = outbox_rows(app)
    assert sent["status"] == "sent" and discarded["status"] == "discarded"
    # The Message-ID was fixed when the row was written.
    assert received.message_id == sent["message_id"]
    for row in (sent, discarded):
        assert row["recipient"] is row["subject"] is None
        assert row["body_text"] is row["body_html"] is None
        assert row["leased_until"] is row["claimed_by"] is None
    assert sent["attempts"] == 1 and sent["finished_at"] is not None
    assert count(app, OneTimeToken) == 1
    assert {"user_id": None} in events_of(caplog, events.RESET_REQUESTED)
    assert {"user_id": str(user.id)} in events_of(caplog, events.RESET_REQUESTED)


def test_a_rolled_back_service_leaves_no_mail(app, auth, mailbox, monkeypatch):
    caller = auth.register()
    # The registration's own verification mail and token.
    before = count(app, OutboxMail), count(app, OneTimeToken)
    real_commit = db.session.commit

    def commit_fails_with_a_mail_in_it():
        if any(isinstance(row, OutboxMail) for row in db.session.new):
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
        real_commit()

    monkeypatch.setattr(db.session, "commit", commit_fails_with_a_mail_in_it)
    response = caller.client.post(EMAIL_VERIFY_REQUEST, headers=caller.headers)
    # A database that fails to commit is an outage to the client: 503, retry later.
    assert response.status_code == 503
    assert response.get_json()["code"] == "unavailable"
    monkeypatch.undo()
    # The token and the mail that carries it were one transaction: both gone.
    assert (count(app, OutboxMail), count(app, OneTimeToken)) == before
    assert mailbox.messages == []


def test_mail_waits_out_an_smtp_outage(app, client, make_user, mailbox, move_clock):
    user = make_user()
    app.config["MAIL_PORT"] = free_port()  # down
    request_reset(client, user.email)
    assert mailbox.messages == []
    [row] = outbox_rows(app)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"] == "ConnectionRefusedError"
    assert row["recipient"] == user.email and RESET_LINK in row["body_text"]
    app.config["MAIL_PORT"] = mailbox.port  # back
    move_clock(seconds=1)
    [received] = mailbox.wait_for(1)
    assert received.message_id == row["message_id"]
    assert_ok(
        client.post(
            PASSWORD_RESET_CONFIRM,
            json={
                "token": token_of(received.link(RESET_LINK)),
                "newPassword": NEW_PASSWORD,
            },
        )
    )


def test_retries_back_off_then_fail_after_mail_retry_for(
    app, client, make_user, closed_smtp_port, move_clock, caplog
):
    caplog.set_level(logging.INFO)
    app.config.update(
        MAIL_PORT=closed_smtp_port,
        MAIL_RETRY_BACKOFF_MS=1000,
        MAIL_RETRY_MAX_DELAY=4,
        MAIL_RETRY_FOR=0.01,  # 36 seconds
    )
    user = make_user()
    request_reset(client, user.email)
    assert deliver_due(app) == 1
    assert deliver_due(app) == 0  # not due yet
    for wait in (1, 2, 4, 4, 4, 4, 4, 4):
        move_clock(seconds=wait)
        assert deliver_due(app) == 1
    # 27 s after the first attempt: the next would be at 31 s, the last at 36 s.
    move_clock(seconds=4)
    assert deliver_due(app) == 1
    move_clock(seconds=5)
    assert deliver_due(app) == 1
    delays = [f["retry_in"] for f in events_of(caplog, events.MAIL_DEFERRED)]
    assert delays[:4] == [1.0, 2.0, 4.0, 4.0]
    assert len(delays) == 10
    [failed] = events_of(caplog, events.MAIL_FAILED)
    assert failed == {
        "kind": "password_reset",
        "attempts": 11,
        "error": "ConnectionRefusedError",
    }
    [row] = outbox_rows(app)
    assert row["status"] == "failed" and row["attempts"] == 11
    # The link goes; the address stays for `flask mail status`.
    assert row["body_text"] is row["body_html"] is None
    assert row["recipient"] == user.email
    move_clock(hours=1)
    assert deliver_due(app) == 0


class RefusingSink(Sink):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd)
        return "550 5.1.1 No such mailbox"


def test_a_refused_recipient_fails_at_once(app, auth, caplog):
    caplog.set_level(logging.INFO)
    controller = Controller(RefusingSink(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config["MAIL_PORT"] = controller.port
        caller = auth.register()
        assert_ok(caller.client.post(EMAIL_VERIFY_REQUEST, headers=caller.headers), 202)
        # The registration's verification mail and the requested one.
        assert deliver_due(app) == 2
    finally:
        controller.stop()
    rows = outbox_rows(app)
    assert len(rows) == 2
    row = rows[-1]
    assert all(r["status"] == "failed" for r in rows)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert row["last_error"] == "SMTPRecipientsRefused 550"
    assert events_of(caplog, events.MAIL_DEFERRED) == []


class Killed(BaseException):
    """The sender's process dies here."""


def test_a_sender_dying_after_the_smtp_accept_resends_the_same_message_id(
    app, client, make_user, mailbox, monkeypatch, move_clock
):
    user = make_user()
    request_reset(client, user.email)
    real_mark_sent = store.mark_sent

    def die(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(store, "mark_sent", die)
    with pytest.raises(Killed):
        deliver_due(app)
    monkeypatch.setattr(store, "mark_sent", real_mark_sent)
    assert len(mailbox.sink.received) == 1
    # Leased to the dead sender: nobody takes it until the lease ends.
    assert mailbox.deliver() == 0
    move_clock(seconds=app.config["MAIL_LEASE_SECONDS"])
    first, again = mailbox.wait_for(2)
    assert first.message_id == again.message_id
    assert first.text == again.text
    [row] = outbox_rows(app)
    assert row["status"] == "sent" and row["attempts"] == 1


def test_two_senders_never_deliver_one_mail_twice(
    app, client, make_user, make_app, mailbox
):
    emails = [make_user().email for _ in range(24)]
    for email in emails:
        request_reset(client, email)
    other = make_app(**mailbox.settings)
    barrier = threading.Barrier(2)
    handled = []

    def sender(which):
        barrier.wait()
        handled.append(deliver_due(which))

    threads = [threading.Thread(target=sender, args=(a,)) for a in (app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(handled) == len(emails)
    received = list(mailbox.sink.received)
    assert sorted(m.rcpt_tos[0] for m in received) == sorted(emails)
    assert max(Counter(m.message_id for m in received).values()) == 1
    assert {row["status"] for row in outbox_rows(app)} == {"sent"}


def test_the_sender_thread_mails_right_after_the_commit(
    app, client, make_user, mailbox
):
    app.config["MAIL_POLL_INTERVAL"] = 60  # only the commit can wake it in time
    user = make_user()
    sender = start_sender(app)
    try:
        assert sender.thread.name == "mail-sender" and sender.thread.daemon
        request_reset(client, user.email)
        deadline = time.monotonic() + 10
        while not mailbox.sink.received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [m.rcpt_tos for m in mailbox.sink.received] == [[user.email]]
    finally:
        assert stop_sender(app, timeout=10)
    assert not sender.thread.is_alive()


@pytest.mark.config(MAIL_SENDER_THREAD=False)
def test_no_sender_thread_when_turned_off(app):
    assert start_sender(app) is None
    assert stop_sender(app)


def test_flask_mail_send_once(app, client, make_user, mailbox, runner):
    user = make_user()
    request_reset(client, user.email)
    result = runner.invoke(args=["mail", "send", "--once"])
    assert result.exit_code == 0, result.output
    # Log lines (JSON, on stdout) come first.
    assert result.output.splitlines()[-1] == "Handled 1 mail(s)."
    assert [m.rcpt_tos for m in mailbox.sink.received] == [[user.email]]


def test_flask_mail_status_shows_pending_and_failed(
    app, client, auth, make_user, mailbox, runner
):
    user = make_user()
    request_reset(client, user.email)
    request_reset(client, "nobody@example.com")
    # The registration's own verification link is sent here too (sent: 2).
    caller = auth.register()
    mailbox.deliver()  # one sent, one discarded
    app.config.update(MAIL_PORT=free_port(), MAIL_RETRY_FOR=0)
    assert_ok(caller.client.post(EMAIL_VERIFY_REQUEST, headers=caller.headers), 202)
    mailbox.deliver()  # failed: no retry time left
    app.config["MAIL_RETRY_FOR"] = 24
    request_reset(client, user.email)
    mailbox.deliver()  # pending, retried later

    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:4] == ["pending    1", "sent       2", "failed     1", "discarded  1"]
    pending = lines.index("Pending:")
    assert "password_reset" in lines[pending + 1]
    assert f"to={user.email}" in lines[pending + 1]
    assert "attempts=1" in lines[pending + 1]
    assert "error=ConnectionRefusedError" in lines[pending + 1]
    failed = lines.index("Failed:")
    assert "verify_email" in lines[failed + 1]
    assert f"to={caller.extra['email']}" in lines[failed + 1]
    assert "token=" not in result.output


def test_flask_mail_purge_keeps_pending_and_recent_mails(
    app, client, make_user, mailbox, runner, move_clock
):
    user = make_user()
    request_reset(client, user.email)
    mailbox.deliver()  # sent
    move_clock(days=31)
    request_reset(client, "nobody@example.com")
    mailbox.deliver()  # discarded, recent
    app.config["MAIL_PORT"] = free_port()
    request_reset(client, user.email)
    mailbox.deliver()  # pending
    result = runner.invoke(args=["mail", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 mails done more than 30 days ago." in result.output
    assert sorted(row["status"] for row in outbox_rows(app)) == ["discarded", "pending"]


@pytest.mark.config(MAIL_REQUEST_DELAY_MS=2000)
def test_a_reset_request_is_handled_later_at_a_random_time(app, client, make_user):
    """The sender's work for a known account must not follow the request in time."""
    user = make_user()
    for email in (user.email, "nobody@example.com"):
        assert_ok(client.post(PASSWORD_RESET, json={"email": email}), 202)
    with app.app_context():
        rows = db.session.scalars(select(OutboxMail)).all()
        assert len(rows) == 2
        for row in rows:
            wait = (row.next_attempt_at - row.created_at).total_seconds()
            assert 0.5 <= wait <= 2.0, wait
        # Not due yet: nothing is prepared, for either email.
        assert deliver_due(app) == 0
