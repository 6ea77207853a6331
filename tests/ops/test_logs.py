"""Logs: a JSON line per request and per security event, no secret, no forged line."""

import json
import logging
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from app.logs import JsonFormatter
from tests.helpers import assert_error, assert_ok
from tests.urls import (
    AUTH,
    LOGIN,
    LOGOUT,
    ME,
    PASSWORD_CHANGE,
    PASSWORD_RESET,
    PASSWORD_RESET_CONFIRM,
    REFRESH,
    REGISTER,
)

BEARER = {"X-Auth-Mode": "bearer"}
FRONTEND_URL = "https://app.example.test"
RESET_LINK = f"{FRONTEND_URL}/reset-password?token="

pytestmark = pytest.mark.config(FRONTEND_URL=FRONTEND_URL)


@pytest.fixture
def settings(mail_settings):
    # Mail over SMTP (the test's own server): development's mail-to-log is off.
    return mail_settings


def canary(name):
    return f"canary-{name}-{uuid.uuid4().hex}"


def stdout_lines(capsys):
    captured = capsys.readouterr()
    return [line for line in (captured.out + captured.err).splitlines() if line]


def everything_logged(caplog, capsys):
    """Each record raw (message, args, extras) and formatted, and all of stdout."""
    formatter = JsonFormatter()
    texts = []
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.append(repr(vars(record)))
        texts.append(formatter.format(record))
    texts.extend(stdout_lines(capsys))
    return "\n".join(texts)


class Secrets:
    """Every secret the test sends or receives, to grep the logs for."""

    def __init__(self):
        self.values = set()

    def add(self, *values):
        self.values.update(value for value in values if value)

    def from_response(self, response):
        data = (response.get_json() or {}).get("data") or {}
        self.add(data.get("accessToken"), data.get("refreshToken"))
        self.add(response.headers.get("Authorization"))
        for header in response.headers.getlist("Set-Cookie"):
            self.add(header.split(";", 1)[0].partition("=")[2])
        return data


def token_of(link):
    [token] = parse_qs(urlsplit(link).query)["token"]
    return token


def reset_token_for(mailbox, email, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in mailbox.to(email):
            links = mail.links(RESET_LINK)
            if links:
                return token_of(links[0])
        time.sleep(0.02)
    pytest.fail("no reset mail arrived")


def mailed_tokens(mailbox):
    return [
        token_of(link)
        for mail in mailbox.messages
        for link in mail.links(FRONTEND_URL)
        if "token=" in link
    ]


def cookie(client, name, path):
    found = client.get_cookie(name, path=path)
    return found.value if found else None


def test_no_password_token_or_cookie_reaches_a_log_line(
    app, client, mailbox, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    secrets = Secrets()
    password, wrong, new_password = canary("pw"), canary("wrong"), canary("new")
    bogus_token, bogus_cookie = canary("token"), canary("cookie")
    secrets.add(password, wrong, new_password, bogus_token, bogus_cookie)
    email = f"canary-{uuid.uuid4().hex[:8]}@example.com"
    browser_email = f"browser-{uuid.uuid4().hex[:8]}@example.com"

    # Register (bearer and cookie), log in (wrong, bearer, cookie).
    account = {"name": "Canary", "email": email, "password": password}
    registered = secrets.from_response(
        client.post(REGISTER, json=account, headers=BEARER)
    )
    browser = app.test_client()
    secrets.from_response(
        browser.post(REGISTER, json={**account, "email": browser_email})
    )
    assert_error(
        client.post(LOGIN, json={"email": email, "password": wrong}),
        401,
        "invalid_credentials",
    )
    credentials = {"email": email, "password": password}
    logged_in = secrets.from_response(
        client.post(LOGIN, json=credentials, headers=BEARER)
    )
    secrets.from_response(
        browser.post(LOGIN, json={"email": browser_email, "password": password})
    )

    # Refresh: header, body, cookie with CSRF; then reuse of a rotated token.
    first = secrets.from_response(
        client.post(
            REFRESH, headers={"Authorization": f"Bearer {logged_in['refreshToken']}"}
        )
    )
    second = secrets.from_response(
        client.post(REFRESH, json={"refreshToken": first["refreshToken"]})
    )
    csrf = cookie(browser, "csrf_refresh_token", "/")
    secrets.add(csrf, cookie(browser, "refresh_token", AUTH))
    assert_ok(
        browser.post(REFRESH, headers={"X-CSRF-TOKEN": csrf}),
    )
    secrets.add(cookie(browser, "refresh_token", AUTH))
    assert_error(
        client.post(
            REFRESH, headers={"Authorization": f"Bearer {logged_in['refreshToken']}"}
        ),
        401,
        "token_revoked",
    )

    # Authenticated calls, and junk credentials that must not be echoed into logs.
    access = registered["accessToken"]
    assert_ok(client.get(ME, headers={"Authorization": f"Bearer {access}"}))
    assert_error(
        client.get(ME, headers={"Authorization": f"Bearer {bogus_token}"}),
        401,
        "token_invalid",
    )
    client.set_cookie("refresh_token", bogus_cookie, path=AUTH)
    refused = client.post(REFRESH, headers={"X-CSRF-TOKEN": bogus_token})
    assert refused.status_code == 401
    client.delete_cookie("refresh_token", path=AUTH)
    assert_error(client.get(f"{ME}?token={bogus_token}"), 401, "token_missing")

    # Password change, reset request and confirm (token from the mail), log out.
    changed = client.post(
        PASSWORD_CHANGE,
        json={"oldPassword": password, "newPassword": new_password + "-c"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert_ok(changed)
    secrets.add(new_password + "-c")
    assert_ok(client.post(PASSWORD_RESET, json={"email": email}), 202)
    reset_token = reset_token_for(mailbox, email)
    # Every mailed token (reset, and verification if registration sends one).
    secrets.add(*mailed_tokens(mailbox))
    assert_ok(
        client.post(
            PASSWORD_RESET_CONFIRM,
            json={"token": reset_token, "newPassword": new_password},
        )
    )
    assert_error(
        client.post(
            PASSWORD_RESET_CONFIRM, json={"token": reset_token, "newPassword": wrong}
        ),
        401,
        "token_invalid",
    )
    final = secrets.from_response(
        client.post(
            LOGIN, json={"email": email, "password": new_password}, headers=BEARER
        )
    )
    assert_ok(
        client.post(
            LOGOUT, headers={"Authorization": f"Bearer {final['refreshToken']}"}
        )
    )
    del second

    logged = everything_logged(caplog, capsys)
    assert "login_ok" in logged and "reuse_detected" in logged  # the logs did flow
    for secret in secrets.values:
        assert secret not in logged, f"a secret reached the logs: {secret[:24]}..."


def test_each_request_is_one_json_line(client, auth, caplog, capsys):
    caplog.set_level(logging.INFO)
    caller = auth.register(mode="bearer")
    capsys.readouterr()
    response = client.get(ME, headers={**caller.headers, "X-Request-ID": "req-42"})
    assert response.status_code == 200
    lines = [json.loads(line) for line in stdout_lines(capsys)]
    [line] = [entry for entry in lines if entry["logger"] == "app.request"]
    assert line["request_id"] == "req-42" == response.headers["X-Request-ID"]
    assert line["method"] == "GET"
    assert line["path"] == ME
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert line["user_id"] == caller.user["id"]
    assert line["level"] == "INFO"
    assert line["ts"].endswith("Z")


def test_security_events_are_json_lines_with_the_request_id(client, make_user, capsys):
    user = make_user()
    capsys.readouterr()
    response = client.post(
        LOGIN,
        json={"email": user.email, "password": "wrong password"},
        headers={"X-Request-ID": "login-1"},
    )
    assert_error(response, 401, "invalid_credentials")
    lines = [json.loads(line) for line in stdout_lines(capsys)]
    [event] = [entry for entry in lines if entry["logger"] == "app.security"]
    assert event["event"] == "login_failed"
    assert event["reason"] == "wrong_password"
    assert event["user_id"] == str(user.id)
    assert event["request_id"] == "login-1"
    [request_line] = [entry for entry in lines if entry["logger"] == "app.request"]
    assert request_line["status"] == 401
    assert request_line["user_id"] is None


def test_cr_lf_in_path_or_user_agent_cannot_forge_a_line(client, capsys):
    forged = '{"level": "INFO", "logger": "app.security", "event": "login_ok"}'
    capsys.readouterr()
    response = client.get(
        "/api/v1/nope%0d%0a" + forged.replace(" ", "%20"),
        environ_overrides={"HTTP_USER_AGENT": f"curl\r\n{forged}\n"},
    )
    assert response.status_code == 404
    lines = stdout_lines(capsys)
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert [entry["logger"] for entry in entries] == ["app.request"]
    [entry] = entries
    assert entry["path"].startswith("/api/v1/nope\r\n{")
    assert entry["user_agent"].startswith("curl\r\n{")
    assert "event" not in entry or entry["event"] == "request"


def test_formatter_masks_jwts_and_secret_fields():
    record = logging.makeLogRecord(
        {
            "name": "app.test",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "got %s",
            "args": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",),
            "fields": {"password": "hunter2", "refresh_token": "abc", "user_id": "u1"},
        }
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "got [redacted]"
    assert entry["password"] == entry["refresh_token"] == "[redacted]"
    assert entry["user_id"] == "u1"
