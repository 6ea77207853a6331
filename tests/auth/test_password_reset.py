"""Password reset over real SMTP: the mail crosses aiosmtpd and the test follows it."""

import hashlib
import logging
import socket
import threading
import time

import pytest
from sqlalchemy import func, select

from app import events
from app.extensions import db
from app.models import OneTimeToken, User
from app.outbox.sender import deliver_due
from tests.auth.flows import (
    FRONTEND_URL,
    NEW_PASSWORD,
    assert_no_secret_logged,
    events_of,
    token_of,
)
from tests.conftest import PASSWORD
from tests.helpers import assert_error, assert_ok
from tests.urls import (
    EMAIL_VERIFY_CONFIRM,
    EMAIL_VERIFY_REQUEST,
    LOGIN,
    ME,
    PASSWORD_RESET,
    PASSWORD_RESET_CONFIRM,
    REFRESH,
)

pytestmark = pytest.mark.config(FRONTEND_URL=FRONTEND_URL)
RESET_LINK = f"{FRONTEND_URL}/reset-password?token="


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def request_reset(client, email, **kwargs):
    response = client.post(PASSWORD_RESET, json={"email": email}, **kwargs)
    return assert_ok(response, 202)


def reset_tokens(mailbox, email, count=1):
    """The tokens of the `count` reset mails sent to `email`, oldest first."""
    received = [m for m in mailbox.wait_for(count) if email in m.rcpt_tos]
    assert len(received) == count
    return [token_of(m.link(RESET_LINK)) for m in received]


def mailed_token(client, mailbox, email):
    """Ask for a reset of `email`; the token of the one mail that follows."""
    request_reset(client, email)
    [token] = reset_tokens(mailbox, email)
    return token


def confirm(client, token, password=NEW_PASSWORD):
    return client.post(
        PASSWORD_RESET_CONFIRM, json={"token": token, "newPassword": password}
    )


def test_reset_end_to_end(app, client, auth, mailbox, caplog):
    caplog.set_level(logging.INFO)
    first = auth.register(mode="bearer")
    caplog.clear()  # the registration's verification mail
    email = first.extra["email"]
    second = auth.login(email, mode="bearer")
    browser = auth.login(email, mode="cookie")

    data = request_reset(client, email)
    assert set(data) == {"message"}
    [received] = mailbox.wait_for(1)
    assert received.rcpt_tos == [email]
    assert received.to == email
    assert received.message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert received.subject == "Reset your password"
    assert received.message.get_content_type() == "multipart/alternative"
    link = received.link(RESET_LINK)
    assert f'href="{link}"' in received.html
    assert "30 minutes" in received.text
    token = token_of(link)
    assert len(token) >= 43  # 32 random bytes, base64url

    response = confirm(client, token)
    assert assert_ok(response) == {
        "message": "Your password has been reset. Sign in with the new password."
    }
    # Reset does not log in: no tokens, no cookies.
    assert "Authorization" not in response.headers
    assert response.headers.getlist("Set-Cookie") == []

    # Every session ended at once: access and refresh tokens are refused.
    for caller in (first, second, browser):
        assert_error(
            caller.client.get(ME, headers=caller.headers), 401, "token_revoked"
        )
    assert_error(
        client.post(REFRESH, headers=first.refresh_headers), 401, "token_revoked"
    )
    assert_error(
        browser.client.post(REFRESH, headers={"X-CSRF-TOKEN": browser.csrf_token}),
        401,
        "token_revoked",
    )

    # The old password is refused, the new one works.
    old = client.post(LOGIN, json={"email": email, "password": PASSWORD})
    assert_error(old, 401, "invalid_credentials")
    new = auth.login(email, NEW_PASSWORD)
    me = assert_ok(new.client.get(ME, headers=new.headers))["user"]
    # The link reached the mailbox, which proves the address too.
    assert me["emailVerified"] is True

    # A notice follows the reset; it carries no token.
    notice = mailbox.wait_for(2)[1]
    assert notice.subject == "Your password was changed"
    assert "reset" in notice.text and token not in notice.text

    [requested] = events_of(caplog, events.RESET_REQUESTED)
    assert requested == {"user_id": first.user["id"]}
    [completed] = events_of(caplog, events.RESET_COMPLETED)
    assert completed == {"user_id": first.user["id"], "sessions_revoked": 3}
    assert [f["kind"] for f in events_of(caplog, events.MAIL_SENT)] == [
        "password_reset",
        "password_changed",
    ]
    assert_no_secret_logged(caplog, token, link, NEW_PASSWORD)


def test_reset_token_is_single_use(client, make_user, mailbox):
    user = make_user()
    token = mailed_token(client, mailbox, user.email)
    assert_ok(confirm(client, token))
    again = confirm(client, token, password="yet another passphrase 7")
    body = assert_error(again, 401, "token_invalid")
    assert 'error="invalid_token"' in again.headers["WWW-Authenticate"]
    assert "used" in body["error"]
    # The second try changed nothing: the first new password still works.
    login = client.post(LOGIN, json={"email": user.email, "password": NEW_PASSWORD})
    assert_ok(login)


def test_using_one_reset_token_voids_the_others(client, make_user, mailbox):
    user = make_user()
    request_reset(client, user.email)
    request_reset(client, user.email)
    older, newer = reset_tokens(mailbox, user.email, count=2)
    assert older != newer
    assert_ok(confirm(client, newer))
    assert_error(confirm(client, older), 401, "token_invalid")


def test_reset_token_expires(client, make_user, mailbox, move_clock):
    user = make_user()
    token = mailed_token(client, mailbox, user.email)
    move_clock(seconds=1800)
    response = confirm(client, token)
    assert_error(response, 401, "token_expired")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    login = client.post(LOGIN, json={"email": user.email, "password": PASSWORD})
    assert_ok(login)


@pytest.mark.config(PASSWORD_RESET_TTL=600)
def test_reset_ttl_is_configurable(app, client, make_user, mailbox, move_clock):
    user = make_user()
    request_reset(client, user.email)
    [received] = mailbox.wait_for(1)
    assert "10 minutes" in received.text
    token = token_of(received.link(RESET_LINK))
    with app.app_context():
        row = db.session.scalar(select(OneTimeToken))
        # The clock the test moves is the clock the service used.
        assert (row.expires_at - row.created_at).total_seconds() == 600
    move_clock(seconds=599)
    assert_ok(confirm(client, token))


def test_token_is_stored_only_as_its_hash(app, client, make_user, mailbox):
    user = make_user()
    token = mailed_token(client, mailbox, user.email)
    with app.app_context():
        row = db.session.scalar(select(OneTimeToken))
        assert row.purpose == "password_reset"
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {str(value) for value in vars(row).values()}


def test_unknown_email_gets_the_same_answer_and_no_mail(
    app, client, make_user, mailbox, caplog
):
    caplog.set_level(logging.INFO)
    user = make_user()
    known = client.post(PASSWORD_RESET, json={"email": user.email})
    unknown = client.post(PASSWORD_RESET, json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()

    def visible_headers(response):
        return {k: v for k, v in response.headers if k != "X-Request-ID"}

    assert visible_headers(known) == visible_headers(unknown)
    received = mailbox.wait_for(1)
    assert [m.rcpt_tos for m in received] == [[user.email]]
    with app.app_context():
        assert db.session.scalar(select(func.count(OneTimeToken.id))) == 1
    assert {"user_id": None} in events_of(caplog, events.RESET_REQUESTED)


def test_disabled_account_gets_no_mail(client, make_user, mailbox):
    user = make_user(is_active=False)
    request_reset(client, user.email)
    assert mailbox.messages == []


def test_reset_email_is_case_insensitive(client, make_user, mailbox):
    user = make_user(email="ada@example.com")
    request_reset(client, "  ADA@Example.COM ")
    [received] = mailbox.wait_for(1)
    assert received.rcpt_tos == [user.email]


def test_link_ignores_the_request_host(client, make_user, mailbox):
    user = make_user()
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    request_reset(client, user.email, headers=headers)
    [received] = mailbox.wait_for(1)
    assert received.links() == [received.link(RESET_LINK)]
    assert "evil.example" not in received.text + received.html


def test_weak_new_password_is_refused_and_the_link_stays_usable(
    client, make_user, mailbox
):
    user = make_user(email="ada@example.com")
    token = mailed_token(client, mailbox, user.email)
    for weak in ("short", "password123", "ada@example.com", "x" * 257):
        body = assert_error(confirm(client, token, weak), 400, "validation_error")
        assert list(body["details"]) == ["newPassword"]
    assert_ok(confirm(client, token))


def test_html_part_escapes_the_users_name(client, make_user, mailbox):
    user = make_user(name='<img src=x onerror="alert(1)"> & Co')
    request_reset(client, user.email)
    [received] = mailbox.wait_for(1)
    assert user.name in received.text
    assert "<img" not in received.html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; Co" in received.html


def test_parallel_confirms_with_one_token_succeed_once(app, make_user, mailbox):
    user = make_user()
    token = mailed_token(app.test_client(), mailbox, user.email)
    statuses = []
    barrier = threading.Barrier(4)

    def attempt(number):
        client = app.test_client()
        barrier.wait()
        response = confirm(client, token, f"parallel passphrase {number}")
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401, 401, 401]


def test_smtp_down_does_not_change_the_answer(
    app, client, make_user, closed_smtp_port, caplog
):
    caplog.set_level(logging.INFO)
    app.config["MAIL_PORT"] = closed_smtp_port
    user = make_user()
    known = client.post(PASSWORD_RESET, json={"email": user.email})
    unknown = client.post(PASSWORD_RESET, json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    assert deliver_due(app) == 2
    # Not lost: the reset mail waits in the outbox for its next attempt.
    [deferred] = events_of(caplog, events.MAIL_DEFERRED)
    assert deferred["kind"] == "password_reset"
    assert deferred["attempts"] == 1
    assert deferred["error"] == "ConnectionRefusedError"
    assert events_of(caplog, events.MAIL_FAILED) == []


def test_answer_does_not_wait_for_a_hanging_smtp_server(app, client, make_user):
    # Accepts connections but never greets: the sender waits MAIL_TIMEOUT, not the
    # request.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        app.config.update(MAIL_PORT=silent.getsockname()[1], MAIL_TIMEOUT=1)
        user = make_user()
        started = time.monotonic()
        request_reset(client, user.email)
        assert time.monotonic() - started < 0.5
        assert deliver_due(app) == 1


def test_dev_mode_without_mail_server_logs_the_mail(app, client, make_user, caplog):
    caplog.set_level(logging.INFO, logger="app.mail")
    app.config["MAIL_SERVER"] = None
    user = make_user()
    request_reset(client, user.email)
    assert [r for r in caplog.records if r.name == "app.mail"] == []
    deliver_due(app)  # the sender writes the log line, off the request path
    [logged] = [r for r in caplog.records if r.name == "app.mail"]
    text = logged.getMessage()
    assert f"To: {user.email}" in text
    assert "Subject: Reset your password" in text
    link = next(word for word in text.split() if word.startswith(RESET_LINK))
    assert_ok(confirm(client, token_of(link)))


def test_production_without_mail_server_never_logs_the_link(
    app, client, make_user, caplog
):
    caplog.set_level(logging.INFO)
    # Read when the mail is sent; a whole production app needs far more set-up.
    app.config.update(APP_ENV="production", MAIL_SERVER=None)
    user = make_user()
    request_reset(client, user.email)
    deliver_due(app)
    assert "reset-password" not in caplog.text
    assert "MAIL_SERVER is not set: a password_reset mail waits" in caplog.text
    [deferred] = events_of(caplog, events.MAIL_DEFERRED)
    assert deferred["error"] == "no_mail_server"


# Bad input: always a 4xx envelope, never a 500.


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": None},
        {"email": 42},
        {"email": ["ada@example.com"]},
        {"email": "not an email"},
        {"email": "ada\u0000@example.com"},
        {"email": "ada\u0007@example.com"},
        {"email": "a" * 300 + "@example.com"},
        {"email": "ada@example.com", "extra": True},
    ],
)
def test_reset_request_bad_input_is_400(client, body, mailbox):
    assert_error(client.post(PASSWORD_RESET, json=body), 400, "validation_error")
    assert mailbox.messages == []


@pytest.mark.parametrize(
    "raw, content_type, status, code",
    [
        ("", "application/json", 400, "invalid_json"),
        ("[]", "application/json", 400, "invalid_json"),
        ('"ada@example.com"', "application/json", 400, "invalid_json"),
        ("{", "application/json", 400, "invalid_json"),
        ('{"email": "a@b.co", "email": "c@d.co"}', "application/json", 400, None),
        ("email=ada@example.com", "application/x-www-form-urlencoded", 415, None),
    ],
)
def test_reset_request_bad_body_is_4xx(client, raw, content_type, status, code):
    response = client.post(PASSWORD_RESET, data=raw, content_type=content_type)
    body = response.get_json()
    assert response.status_code == status and body["success"] is False
    if code:
        assert body["code"] == code


GOOD_SHAPE = "A" * 43


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({}, 400, "validation_error"),
        ({"token": GOOD_SHAPE}, 400, "validation_error"),
        ({"newPassword": NEW_PASSWORD}, 400, "validation_error"),
        ({"token": 42, "newPassword": NEW_PASSWORD}, 400, "validation_error"),
        ({"token": None, "newPassword": NEW_PASSWORD}, 400, "validation_error"),
        ({"token": [GOOD_SHAPE], "newPassword": NEW_PASSWORD}, 400, "validation_error"),
        ({"token": GOOD_SHAPE, "newPassword": 12345678}, 400, "validation_error"),
        ({"token": "", "newPassword": NEW_PASSWORD}, 400, "validation_error"),
        ({"token": "A" * 42 + "\u0000", "newPassword": NEW_PASSWORD}, 400, None),
        ({"token": "\ud800" * 43, "newPassword": NEW_PASSWORD}, 400, None),
        ({"token": "A" * 10_000, "newPassword": NEW_PASSWORD}, 400, None),
        ({"token": GOOD_SHAPE, "newPassword": "pass\u0000word!!"}, 400, None),
        ({"token": GOOD_SHAPE, "newPassword": NEW_PASSWORD, "x": 1}, 400, None),
        ({"token": "garbage", "newPassword": NEW_PASSWORD}, 401, "token_invalid"),
        ({"token": GOOD_SHAPE, "newPassword": NEW_PASSWORD}, 401, "token_invalid"),
        ({"token": "../../etc/passwd", "newPassword": NEW_PASSWORD}, 401, None),
        ({"token": "' OR 1=1 --" * 4, "newPassword": NEW_PASSWORD}, 401, None),
    ],
)
def test_reset_confirm_bad_input_is_4xx(client, body, status, code):
    response = client.post(PASSWORD_RESET_CONFIRM, json=body)
    assert_error(response, status, code or response.get_json()["code"])
    if status == 400 and code is None:
        assert response.get_json()["code"] == "validation_error"


def test_reset_confirm_token_over_the_body_limit_is_413(client):
    body = {"token": "A" * (70 * 1024), "newPassword": NEW_PASSWORD}
    assert_error(
        client.post(PASSWORD_RESET_CONFIRM, json=body), 413, "payload_too_large"
    )


def test_verify_token_is_no_reset_token(client, auth, mailbox):
    caller = auth.register()
    assert_ok(caller.client.post(EMAIL_VERIFY_REQUEST, headers=caller.headers), 202)
    [received] = mailbox.wait_for(1)
    token = token_of(received.link(f"{FRONTEND_URL}/verify-email?token="))
    assert_error(confirm(client, token), 401, "token_invalid")
    # ...and the failed attempt did not spend it.
    assert_ok(client.post(EMAIL_VERIFY_CONFIRM, json={"token": token}))


def test_reset_of_a_deleted_account_is_token_invalid(app, client, make_user, mailbox):
    user = make_user()
    token = mailed_token(client, mailbox, user.email)
    with app.app_context():
        db.session.delete(db.session.get(User, user.id))
        db.session.commit()
    assert_error(confirm(client, token), 401, "token_invalid")
