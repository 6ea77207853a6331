"""Password change: old password checked, other sessions ended, a notice mailed."""

import logging

import pytest

from app import events
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
    LOGIN,
    LOGOUT,
    ME,
    PASSWORD_CHANGE,
    PASSWORD_RESET,
    PASSWORD_RESET_CONFIRM,
    REFRESH,
)

pytestmark = pytest.mark.config(FRONTEND_URL=FRONTEND_URL)


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def change(caller, old=PASSWORD, new=NEW_PASSWORD):
    return caller.client.post(
        PASSWORD_CHANGE,
        json={"oldPassword": old, "newPassword": new},
        headers=caller.headers,
    )


def test_change_ends_other_sessions_and_keeps_the_current_one(
    auth, client, mailbox, caplog
):
    caplog.set_level(logging.INFO)
    current = auth.register(mode="bearer")
    email = current.extra["email"]
    phone = auth.login(email, mode="bearer")
    browser = auth.login(email, mode="cookie")

    data = assert_ok(change(current))
    assert data == {
        "message": "Password changed. Your other sessions have been signed out."
    }

    # The current session lives on: its access and refresh tokens still work.
    assert_ok(current.client.get(ME, headers=current.headers))
    assert_ok(client.post(REFRESH, headers=current.refresh_headers))
    # The others are over at once.
    for other in (phone, browser):
        assert_error(other.client.get(ME, headers=other.headers), 401, "token_revoked")
    assert_error(
        client.post(REFRESH, headers=phone.refresh_headers), 401, "token_revoked"
    )

    assert_error(
        client.post(LOGIN, json={"email": email, "password": PASSWORD}),
        401,
        "invalid_credentials",
    )
    auth.login(email, NEW_PASSWORD)

    [notice] = mailbox.wait_for(1)
    assert notice.rcpt_tos == [email]
    assert notice.subject == "Your password was changed"
    assert "changed" in notice.text and "other sessions" in notice.text
    assert FRONTEND_URL in notice.html
    # No reset link; only the "This wasn't me" link of the alert.
    assert "reset-password?token=" not in notice.text

    [changed] = events_of(caplog, events.PASSWORD_CHANGED)
    assert changed["user_id"] == current.user["id"]
    assert changed["sessions_revoked"] == 2
    assert_no_secret_logged(caplog, PASSWORD, NEW_PASSWORD)


def test_change_from_a_cookie_session_keeps_it(auth, mailbox):
    browser = auth.register(mode="cookie")
    other = auth.login(browser.extra["email"], mode="bearer")
    assert_ok(change(browser))
    refreshed = browser.client.post(
        REFRESH, headers={"X-CSRF-TOKEN": browser.csrf_token}
    )
    assert_ok(refreshed)
    assert_error(other.client.get(ME, headers=other.headers), 401, "token_revoked")


def test_wrong_old_password_is_400_invalid_credentials(auth, mailbox):
    caller = auth.register()
    other = auth.login(caller.extra["email"])
    response = change(caller, old="not my password at all")
    body = assert_error(response, 400, "invalid_credentials")
    assert body["error"] == "The current password is incorrect."
    assert "WWW-Authenticate" not in response.headers
    # Nothing changed: no session ended, no mail, the old password still works.
    assert_ok(other.client.get(ME, headers=other.headers))
    auth.login(caller.extra["email"], PASSWORD)
    assert mailbox.messages == []


def test_new_password_must_meet_the_policy(auth, mailbox):
    caller = auth.register(email="ada@example.com")
    for weak in ("short", "password1", "ADA@example.com", "é" * 257):
        body = assert_error(change(caller, new=weak), 400, "validation_error")
        assert list(body["details"]) == ["newPassword"]
    auth.login("ada@example.com", PASSWORD)
    assert mailbox.messages == []


def test_change_voids_pending_reset_links(auth, client, mailbox):
    caller = auth.register()
    email = caller.extra["email"]
    assert_ok(client.post(PASSWORD_RESET, json={"email": email}), 202)
    [reset_mail] = mailbox.wait_for(1)
    token = token_of(reset_mail.link(f"{FRONTEND_URL}/reset-password?token="))
    assert_ok(change(caller))
    response = client.post(
        PASSWORD_RESET_CONFIRM,
        json={"token": token, "newPassword": "attacker passphrase 9"},
    )
    assert_error(response, 401, "token_invalid")


def test_change_needs_an_access_token(auth, client):
    body = {"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    assert_error(client.post(PASSWORD_CHANGE, json=body), 401, "token_missing")
    caller = auth.register()
    assert_error(
        client.post(PASSWORD_CHANGE, json=body, headers=caller.refresh_headers),
        401,
        "token_invalid",
    )
    caller.client.post(LOGOUT, headers=caller.headers)
    assert_error(
        client.post(PASSWORD_CHANGE, json=body, headers=caller.headers),
        401,
        "token_revoked",
    )


def test_smtp_down_does_not_change_the_answer(app, auth, closed_smtp_port):
    app.config["MAIL_PORT"] = closed_smtp_port
    caller = auth.register()
    assert_ok(change(caller))
    # The registration's verification mail and the notice.
    assert deliver_due(app) == 2
    auth.login(caller.extra["email"], NEW_PASSWORD)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"oldPassword": PASSWORD},
        {"newPassword": NEW_PASSWORD},
        {"oldPassword": None, "newPassword": NEW_PASSWORD},
        {"oldPassword": 12345678, "newPassword": NEW_PASSWORD},
        {"oldPassword": PASSWORD, "newPassword": ["a", "b"]},
        {"oldPassword": PASSWORD, "newPassword": {"x": 1}},
        {"oldPassword": PASSWORD + "\u0000", "newPassword": NEW_PASSWORD},
        {"oldPassword": PASSWORD, "newPassword": "new\u001bpassphrase"},
        {"oldPassword": PASSWORD, "newPassword": "x" * 5000},
        {"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD, "email": "x@y.z"},
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
    ],
)
def test_change_bad_input_is_400(auth, body, mailbox):
    caller = auth.register()
    response = caller.client.post(PASSWORD_CHANGE, json=body, headers=caller.headers)
    assert_error(response, 400, "validation_error")
    assert mailbox.messages == []


def test_change_non_object_body_is_400(auth):
    caller = auth.register()
    for raw in ("[]", "null", "NaN", '"text"'):
        response = caller.client.post(
            PASSWORD_CHANGE,
            data=raw,
            content_type="application/json",
            headers=caller.headers,
        )
        assert_error(response, 400, "invalid_json")
