"""Email verification over real SMTP: request a link, follow it, emailVerified."""

import logging

import pytest

from app import events
from app.outbox.sender import deliver_due
from tests.auth.flows import (
    FRONTEND_URL,
    assert_no_secret_logged,
    events_of,
    token_of,
)
from tests.helpers import USER_FIELDS, assert_error, assert_ok
from tests.urls import (
    EMAIL_VERIFY_CONFIRM,
    EMAIL_VERIFY_REQUEST,
    LOGOUT,
    ME,
    PASSWORD_RESET,
)

pytestmark = pytest.mark.config(FRONTEND_URL=FRONTEND_URL)
VERIFY_LINK = f"{FRONTEND_URL}/verify-email?token="
REQUESTED = {
    "message": (
        "A verification link is on its way, unless the email is already verified."
    )
}


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def request_link(caller):
    response = caller.client.post(EMAIL_VERIFY_REQUEST, headers=caller.headers)
    assert assert_ok(response, 202) == REQUESTED


def verify_tokens(mailbox, count=1):
    return [token_of(m.link(VERIFY_LINK)) for m in mailbox.wait_for(count)]


def mailed_token(caller, mailbox):
    """Ask for a link for `caller`; the token of the one mail that follows."""
    request_link(caller)
    [token] = verify_tokens(mailbox)
    return token


def confirm(client, token):
    return client.post(EMAIL_VERIFY_CONFIRM, json={"token": token})


def test_verification_end_to_end(app, auth, mailbox, caplog):
    caplog.set_level(logging.INFO)
    caller = auth.register(name="Ada")
    assert caller.user["emailVerified"] is False
    request_link(caller)

    [received] = mailbox.wait_for(1)
    assert received.rcpt_tos == [caller.extra["email"]]
    assert received.subject == "Confirm your email address"
    assert received.message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert "Hello Ada" in received.text and "Hello Ada" in received.html
    assert "24 hours" in received.text
    link = received.link(VERIFY_LINK)
    assert f'href="{link}"' in received.html
    token = token_of(link)

    # Confirm needs no login: the link may be opened on another device.
    stranger = app.test_client()
    user = assert_ok(confirm(stranger, token))["user"]
    assert user["emailVerified"] is True
    assert user["id"] == caller.user["id"]
    assert set(user) == USER_FIELDS
    me = assert_ok(caller.client.get(ME, headers=caller.headers))["user"]
    assert me["emailVerified"] is True

    assert events_of(caplog, events.EMAIL_VERIFIED) == [{"user_id": user["id"]}]
    assert_no_secret_logged(caplog, token, link)


def test_verification_token_is_single_use(client, auth, mailbox):
    token = mailed_token(auth.register(), mailbox)
    assert_ok(confirm(client, token))
    response = confirm(client, token)
    assert_error(response, 401, "token_invalid")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_new_request_voids_older_tokens(client, auth, mailbox):
    caller = auth.register()
    request_link(caller)
    request_link(caller)
    older, newer = verify_tokens(mailbox, count=2)
    assert older != newer
    assert_error(confirm(client, older), 401, "token_invalid")
    assert_ok(confirm(client, newer))


def test_already_verified_gets_the_same_answer_and_no_mail(client, auth, mailbox):
    caller = auth.register()
    token = mailed_token(caller, mailbox)
    assert_ok(confirm(client, token))
    mailbox.clear()
    request_link(caller)
    assert mailbox.messages == []


def test_verification_token_expires_after_24_hours(client, auth, mailbox, move_clock):
    token = mailed_token(auth.register(), mailbox)
    move_clock(hours=24)
    assert_error(confirm(client, token), 401, "token_expired")


def test_verification_token_works_within_24_hours(client, auth, mailbox, move_clock):
    token = mailed_token(auth.register(), mailbox)
    move_clock(hours=23, minutes=59)
    assert assert_ok(confirm(client, token))["user"]["emailVerified"] is True


def test_request_needs_an_access_token(client, auth):
    assert_error(client.post(EMAIL_VERIFY_REQUEST), 401, "token_missing")
    caller = auth.register()
    assert_error(
        client.post(EMAIL_VERIFY_REQUEST, headers={"Authorization": "Bearer x.y.z"}),
        401,
        "token_invalid",
    )
    caller.client.post(LOGOUT, headers=caller.headers)
    assert_error(
        client.post(EMAIL_VERIFY_REQUEST, headers=caller.headers), 401, "token_revoked"
    )


def test_request_accepts_an_empty_object_and_refuses_fields(auth, mailbox):
    caller = auth.register()
    ok = caller.client.post(EMAIL_VERIFY_REQUEST, json={}, headers=caller.headers)
    assert_ok(ok, 202)
    bad = caller.client.post(
        EMAIL_VERIFY_REQUEST,
        json={"email": "other@example.com"},
        headers=caller.headers,
    )
    assert_error(bad, 400, "validation_error")
    assert len(mailbox.wait_for(1)) == 1


def test_reset_token_is_no_verification_token(client, auth, mailbox):
    caller = auth.register()
    assert_ok(client.post(PASSWORD_RESET, json={"email": caller.extra["email"]}), 202)
    [received] = mailbox.wait_for(1)
    token = token_of(received.link(f"{FRONTEND_URL}/reset-password?token="))
    assert_error(confirm(client, token), 401, "token_invalid")


def test_html_part_escapes_the_users_name(auth, mailbox):
    caller = auth.register(name="<b>Ada</b> & Co")
    request_link(caller)
    [received] = mailbox.wait_for(1)
    assert "Hello <b>Ada</b> & Co" in received.text
    assert "Hello &lt;b&gt;Ada&lt;/b&gt; &amp; Co" in received.html


def test_smtp_down_does_not_change_the_answer(app, auth, closed_smtp_port):
    app.config["MAIL_PORT"] = closed_smtp_port
    caller = auth.register()
    request_link(caller)
    # The registration's verification mail and the requested one.
    assert deliver_due(app) == 2


def test_dev_mode_logs_the_verification_link(app, auth, client, caplog):
    caplog.set_level(logging.INFO, logger="app.mail")
    app.config["MAIL_SERVER"] = None
    caller = auth.register()
    deliver_due(app)  # the registration's own link
    caplog.clear()
    request_link(caller)
    deliver_due(app)
    [logged] = [r.getMessage() for r in caplog.records if r.name == "app.mail"]
    link = next(word for word in logged.split() if word.startswith(VERIFY_LINK))
    assert_ok(confirm(client, token_of(link)))


@pytest.mark.parametrize(
    "body, status",
    [
        ({}, 400),
        ({"token": None}, 400),
        ({"token": 1}, 400),
        ({"token": True}, 400),
        ({"token": ["A" * 43]}, 400),
        ({"token": {"$ne": ""}}, 400),
        ({"token": ""}, 400),
        ({"token": "A" * 42 + "\n"}, 400),
        ({"token": "A" * 42 + "\u0000"}, 400),
        ({"token": "A" * 5000}, 400),
        ({"token": "A" * 43, "userId": "x"}, 400),
        ({"token": "garbage"}, 401),
        ({"token": "A" * 43}, 401),
        ({"token": "é" * 43}, 401),
    ],
)
def test_confirm_bad_input_is_4xx(client, body, status):
    response = client.post(EMAIL_VERIFY_CONFIRM, json=body)
    code = "validation_error" if status == 400 else "token_invalid"
    assert_error(response, status, code)


def test_confirm_non_object_body_is_400(client):
    for raw in ("[]", "null", "1", "{"):
        response = client.post(
            EMAIL_VERIFY_CONFIRM, data=raw, content_type="application/json"
        )
        assert_error(response, 400, "invalid_json")
