"""GET /metrics: Prometheus text, request figures by route template, security counters.

The counters live in the process (as they do in a gunicorn worker), so tests compare
before and after.
"""

import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import events
from tests.conftest import PASSWORD
from tests.helpers import assert_error
from tests.urls import LOGIN, METRICS, REFRESH


def scrape(client):
    """{(sample name, frozenset(labels)): value} from GET /metrics."""
    response = client.get(METRICS)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return parse(response.get_data(as_text=True))


def parse(text):
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_is_prometheus_text(client):
    response = client.get(METRICS)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    text = response.get_data(as_text=True)
    for name in (
        "http_requests_total",
        "http_request_duration_seconds",
        "auth_logins_total",
        "auth_refreshes_total",
        "auth_refresh_reuse_detections_total",
        "auth_rate_limit_hits_total",
        "auth_mails_total",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name


def test_login_refresh_and_reuse_are_counted(client, auth):
    before = scrape(client)
    caller = auth.register(mode="bearer")
    email = caller.extra["email"]
    auth.login(email)
    wrong = client.post(LOGIN, json={"email": email, "password": "not the password"})
    assert_error(wrong, 401, "invalid_credentials")
    unknown = client.post(LOGIN, json={"email": "nobody@example.com", "password": "x"})
    assert_error(unknown, 401, "invalid_credentials")

    first = client.post(REFRESH, headers=caller.refresh_headers)
    assert first.status_code == 200
    # Only the session's one previous token gets grace: two rotations on, it is reuse.
    second = client.post(
        REFRESH,
        headers={"Authorization": f"Bearer {first.get_json()['data']['refreshToken']}"},
    )
    assert second.status_code == 200
    reused = client.post(REFRESH, headers=caller.refresh_headers)
    assert_error(reused, 401, "token_revoked")

    after = scrape(client)
    delta = {
        key: after.get(key, 0.0) - before.get(key, 0.0)
        for key in set(after) | set(before)
    }
    assert value(delta, "auth_logins_total", result="ok") == 1
    assert value(delta, "auth_logins_total", result="failed") == 2
    assert value(delta, "auth_refreshes_total") == 2
    assert value(delta, "auth_refresh_reuse_detections_total") == 1


def test_requests_are_counted_by_route_template_not_raw_path(client, auth):
    caller = auth.register(mode="bearer")
    before = scrape(client)
    for _ in range(3):
        session_id = uuid.uuid4()
        response = client.delete(
            f"/api/v1/auth/sessions/{session_id}", headers=caller.headers
        )
        assert_error(response, 404, "not_found")
    assert_error(client.get(f"/no/such/path/{uuid.uuid4()}"), 404, "not_found")
    assert_error(client.open(LOGIN, method="PROPFIND"), 405, "method_not_allowed")

    response = client.get(METRICS)
    text = response.get_data(as_text=True)
    after = parse(text)
    template = "/api/v1/auth/sessions/<session_id>"
    counted = value(
        after, "http_requests_total", endpoint=template, method="DELETE", status="404"
    ) - value(
        before, "http_requests_total", endpoint=template, method="DELETE", status="404"
    )
    assert counted == 3
    assert (
        value(
            after,
            "http_request_duration_seconds_count",
            endpoint=template,
            method="DELETE",
        )
        >= 3
    )
    assert "/no/such/path" not in text
    assert str(session_id) not in text
    assert (
        value(
            after,
            "http_requests_total",
            endpoint="unmatched",
            method="GET",
            status="404",
        )
        >= 1
    )
    # Unknown methods share one label value.
    assert "PROPFIND" not in text


def test_mail_and_rate_limit_events_are_counted(client):
    before = scrape(client)
    events.emit(events.MAIL_SENT, kind="test")
    events.emit(events.MAIL_SENT, kind="test")
    events.emit(events.MAIL_FAILED, kind="test", reason="test")
    events.emit(events.RATE_LIMITED, endpoint="test", per="ip")
    after = scrape(client)
    assert (
        value(after, "auth_mails_total", result="sent")
        - value(before, "auth_mails_total", result="sent")
        == 2
    )
    assert (
        value(after, "auth_mails_total", result="failed")
        - value(before, "auth_mails_total", result="failed")
        == 1
    )
    assert (
        value(after, "auth_rate_limit_hits_total")
        - value(before, "auth_rate_limit_hits_total")
        == 1
    )


@pytest.mark.ratelimit
@pytest.mark.config(RATELIMIT_LOGIN="2 per minute")
def test_rate_limited_login_is_counted(client, make_user):
    user = make_user()
    before = scrape(client)
    statuses = [
        client.post(LOGIN, json={"email": user.email, "password": PASSWORD}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    after = scrape(client)
    assert (
        value(after, "auth_rate_limit_hits_total")
        - value(before, "auth_rate_limit_hits_total")
        == 1
    )
    assert (
        value(after, "http_requests_total", endpoint=LOGIN, method="POST", status="429")
        - value(
            before, "http_requests_total", endpoint=LOGIN, method="POST", status="429"
        )
        == 1
    )


@pytest.mark.config(METRICS_ENABLED=False)
def test_metrics_can_be_turned_off(client):
    assert_error(client.get(METRICS), 404, "not_found")


@pytest.mark.config(METRICS_TOKEN="scrape-" + "x1y2z3" * 6)
def test_metrics_token_is_required_when_set(client):
    token = "scrape-" + "x1y2z3" * 6
    assert_error(client.get(METRICS), 401, "token_missing")
    wrong = client.get(METRICS, headers={"Authorization": "Bearer nope"})
    assert_error(wrong, 401, "token_invalid")
    odd = client.get(METRICS, headers={"Authorization": "Bearer \u00e9t\u00e9"})
    assert_error(odd, 401, "token_invalid")
    right = client.get(METRICS, headers={"Authorization": f"Bearer {token}"})
    assert right.status_code == 200
    assert right.mimetype == "text/plain"


def test_production_serves_metrics_only_with_a_token():
    from app.observability.metrics import metrics_served

    base = {"METRICS_ENABLED": True, "APP_ENV": "production", "METRICS_TOKEN": None}
    assert metrics_served(base) is False
    assert metrics_served({**base, "METRICS_TOKEN": "t" * 40}) is True
    assert metrics_served({**base, "APP_ENV": "development"}) is True
    assert metrics_served({**base, "METRICS_ENABLED": False, "APP_ENV": "testing"}) is (
        False
    )
