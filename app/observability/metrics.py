"""Prometheus metrics: request counts and latencies, and the security counters.

Under gunicorn, `PROMETHEUS_MULTIPROC_DIR` is set (gunicorn.conf.py, whose
`on_starting` creates the directory before any worker imports this): each worker
writes its figures to files there and `/metrics` adds them up, whichever worker
answers. Without it (flask run, tests) the figures are this process's own. Set by
hand, the variable must name an existing directory (prometheus_client opens the
metric files as the metrics below are created).
"""

import hmac
import os
import time

from flask import current_app, g, request, request_finished, request_started
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

# prometheus_client reads the same variable when it is imported.
MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")

from app.errors import TokenInvalid, TokenMissing  # noqa: E402
from app.openapi.declare import operation, response  # noqa: E402

# Methods a route can have; anything else is one label value, not one per spelling.
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# Requests that matched no route share one endpoint label (no cardinality explosion).
UNMATCHED = "unmatched"

REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LOGINS = Counter("auth_logins", "Login attempts, by result.", ["result"])
REFRESHES = Counter("auth_refreshes", "Refresh tokens rotated.")
REUSE_DETECTIONS = Counter(
    "auth_refresh_reuse_detections", "Sessions revoked for refresh token reuse."
)
RATE_LIMIT_HITS = Counter("auth_rate_limit_hits", "Requests refused by a rate limit.")
MAILS = Counter("auth_mails", "Mails handed over, by result.", ["result"])


def _on_request_started(sender, **extra):
    g._metrics_started = time.perf_counter()


def _on_request_finished(sender, response, **extra):
    started = g.pop("_metrics_started", None)
    rule = request.url_rule
    endpoint = rule.rule if rule is not None else UNMATCHED
    method = request.method if request.method in KNOWN_METHODS else "OTHER"
    REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(endpoint, method).observe(time.perf_counter() - started)


def exposition():
    """The current figures in Prometheus text format (all workers, when multiproc)."""
    if MULTIPROC_DIR:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@operation(
    tag="operations",
    operation_id="metrics",
    errors={401: ["token_missing", "token_invalid"]},
)
@response(media_type="text/plain")
def metrics_view():
    """Prometheus metrics.

    Prometheus text format: request counts and latencies by route template, and
    the security counters. Absent when `METRICS_ENABLED=false`, and in production
    unless `METRICS_TOKEN` is set; with a token, scrapers send
    `Authorization: Bearer <METRICS_TOKEN>` (else 401).
    """
    check_metrics_token()
    return current_app.response_class(
        exposition(), mimetype=None, content_type=CONTENT_TYPE_LATEST
    )


def metrics_served(config):
    """`/metrics` is served when enabled; in production only behind METRICS_TOKEN.

    Its counters move with what accounts do (mails sent, logins): public, they would
    tell who has an account.
    """
    if not config["METRICS_ENABLED"]:
        return False
    return config["APP_ENV"] != "production" or bool(config["METRICS_TOKEN"])


def check_metrics_token():
    """401 unless `Authorization: Bearer <METRICS_TOKEN>`, when a token is set."""
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        return
    sent = request.headers.get("Authorization", "")
    if not sent:
        raise TokenMissing()
    expected = f"Bearer {token}".encode()
    if not hmac.compare_digest(sent.encode("utf-8", "replace"), expected):
        raise TokenInvalid()


def register_metrics(app):
    """Per-request figures, when `/metrics` is served (see `metrics_served`).

    Signals rather than before/after_request: `request_started` fires before any
    before_request hook (a 429 from the limiter is timed too), `request_finished`
    after every after_request hook, with the final status.
    """
    if not metrics_served(app.config):
        return
    request_started.connect(_on_request_started, app)
    request_finished.connect(_on_request_finished, app)
