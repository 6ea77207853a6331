"""Rate limits through HTTP: 429 after the configured count, per IP and per email."""

import logging
import socket
import time

import pytest

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD
from tests.urls import LOGIN, ME, PASSWORD_RESET, REFRESH, REGISTER

DEAD_REDIS = "redis://127.0.0.1:1"
MANY = "1000 per minute"

pytestmark = pytest.mark.ratelimit


def assert_limited(response, limit):
    """A 429 envelope with an integer Retry-After and the X-RateLimit headers."""
    body = response.get_json()
    assert response.status_code == 429, body
    assert body["success"] is False
    assert body["code"] == "rate_limited"
    assert body["error"]
    assert response.headers["Retry-After"].isdigit()
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"]


def from_ip(ip):
    return {"REMOTE_ADDR": ip}


def login(client, email, ip="192.0.2.1", password="wrong password", **kwargs):
    return client.post(
        LOGIN,
        json={"email": email, "password": password},
        environ_base=from_ip(ip),
        **kwargs,
    )


def reset(client, email, ip="192.0.2.1"):
    return client.post(PASSWORD_RESET, json={"email": email}, environ_base=from_ip(ip))


@pytest.fixture
def reset_route(app):
    if PASSWORD_RESET not in {rule.rule for rule in app.url_map.iter_rules()}:
        pytest.skip("POST /api/v1/auth/password/reset does not exist yet")


# Login, per client IP


@pytest.mark.config(RATELIMIT_LOGIN="3 per minute", RATELIMIT_LOGIN_ACCOUNT=MANY)
def test_login_per_ip_is_429_after_the_limit(client):
    for number in range(3):
        assert login(client, f"user{number}@example.com").status_code == 401
    assert_limited(login(client, "other@example.com"), 3)
    # Another client IP has its own count.
    assert login(client, "other@example.com", ip="192.0.2.2").status_code == 401


@pytest.mark.config(RATELIMIT_LOGIN="3 per minute", RATELIMIT_LOGIN_ACCOUNT=MANY)
def test_login_limit_counts_successful_logins_too(client, make_user):
    make_user(email="ada@example.com")
    for _ in range(3):
        assert login(client, "ada@example.com", password=PASSWORD).status_code == 200
    assert_limited(login(client, "ada@example.com", password=PASSWORD), 3)


@pytest.mark.config(RATELIMIT_LOGIN="2 per minute", RATELIMIT_LOGIN_ACCOUNT=MANY)
def test_login_malformed_bodies_count_per_ip_and_keep_their_4xx(client):
    headers = {"Content-Type": "application/json"}
    environ = from_ip("192.0.2.9")
    assert (
        client.post(LOGIN, data="[1]", headers=headers, environ_base=environ)
    ).get_json()["code"] == "invalid_json"
    response = client.post(LOGIN, data="x", environ_base=environ)
    assert response.status_code == 415
    assert_limited(client.post(LOGIN, json={}, environ_base=environ), 2)


@pytest.mark.config(
    RATELIMIT_LOGIN="5 per minute", RATELIMIT_LOGIN_ACCOUNT=MANY, MAX_CONTENT_LENGTH=64
)
def test_login_oversized_body_is_still_413(client):
    response = client.post(
        LOGIN, json={"email": "a@example.com", "password": "x" * 200}
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


# Login, per account email


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="3 per minute")
def test_login_per_email_is_429_from_any_ip(client, make_user):
    make_user(email="ada@example.com")
    for number in range(3):
        response = login(client, "ada@example.com", ip=f"198.51.100.{number}")
        assert response.status_code == 401
    # Same email, fresh IP: still limited, even with the right password.
    response = login(client, "ada@example.com", ip="203.0.113.7", password=PASSWORD)
    assert_limited(response, 3)
    # Another account from the same IPs is not.
    assert login(client, "bob@example.com", ip="198.51.100.0").status_code == 401


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="3 per minute")
def test_login_per_email_counts_the_normalised_email(client):
    for variant in ("Ghost@Example.com", "  ghost@example.com", "GHOST@EXAMPLE.COM "):
        assert login(client, variant, ip="198.51.100.1").status_code == 401
    assert_limited(login(client, "ghost@example.com", ip="198.51.100.2"), 3)


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="2 per minute")
def test_login_unknown_email_is_limited_like_a_known_one(client, make_user):
    make_user(email="known@example.com")
    for email in ("known@example.com", "nobody@example.com"):
        for number in range(2):
            assert login(client, email, ip=f"198.51.100.{number}").status_code == 401
        assert_limited(login(client, email, ip="198.51.100.99"), 2)


@pytest.mark.config(RATELIMIT_LOGIN=MANY, RATELIMIT_LOGIN_ACCOUNT="1 per minute")
def test_rate_limited_event_names_the_limit_never_the_email(client, caplog):
    caplog.set_level(logging.INFO)
    login(client, "secret.person@example.com")
    login(client, "secret.person@example.com")
    events = [r for r in caplog.records if getattr(r, "event", "") == "rate_limited"]
    assert len(events) == 1
    fields = events[0].fields
    assert fields["endpoint"] == "auth.login"
    assert fields["limit"] == "1 per 1 minute"
    assert fields["per"] == "account"
    assert fields["account"] and "@" not in fields["account"]
    for record in caplog.records:
        assert "secret.person" not in record.getMessage()
        assert "secret.person" not in str(getattr(record, "fields", ""))


# Register, refresh


@pytest.mark.config(RATELIMIT_REGISTER="3 per minute")
def test_register_per_ip_is_429_after_the_limit(client):
    def register(number, ip="192.0.2.1"):
        body = {
            "name": "Ada",
            "email": f"ada{number}@example.com",
            "password": PASSWORD,
        }
        return client.post(REGISTER, json=body, environ_base=from_ip(ip))

    for number in range(3):
        assert register(number).status_code == 201
    assert_limited(register(3), 3)
    assert register(4, ip="192.0.2.2").status_code == 201


@pytest.mark.config(RATELIMIT_REFRESH="3 per minute")
def test_refresh_per_ip_is_429_after_the_limit(auth):
    caller = auth.register(mode="bearer")
    token = caller.refresh_token
    for _ in range(3):
        response = caller.client.post(
            REFRESH, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.get_json()
        token = response.get_json()["data"]["refreshToken"]
    response = caller.client.post(REFRESH, headers={"Authorization": f"Bearer {token}"})
    assert_limited(response, 3)
    # The limit answered before the token was looked at: it is still the current one.
    response = caller.client.post(
        REFRESH,
        headers={"Authorization": f"Bearer {token}"},
        environ_base=from_ip("192.0.2.50"),
    )
    assert response.status_code == 200, response.get_json()


@pytest.mark.config(RATELIMIT_REFRESH="2 per minute")
def test_refresh_limit_counts_refused_tokens_too(client):
    for _ in range(2):
        response = client.post(REFRESH, headers={"Authorization": "Bearer nonsense"})
        assert response.status_code == 401
    assert_limited(client.post(REFRESH, headers={"Authorization": "Bearer x"}), 2)


# Password reset


@pytest.mark.config(RATELIMIT_PASSWORD_RESET="2 per minute")
def test_reset_per_email_is_429_from_any_ip(client, reset_route, make_user):
    make_user(email="ada@example.com")
    for email in ("ada@example.com", "nobody@example.com"):
        for number in range(2):
            response = reset(client, email, ip=f"198.51.100.{number}")
            assert response.status_code == 202, response.get_json()
        assert_limited(reset(client, f" {email.upper()}", ip="203.0.113.1"), 2)


@pytest.mark.config(RATELIMIT_PASSWORD_RESET_IP="3 per minute")
def test_reset_per_ip_is_429_after_the_limit(client, reset_route):
    for number in range(3):
        assert reset(client, f"user{number}@example.com").status_code == 202
    assert_limited(reset(client, "other@example.com"), 3)
    assert reset(client, "other@example.com", ip="192.0.2.2").status_code == 202


# Client IP behind proxies


@pytest.mark.config(
    RATELIMIT_LOGIN="2 per minute", RATELIMIT_LOGIN_ACCOUNT=MANY, TRUSTED_PROXY_COUNT=0
)
def test_x_forwarded_for_is_ignored_without_trusted_proxies(client):
    for number in range(2):
        headers = {"X-Forwarded-For": f"203.0.113.{number}"}
        assert login(client, "a@example.com", headers=headers).status_code == 401
    headers = {"X-Forwarded-For": "203.0.113.99"}
    assert_limited(login(client, "a@example.com", headers=headers), 2)


@pytest.mark.config(
    RATELIMIT_LOGIN="2 per minute", RATELIMIT_LOGIN_ACCOUNT=MANY, TRUSTED_PROXY_COUNT=1
)
def test_x_forwarded_for_is_honoured_with_one_trusted_proxy(client):
    # One proxy (10.0.0.1) in front: the client is the last X-Forwarded-For entry,
    # whatever the client itself put before it.
    for number in range(4):
        headers = {"X-Forwarded-For": f"6.6.6.6, 203.0.113.{number}"}
        response = login(client, "a@example.com", ip="10.0.0.1", headers=headers)
        assert response.status_code == 401
    for number in range(2):
        headers = {"X-Forwarded-For": f"198.51.100.{number}, 203.0.113.50"}
        response = login(client, "a@example.com", ip="10.0.0.1", headers=headers)
        assert response.status_code == 401
    headers = {"X-Forwarded-For": "203.0.113.50"}
    assert_limited(login(client, "a@example.com", ip="10.0.0.1", headers=headers), 2)


@pytest.mark.config(RATELIMIT_LOGIN="2 per minute", RATELIMIT_LOGIN_ACCOUNT=MANY)
def test_ipv6_clients_are_counted_per_64_prefix(client):
    assert login(client, "a@example.com", ip="2001:db8:1:2::1").status_code == 401
    assert login(client, "a@example.com", ip="2001:db8:1:2::ffff").status_code == 401
    assert_limited(login(client, "a@example.com", ip="2001:db8:1:2:abcd::1"), 2)
    assert login(client, "a@example.com", ip="2001:db8:1:3::1").status_code == 401


# Storage


def outage_lines(caplog):
    """The outage's log lines (at most one: one per kind per 10 s, per process)."""
    assert all(record.exc_info is None for record in caplog.records)
    return [
        record
        for record in caplog.records
        if record.getMessage() == "dependency unavailable"
        and record.fields["kind"] == "rate_limit_storage"
    ]


@pytest.mark.config(
    RATELIMIT_STORAGE_URI=DEAD_REDIS,
    RATELIMIT_LOGIN="3 per minute",
    RATELIMIT_LOGIN_ACCOUNT=MANY,
    SERVER_WORKERS=1,
)
def test_dead_redis_falls_back_to_memory_limits(client, caplog):
    started = time.monotonic()
    for number in range(3):
        assert login(client, f"user{number}@example.com").status_code == 401
    assert_limited(login(client, "other@example.com"), 3)
    assert time.monotonic() - started < 10
    assert len(outage_lines(caplog)) <= 1  # no traceback per request


@pytest.mark.config(
    RATELIMIT_STORAGE_URI=DEAD_REDIS,
    RATELIMIT_LOGIN="5 per minute",
    RATELIMIT_LOGIN_ACCOUNT=MANY,
    SERVER_WORKERS=2,
)
def test_memory_fallback_allows_each_worker_its_share(client):
    # 5 between 2 workers: 2 each, so both together never pass more than 5.
    for number in range(2):
        assert login(client, f"user{number}@example.com").status_code == 401
    assert_limited(login(client, "other@example.com"), 5)


@pytest.mark.config(
    RATELIMIT_STORAGE_URI=DEAD_REDIS,
    RATELIMIT_LOGIN="6 per minute",
    RATELIMIT_LOGIN_ACCOUNT=MANY,
    SERVER_WORKERS=1,
    RATELIMIT_FALLBACK_HOSTS=3,
)
def test_memory_fallback_shares_each_limit_among_hosts(client):
    for number in range(2):
        assert login(client, f"user{number}@example.com").status_code == 401
    assert_limited(login(client, "other@example.com"), 6)


def test_hung_redis_costs_at_most_the_storage_timeout(database_url, caplog):
    # A Redis that accepts connections and never answers (e.g. a stuck server).
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        app = create_app(
            {
                "APP_ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": database_url,
                "RATELIMIT_ENABLED": True,
                "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}",
                "RATELIMIT_STORAGE_TIMEOUT": 0.3,
                "RATELIMIT_LOGIN": "2 per minute",
                "SERVER_WORKERS": 1,
            }
        )
        with app.app_context():
            db.create_all()
        client = app.test_client()
        started = time.monotonic()
        assert login(client, "a@example.com").status_code == 401
        assert login(client, "b@example.com").status_code == 401
        assert_limited(login(client, "c@example.com"), 2)
        assert time.monotonic() - started < 3
    assert len(outage_lines(caplog)) <= 1
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.mark.config(
    RATELIMIT_STORAGE_URI=DEAD_REDIS,
    RATELIMIT_REGISTER="1 per minute",
    RATELIMIT_LOGIN="1 per minute",
    SERVER_WORKERS=1,
)
def test_dead_redis_never_gives_a_500(client):
    responses = [
        client.post(REGISTER, json={"name": "A", "email": "a@x.io", "password": "p"}),
        client.post(LOGIN, json={"email": "a@x.io", "password": "p"}),
        client.post(LOGIN, data="{", headers={"Content-Type": "application/json"}),
        client.get(ME),
    ]
    assert [r.status_code for r in responses] == [400, 401, 429, 401]


@pytest.mark.config(RATELIMIT_LOGIN="1 per minute", RATELIMIT_LOGIN_ACCOUNT=MANY)
def test_each_app_gets_fresh_counters(client, database_url):
    assert login(client, "a@example.com").status_code == 401
    assert_limited(login(client, "a@example.com"), 1)
    other = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_LOGIN": "1 per minute",
        }
    )
    assert login(other.test_client(), "a@example.com").status_code == 401


# What is not limited


@pytest.mark.config(RATELIMIT_LOGIN="1 per minute")
def test_other_endpoints_have_no_limits(client, auth):
    caller = auth.register(mode="bearer")
    for _ in range(5):
        response = caller.client.get(ME, headers=caller.headers)
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers
    assert client.get("/nowhere").status_code == 404


@pytest.mark.config(
    RATELIMIT_LOGIN="3 per minute", RATELIMIT_LOGIN_ACCOUNT="1000 per hour"
)
def test_allowed_answers_carry_the_limit_headers_but_no_retry_after(client):
    # Of several limits, the headers of an allowed answer show the shortest window.
    response = login(client, "a@example.com")
    assert response.status_code == 401
    assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Remaining"] == "2"
    assert "Retry-After" not in response.headers


@pytest.mark.config(RATELIMIT_LOGIN="1 per minute")
@pytest.mark.parametrize("settings", [{"RATELIMIT_ENABLED": False}])
def test_ratelimit_enabled_false_turns_every_limit_off(client):
    for _ in range(4):
        assert login(client, "a@example.com").status_code == 401


def test_limits_are_read_from_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("RATELIMIT_LOGIN_ACCOUNT", "2 per minute")
    monkeypatch.setenv("RATELIMIT_ENABLED", "true")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["RATELIMIT_LOGIN_ACCOUNT"] == "2 per minute"
    with app.app_context():
        db.create_all()
    client = app.test_client()
    for number in range(2):
        assert login(client, "a@example.com", ip=f"192.0.2.{number}").status_code == 401
    assert_limited(login(client, "a@example.com", ip="192.0.2.9"), 2)
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.mark.parametrize("rate", ["", "lots", "5 per fortnight"])
def test_a_rate_that_does_not_parse_stops_startup(database_url, rate):
    overrides = {"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url}
    with pytest.raises(ValueError, match="RATELIMIT_REGISTER"):
        create_app({**overrides, "RATELIMIT_REGISTER": rate})
