"""Development mock mode: named demo users, the dev endpoints, simulated failures."""

import logging
import secrets
import time

import pytest

from tests.compat.conftest import ALL_PROFILES
from tests.compat.urls import CHIRPY_LOGIN, MOCK_LOGIN, MOCK_ME, MOCK_RESET, MOCK_USERS
from tests.conftest import PASSWORD
from tests.urls import HEALTH, ME

DEMO_PASSWORD = "mock-password-123"
DEMO_EMAILS = {
    f"{name}@example.com" for name in ("alice", "bob", "charlie", "diana", "ethan")
}


@pytest.fixture
def dev_app(app, make_app):
    """A development app with DEV_MOCK on, on the test's database (tables made)."""
    return make_app(
        APP_ENV="development",
        DEV_MOCK=True,
        COMPAT_PROFILES=ALL_PROFILES,
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        BCRYPT_ROUNDS=4,
        RATELIMIT_ENABLED=False,
        MAIL_SENDER_THREAD=False,
    )


@pytest.fixture
def dev_client(dev_app):
    return dev_app.test_client()


def test_the_five_named_demo_users_are_seeded_with_the_documented_password(dev_client):
    listed = dev_client.get(MOCK_USERS)
    assert listed.status_code == 200
    assert {user["email"] for user in listed.json["users"]} == DEMO_EMAILS
    assert listed.json["total"] == 5
    for email in DEMO_EMAILS:
        login = dev_client.post(
            MOCK_LOGIN, json={"email": email, "password": DEMO_PASSWORD}
        )
        assert login.status_code == 200, login.json
    me = dev_client.get(
        MOCK_ME, headers={"Authorization": f"Bearer {login.json['access_token']}"}
    )
    assert me.json["email_verified"] is True


def test_reset_goes_back_to_the_seeded_users(dev_app, dev_client):
    created = dev_client.post(
        "/api/auth/register", json={"email": "temp@example.com", "password": PASSWORD}
    )
    assert created.status_code == 201
    alice = dev_client.post(
        MOCK_LOGIN, json={"email": "alice@example.com", "password": DEMO_PASSWORD}
    ).json
    reset = dev_client.delete(MOCK_RESET)
    assert reset.status_code == 200
    assert reset.json["users"] == 5
    emails = {user["email"] for user in dev_client.get(MOCK_USERS).json["users"]}
    assert emails == DEMO_EMAILS
    # Alice's session went with the reset; her documented password still works.
    headers = {"Authorization": f"Bearer {alice['access_token']}"}
    assert dev_client.get(MOCK_ME, headers=headers).status_code == 401
    again = dev_client.post(
        MOCK_LOGIN, json={"email": "alice@example.com", "password": DEMO_PASSWORD}
    )
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "internal_error"), (503, "unavailable"), (429, "rate_limited")],
)
def test_a_simulated_status_is_answered_in_the_paths_shape(dev_client, status, code):
    headers = {"X-Simulate-Status": str(status)}
    envelope = dev_client.get(ME, headers=headers)
    assert envelope.status_code == status
    assert envelope.json["code"] == code and envelope.json["success"] is False
    chirpy = dev_client.post(CHIRPY_LOGIN, json={}, headers=headers)
    assert chirpy.status_code == status
    assert chirpy.mimetype == "text/plain"
    mock = dev_client.get(MOCK_ME, headers=headers)
    assert mock.json["code"] == code and "detail" in mock.json
    if status != 500:
        assert envelope.headers["Retry-After"] == "1"


def test_a_simulated_failure_writes_nothing(dev_client):
    body = {"email": "never@example.com", "password": PASSWORD}
    refused = dev_client.post(
        "/api/auth/register", json=body, headers={"X-Simulate-Status": "500"}
    )
    assert refused.status_code == 500
    assert dev_client.post("/api/auth/register", json=body).status_code == 201


def test_a_simulated_delay_waits(dev_client):
    started = time.monotonic()
    response = dev_client.get(HEALTH, headers={"X-Simulate-Delay-Ms": "300"})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Simulate-Status": "418"},
        {"X-Simulate-Status": "five hundred"},
        {"X-Simulate-Status": "٥٠٠"},
        {"X-Simulate-Delay-Ms": "5001"},
        {"X-Simulate-Delay-Ms": "-1"},
        {"X-Simulate-Delay-Ms": "1e3"},
    ],
)
def test_bad_simulation_values_are_400(dev_client, headers):
    response = dev_client.get(ME, headers=headers)
    assert response.status_code == 400
    assert response.json["code"] == "validation_error"
    assert set(response.json["details"]) == set(headers)


def test_outside_the_dev_mock_the_headers_are_ignored_and_logged_once(
    app, client, caplog
):
    caplog.set_level(logging.WARNING, logger="app.dev_mock")
    for _ in range(3):
        response = client.get(
            HEALTH, headers={"X-Simulate-Status": "500", "X-Simulate-Delay-Ms": "5000"}
        )
        assert response.status_code == 200
    ignored = [r for r in caplog.records if "ignored" in r.getMessage()]
    assert len(ignored) == 1


def test_dev_mock_does_nothing_in_testing(make_app):
    testing = make_app(DEV_MOCK=True, COMPAT_PROFILES=ALL_PROFILES)
    client = testing.test_client()
    assert client.get(HEALTH, headers={"X-Simulate-Status": "503"}).status_code == 200
    assert client.get(MOCK_USERS).status_code == 404


def test_seed_demo_seeds_the_named_users_with_dev_mock(app, runner):
    app.config["DEV_MOCK"] = True
    result = runner.invoke(args=["users", "seed-demo", "--allow-testing"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "@example.com  " in line]
    assert {line.split()[0] for line in lines} == DEMO_EMAILS
    assert {line.split()[1] for line in lines} == {DEMO_PASSWORD}
