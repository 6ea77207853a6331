"""Proof: a revocation reaches a Flask and a FastAPI service within a second.

Each service runs in its own process with the installed `auth_verifier`; the auth
server under gunicorn. Every revocation path is measured from just before the
revoking request to the first 401 of the service (printed in the summary).
"""

import base64
import json
import re
import threading
import time

import pytest

from tests.auth.keys.support import key_pair
from tests.downstream.support import (
    ALGORITHM,
    start_downstream,
    token_of,
    wait_for_refusal,
)

pytestmark = pytest.mark.live_server
BOUND = 1.0


def refused_everywhere(services, token, revoke, what, figures):
    """Revoke (a callable), then the seconds each service took to refuse `token`."""
    for service in services:
        assert service.status_of(token) == 200, service.log()[-2000:]
    delays = {}

    def watch(service):
        delays[service.name] = wait_for_refusal(service, token) + head_start

    began = time.monotonic()
    revoke()
    head_start = time.monotonic() - began
    watchers = [threading.Thread(target=watch, args=(s,)) for s in services]
    for watcher in watchers:
        watcher.start()
    for watcher in watchers:
        watcher.join(10)
    for service in services:
        figures.append((what, service.name, delays[service.name]))
        assert delays[service.name] < BOUND, (what, delays)
        assert service.reason_of(token) == "revoked"
    return delays


def test_logout(auth_server, services, figures):
    _, tokens = auth_server.register()
    token = tokens["accessToken"]

    def logout():
        assert auth_server.post("/api/v1/auth/logout", token).status_code == 200

    refused_everywhere(services, token, logout, "logout", figures)


def test_logout_all_ends_every_session(auth_server, services, figures):
    email, first = auth_server.register()
    second = auth_server.login(email)

    def logout_all():
        answer = auth_server.post("/api/v1/auth/logout-all", first["accessToken"])
        assert answer.status_code == 200

    refused_everywhere(
        services, second["accessToken"], logout_all, "logout-all", figures
    )
    for service in services:
        assert service.status_of(first["accessToken"]) == 401


def test_password_reset(auth_server, services, figures, smtp_server):
    email, tokens = auth_server.register()
    answer = auth_server.post("/api/v1/auth/password/reset", json={"email": email})
    assert answer.status_code == 202
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with smtp_server.sink.lock:
            # The registration's verification mail comes first: take the reset.
            mails = [
                m
                for m in smtp_server.sink.received
                if email in m.rcpt_tos and "/reset-password?token=" in m.text
            ]
        if mails:
            break
        time.sleep(0.05)
    [mail] = mails
    link = mail.link("http://app.example/reset-password?token=")

    def reset():
        answer = auth_server.post(
            "/api/v1/auth/password/reset/confirm",
            json={"token": token_of(link), "newPassword": "a brand new passphrase"},
        )
        assert answer.status_code == 200, answer.text

    refused_everywhere(
        services, tokens["accessToken"], reset, "password reset", figures
    )


def test_refresh_token_reuse(auth_server, services, figures):
    _, tokens = auth_server.register()
    rotated = auth_server.post(
        "/api/v1/auth/refresh-token", json={"refreshToken": tokens["refreshToken"]}
    )
    assert rotated.status_code == 200
    current = rotated.json()["data"]["accessToken"]

    def replay():
        answer = auth_server.post(
            "/api/v1/auth/refresh-token", json={"refreshToken": tokens["refreshToken"]}
        )
        assert answer.status_code == 401

    refused_everywhere(services, current, replay, "refresh reuse", figures)


@pytest.fixture(scope="module")
def admin_token(auth_server):
    email, _ = auth_server.register()
    auth_server.flask("users", "promote", email)
    return auth_server.login(email)["accessToken"]


def test_admin_deactivation(auth_server, services, figures, admin_token):
    _, tokens = auth_server.register()
    user_id = tokens["user"]["id"]

    def deactivate():
        answer = auth_server.post(
            f"/api/v1/admin/users/{user_id}/deactivate", admin_token
        )
        assert answer.status_code == 200, answer.text

    refused_everywhere(
        services, tokens["accessToken"], deactivate, "admin deactivation", figures
    )


def test_a_restart_with_a_new_key_is_survived_and_followed(
    auth_server, services, figures
):
    _, old = auth_server.register()
    before = [service.state()["feed_cursor"] for service in services]
    auth_server.kill()
    # Down: the last good state still answers, within the staleness bound.
    for service in services:
        assert service.status_of(old["accessToken"]) == 200
    # Back with a rotated key: the new one signs, the previous one still verifies.
    auth_server.start(
        JWT_PRIVATE_KEY=key_pair(ALGORITHM, 1)[0],
        JWT_PREVIOUS_PUBLIC_KEYS=key_pair(ALGORITHM, 0)[1],
    )
    wait_until_synced(services)
    assert [service.state()["feed_cursor"] for service in services] == before
    _, new = auth_server.register()
    assert kid_of(new["accessToken"]) != kid_of(old["accessToken"])
    for service in services:
        assert service.status_of(old["accessToken"]) == 200  # the previous key
        assert service.status_of(new["accessToken"]) == 200  # fetched for its kid

    def logout(token):
        def revoke():
            answer = auth_server.post("/api/v1/auth/logout", token)
            assert answer.status_code == 200

        return revoke

    # The feed is now signed with the new key, and still trusted.
    refused_everywhere(
        services, new["accessToken"], logout(new["accessToken"]), "after restart",
        figures,
    )  # fmt: skip
    refused_everywhere(
        services, old["accessToken"], logout(old["accessToken"]), "after rotation",
        figures,
    )  # fmt: skip


def wait_until_synced(services, timeout=10):
    deadline = time.monotonic() + timeout
    for service in services:
        while service.state()["feed_failures"] or service.state()["feed_stale"]:
            assert time.monotonic() < deadline, (service.state(), service.log()[-3000:])
            time.sleep(0.05)


def kid_of(token):
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))[
        "kid"
    ]


def test_a_feed_outage_fails_closed_or_open_as_chosen(auth_server, tmp_path):
    closed = start_downstream("flask", tmp_path, auth_server.url, MAX_STALENESS=2)
    opened = start_downstream(
        "fastapi", tmp_path, auth_server.url, MAX_STALENESS=2, FAIL_OPEN="true"
    )
    try:
        _, tokens = auth_server.register()
        token = tokens["accessToken"]
        assert closed.status_of(token) == opened.status_of(token) == 200
        auth_server.pause()
        try:
            time.sleep(3)
            assert closed.status_of(token) == 401
            assert closed.reason_of(token) == "feed_stale"
            assert closed.state()["feed_stale"] is True
            assert opened.status_of(token) == 200
            assert opened.state()["feed_stale"] is True
        finally:
            auth_server.resume()
        wait_until_synced([closed, opened])
        assert closed.status_of(token) == opened.status_of(token) == 200
        for service in (closed, opened):
            assert re.search(r"revocation feed stale", service.log()), service.log()
            assert "revocation feed current again" in service.log()
    finally:
        closed.stop()
        opened.stop()
