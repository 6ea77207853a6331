"""Arbitrary bytes in every header the server reads, on every endpoint: never a 5xx."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

READ_HEADERS = (
    "Authorization",
    "X-CSRF-TOKEN",
    "X-Auth-Mode",
    "X-Request-ID",
    "Cookie",
    "Content-Type",
    "Origin",
    "X-Forwarded-For",
)
# Kept out: a real server refuses these in a header line before the app sees it.
LINE_BREAKS = {ord("\r"), ord("\n"), 0}
HEADER_VALUE = st.binary(max_size=200).map(
    lambda raw: bytes(b for b in raw if b not in LINE_BREAKS).decode("latin-1")
)
# Values that reach deeper code paths than random bytes do.
MEANINGFUL = st.sampled_from(
    [
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJub25lIn0.e30.",
        "bearer",
        "cookie",
        "application/json",
        "application/json; charset=latin-1",
        "refresh_token=a.b.c; csrf_refresh_token=x",
        "https://evil.example",
        "203.0.113.7, 198.51.100.1",
        "::1, 999.1.1.1",
    ]
)


def endpoints(app):
    found = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", str(uuid.uuid4()))
            path = path.replace(f"<path:{argument}>", "x")
        for method in sorted(rule.methods - {"HEAD"}):
            found.append((method, path))
    return sorted(found)


@pytest.mark.config(TRUSTED_PROXY_COUNT=1, CORS_ORIGINS=["http://localhost:3000"])
@pytest.mark.ratelimit
def test_no_header_value_reaches_a_5xx(app):
    client = app.test_client()
    routes = endpoints(app)

    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        route=st.sampled_from(routes),
        headers=st.dictionaries(
            st.sampled_from(READ_HEADERS), HEADER_VALUE | MEANINGFUL, max_size=8
        ),
        body=st.sampled_from([None, b"{}", b'{"email": "a@example.com"}', b"\xff"]),
    )
    def probe(route, headers, body):
        method, path = route
        response = client.open(path, method=method, headers=headers, data=body)
        assert response.status_code < 500, (method, path, headers, response.data)

    probe()
