"""What nginx does in front of the hosts: TLS only, spreading, forged chains, limits,
oversized requests, internal /metrics, revocation and rotation across hosts."""

import concurrent.futures
import re

import httpx
import jwt

from tests.cluster import network
from tests.cluster.clients import BEARER, BearerSession, new_email, register
from tests.cluster.conftest import ORIGIN, PASSWORD, SITE, SITE_ADDRESS
from tests.urls import HEALTH, JWKS, LOGIN, LOGOUT, ME, METRICS, REFRESH, REGISTER


def served_by(responses):
    return {response.headers.get("X-Served-By") for response in responses}


def test_requests_spread_over_both_hosts(cluster):
    with cluster.client() as client:
        responses = [client.get(HEALTH) for _ in range(12)]
    assert {r.status_code for r in responses} == {200}
    assert served_by(responses) == {"host-a", "host-b"}
    # Answers over https carry HSTS; and the upstream log names both hosts too.
    assert "max-age=" in responses[0].headers["Strict-Transport-Security"]
    upstreams = set(re.findall(r"upstream=(\S+)", cluster.access_log.read_text()))
    assert {"10.77.0.11:8000", "10.77.0.12:8000"} <= upstreams


def test_http2_over_tls(cluster):
    import ssl

    context = ssl.create_default_context(cafile=str(cluster.ca))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        __import__("socket").create_connection((SITE_ADDRESS, 443), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=SITE) as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.version() in {"TLSv1.2", "TLSv1.3"}


def test_plain_http_only_redirects_and_sets_no_cookie(cluster):
    email = new_email()
    with httpx.Client(base_url=f"http://{SITE}", timeout=10) as plain:
        for method, path, body in (
            ("GET", ME, None),
            ("POST", REGISTER, {"name": "Ada", "email": email, "password": PASSWORD}),
            ("POST", LOGIN, {"email": email, "password": PASSWORD}),
            ("GET", "/", None),
        ):
            response = plain.request(method, path, json=body)
            assert response.status_code == 301, response.text
            assert response.headers["Location"] == f"https://{SITE}{path}"
            assert "set-cookie" not in response.headers
    # Nothing reached the app: the account was never made.
    with cluster.client() as client:
        response = client.post(LOGIN, json={"email": email, "password": PASSWORD})
        assert response.status_code == 401


def test_cookies_are_secure_strict_and_httponly(cluster):
    with cluster.client() as client:
        email, _ = register(client)
        response = client.post(LOGIN, json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        cookies = response.headers.get_list("set-cookie")
        assert cookies
        for cookie in cookies:
            assert "; Secure" in cookie, cookie
            assert "SameSite=Strict" in cookie, cookie
        refresh = [c for c in cookies if c.startswith("refresh_token=")]
        assert refresh and "HttpOnly" in refresh[0]


def test_a_session_revoked_through_one_host_is_refused_through_the_other(cluster):
    with cluster.client() as client:
        email, _ = register(client)
        session = BearerSession.login(client, email)
        answers = [session.me() for _ in range(6)]
        assert {r.status_code for r in answers} == {200}
        assert served_by(answers) == {"host-a", "host-b"}
        logout = client.post(
            LOGOUT,
            headers={
                **BEARER,
                "Authorization": f"Bearer {session.tokens['refreshToken']}",
            },
        )
        assert logout.status_code == 200
        revoked_by = logout.headers["X-Served-By"]
        # At once, through whichever host: the next answers come from both.
        answers = [session.me() for _ in range(6)]
        assert {r.status_code for r in answers} == {401}
        assert {r.json()["code"] for r in answers} == {"token_revoked"}
        assert served_by(answers) == {"host-a", "host-b"}
        assert revoked_by in {"host-a", "host-b"}


def test_sixteen_parallel_refreshes_over_both_hosts_rotate_once(cluster):
    with cluster.client() as client:
        email, tokens = register(client)
    refresh_token = tokens["refreshToken"]

    def refresh(index):
        # Each its own client (own connection, own address): nginx spreads them.
        with cluster.client(source=f"127.0.79.{index + 1}") as own:
            return own.post(
                REFRESH, headers={**BEARER, "Authorization": f"Bearer {refresh_token}"}
            )

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(refresh, range(16)))
    assert [r.status_code for r in responses] == [200] * 16, [
        r.text for r in responses if r.status_code != 200
    ]
    assert served_by(responses) == {"host-a", "host-b"}
    # One rotation: every answer hands out the same successor (one jti), and it
    # differs from the token presented.
    successors = {jti(r.json()["data"]["refreshToken"]) for r in responses}
    assert len(successors) == 1
    assert successors != {jti(refresh_token)}
    with cluster.client() as client:
        session = BearerSession(client, responses[0].json()["data"])
        assert session.refresh().status_code == 200
        assert session.me().status_code == 200


def jti(token):
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def failed_login(client, email):
    return client.post(LOGIN, json={"email": email, "password": "wrong password!!"})


def test_per_ip_limit_is_shared_by_the_hosts_and_counts_the_address_nginx_saw(cluster):
    # RATELIMIT_LOGIN: 10 per minute per client IP. Every request forges another
    # X-Forwarded-For chain: the app counts the address nginx saw, not a forged one.
    with cluster.client(source="127.0.80.1") as client:
        answers = []
        for attempt in range(11):
            forged = f"203.0.113.{attempt}, 198.51.100.{attempt}"
            answers.append(
                client.post(
                    LOGIN,
                    json={"email": new_email(), "password": "wrong password!!"},
                    headers={"X-Forwarded-For": forged, "X-Real-IP": forged},
                )
            )
    assert [r.status_code for r in answers[:10]] == [401] * 10
    assert answers[10].status_code == 429, answers[10].text
    assert answers[10].json()["code"] == "rate_limited"
    assert served_by(answers[:10]) == {"host-a", "host-b"}
    # Another client address is not limited; nor is nginx's own address counted.
    with cluster.client(source="127.0.80.2") as other:
        assert failed_login(other, new_email()).status_code == 401


def test_per_account_limit_is_shared_by_the_hosts(cluster):
    # RATELIMIT_LOGIN_ACCOUNT: 5 wrong passwords per account, from any address.
    with cluster.client(source="127.0.81.1") as client:
        email, _ = register(client)
    answers = []
    for attempt in range(6):
        with cluster.client(source=f"127.0.81.{attempt + 2}") as client:
            answers.append(failed_login(client, email))
    assert [r.status_code for r in answers] == [401] * 5 + [429]
    assert served_by(answers[:5]) == {"host-a", "host-b"}


def test_oversized_bodies_and_headers_answer_the_envelope(cluster):
    with cluster.client(source="127.0.82.1") as client:
        # Over client_max_body_size: nginx refuses it unread.
        response = client.post(
            LOGIN, content=b"{" + b" " * (70 * 1024) + b"}",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        assert response.status_code == 413
        assert response.json() == {
            "success": False,
            "code": "payload_too_large",
            "error": "The request body is too large.",
        }
        assert "X-Served-By" not in response.headers
        # Within nginx's limit, over the app's: the app's own 413, the same envelope.
        response = client.post(
            LOGIN,
            content=b'{"email": "' + b"a" * (64 * 1024) + b'"}',
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        # A request line over 4 KiB, a header over 4 KiB: nginx's envelopes.
        for response, status in (
            (client.get(ME + "?" + "q" * 5000), 414),
            (client.get(ME, headers={"X-Big": "b" * 5000}), 431),
            (client.get(ME, headers={"Cookie": "c=" + "c" * 5000}), 431),
        ):
            assert response.status_code == status, response.text
            assert response.json()["code"] == "bad_request"
            assert response.json()["success"] is False
        # Many small headers (more than gunicorn's 100 fields): still an envelope.
        many = {f"X-Many-{n}": "1" for n in range(150)}
        response = client.get(ME, headers=many)
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["success"] is False
        # nginx's error pages are internal: from outside, a 404 envelope.
        response = client.get("/_errors/413.json")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_metrics_are_internal_only(cluster):
    token = {"Authorization": f"Bearer {cluster.metrics_token}"}
    # From outside the private networks, forged chain or not: nginx's 403 envelope.
    with cluster.client(source="127.0.83.1") as client:
        for headers in ({}, {"X-Forwarded-For": "10.0.0.5"}):
            response = client.get(METRICS, headers={**token, **headers})
            assert response.status_code == 403
            assert response.json()["code"] == "forbidden"

    with cluster.client(source=network.BRIDGE_ADDRESS) as internal:
        response = internal.get(METRICS, headers=token)
        assert response.status_code == 200
        assert "http_requests_total" in response.text
        assert internal.get(METRICS).status_code == 401
    # Each host is scraped directly, as deploy/prometheus/prometheus.yml does.
    for host in cluster.hosts.values():
        response = httpx.get(f"{host.url}{METRICS}", headers=token, timeout=5)
        assert response.status_code == 200


def test_jwks_through_nginx(cluster):
    with cluster.client() as client:
        response = client.get(JWKS)
    assert response.status_code == 200
    assert response.json()["keys"]
    assert ORIGIN
