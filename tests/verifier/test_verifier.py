"""auth_verifier against a stand-in auth server whose answers each test chooses.

What the follower must refuse (and keep its last good state for), what a check
refuses, and the stale-feed bound, closed and open. tests/downstream proves the
whole thing against the real server.
"""

import json
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from auth_verifier import AuthVerifier, TokenRejected
from auth_verifier.feed import FeedRefused
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

from tests.servers import in_thread

ISSUER, AUDIENCE = "auth-server", "orders"


def new_key(kid):
    key = ed25519.Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return key, {**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"}


class StandIn:
    def __init__(self):
        self.key, jwk = new_key("k1")
        self.jwks = {"keys": [jwk]}
        self.feed_answer = None  # callable(since) -> (status, body)
        self.revoked = []
        self.cursor = 0
        self.feed_requests = 0

    def sign(self, claims, *, key=None, kid="k1", typ="revocations+jwt"):
        return jwt.encode(
            claims, key or self.key, algorithm="EdDSA", headers={"typ": typ, "kid": kid}
        )

    def good_feed(self, since):
        claims = {
            "iss": ISSUER,
            "iat": int(time.time()),
            "since": since,
            "cursor": str(self.cursor),
            "revoked": [e for e in self.revoked if e["cursor"] > int(since)],
        }
        claims["revoked"] = [
            {"sid": e["sid"], "until": e["until"]} for e in claims["revoked"]
        ]
        return 200, self.sign(claims)

    def revoke(self, sid):
        self.cursor += 1
        entry = {"sid": sid, "until": int(time.time()) + 3600, "cursor": self.cursor}
        self.revoked.append(entry)

    def token(self, *, sid=None, key=None, kid="k1", typ="at+jwt", **changes):
        now = int(time.time())
        claims = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1",
            "sid": sid or str(uuid.uuid4()), "iat": now, "exp": now + 600,
        }  # fmt: skip
        claims.update(changes)
        return jwt.encode(
            claims, key or self.key, algorithm="EdDSA", headers={"typ": typ, "kid": kid}
        )


@pytest.fixture
def stand_in():
    stand_in = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            path, _, query = self.path.partition("?")
            params = dict(p.split("=", 1) for p in query.split("&") if p)
            if path.endswith("jwks.json"):
                status, body = 200, json.dumps(stand_in.jwks)
            else:
                stand_in.feed_requests += 1
                answer = stand_in.feed_answer or stand_in.good_feed
                status, body = answer(params.get("since", "0"))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    with in_thread(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        stand_in.url = url
        yield stand_in


def verifier_for(stand_in, **options):
    options.setdefault("max_staleness", 60)
    options.setdefault("poll_wait", 0)
    options.setdefault("backoff_max", 0.2)
    verifier = AuthVerifier(stand_in.url, issuer=ISSUER, audience=AUDIENCE, **options)
    return verifier.start()


def synced_by_hand(stand_in):
    """A verifier whose follower thread never runs: the test polls the feed itself."""
    verifier = AuthVerifier(stand_in.url, issuer=ISSUER, audience=AUDIENCE)
    verifier.keys.refresh()
    verifier.feed.poll(wait=0)
    return verifier


def reason(verifier, token):
    with pytest.raises(TokenRejected) as rejected:
        verifier.verify(token)
    return rejected.value.reason


def wait_for(condition, timeout=5):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_valid_token_passes_and_a_revoked_one_is_refused(stand_in):
    verifier = verifier_for(stand_in)
    sid = str(uuid.uuid4())
    token = stand_in.token(sid=sid)
    assert verifier.verify(token)["sid"] == sid
    stand_in.revoke(sid)
    wait_for(lambda: sid in verifier.revoked)
    assert reason(verifier, token) == "revoked"
    verifier.stop()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"typ": "rt+jwt"}, "wrong_type"),
        ({"typ": "revocations+jwt"}, "wrong_type"),
        ({"kid": "nobody"}, "unknown_key"),
        ({"iss": "elsewhere"}, "wrong_issuer"),
        ({"aud": "billing"}, "wrong_audience"),
        ({"exp": 1000}, "expired"),
    ],
)
def test_what_a_check_refuses(stand_in, changes, expected):
    verifier = verifier_for(stand_in)
    assert reason(verifier, stand_in.token(**changes)) == expected
    verifier.stop()


@pytest.mark.parametrize(
    "token", ["", "garbage", "a.b.c", "x" * 10_000, None, 42, "é.é.é"]
)
def test_garbage_is_refused(stand_in, token):
    verifier = verifier_for(stand_in)
    assert reason(verifier, token) in {"malformed", "invalid"}
    verifier.stop()


def test_a_forged_signature_and_a_missing_sid_are_refused(stand_in):
    verifier = verifier_for(stand_in)
    other, _ = new_key("k1")
    assert reason(verifier, stand_in.token(key=other)) == "invalid"
    now = int(time.time())
    no_sid = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": now + 60}
    token = stand_in.sign(no_sid, typ="at+jwt")
    assert reason(verifier, token) == "invalid"
    verifier.stop()


def test_an_unknown_kid_fetches_the_jwks_again(stand_in):
    verifier = verifier_for(stand_in, jwks_min_refresh_interval=0)
    key, jwk = new_key("k2")
    stand_in.jwks = {"keys": [*stand_in.jwks["keys"], jwk]}
    assert verifier.verify(stand_in.token(key=key, kid="k2"))["sub"] == "user-1"
    verifier.stop()


def tampered_answers(stand_in):
    other, _ = new_key("k1")
    claims = {"iss": ISSUER, "iat": int(time.time()), "cursor": "99", "revoked": []}
    good = stand_in.good_feed("0")[1]
    header, payload, signature = good.split(".")
    return {
        "another key": stand_in.sign({**claims, "since": "0"}, key=other),
        "unknown kid": stand_in.sign({**claims, "since": "0"}, kid="k9"),
        "access typ": stand_in.sign({**claims, "since": "0"}, typ="at+jwt"),
        "bad signature": f"{header}.{payload}.{signature[::-1]}",
        "not a JWS": "<html>proxy error</html>",
        "another cursor": stand_in.sign({**claims, "since": "7"}),
        "wrong issuer": stand_in.sign({**claims, "since": "0", "iss": "x"}),
        "bad entries": stand_in.sign({**claims, "since": "0", "revoked": [1, 2]}),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "another key",
        "unknown kid",
        "access typ",
        "bad signature",
        "not a JWS",
        "another cursor",
        "wrong issuer",
        "bad entries",
    ],
)
def test_a_tampered_feed_is_refused_and_the_last_good_state_kept(stand_in, kind):
    sid = str(uuid.uuid4())
    stand_in.revoke(sid)
    verifier = synced_by_hand(stand_in)
    assert sid in verifier.revoked and verifier.feed.cursor == "1"
    body = tampered_answers(stand_in)[kind]
    stand_in.feed_answer = lambda since: (200, body)
    with pytest.raises(FeedRefused):
        verifier.feed.poll(wait=0)
    assert sid in verifier.revoked and verifier.feed.cursor == "1"
    assert verifier.feed.refused == 1


def test_a_cursor_the_server_refuses_reads_the_whole_feed_again(stand_in):
    stand_in.revoke(str(uuid.uuid4()))
    verifier = synced_by_hand(stand_in)
    refusal = json.dumps({"success": False, "code": "invalid_cursor", "error": "x"})
    stand_in.feed_answer = lambda since: (400, refusal)
    verifier.feed.poll(wait=0)
    assert verifier.feed.cursor is None
    stand_in.feed_answer = None
    verifier.feed.poll(wait=0)
    assert verifier.feed.cursor == "1"


def test_a_stale_feed_fails_closed_and_says_so(stand_in, caplog):
    verifier = verifier_for(stand_in, max_staleness=0.5)
    token = stand_in.token()
    assert verifier.verify(token)
    stand_in.feed_answer = lambda since: (503, "down")
    time.sleep(1)
    assert reason(verifier, token) == "feed_stale"
    assert verifier.feed_stale and verifier.metrics()["feed_stale"] is True
    assert "auth_verifier_feed_stale 1.0" in verifier.metrics_text()
    assert "revocation feed stale" in caplog.text
    stand_in.feed_answer = None
    wait_for(lambda: not verifier.feed_stale)
    assert verifier.verify(token)
    assert "revocation feed current again" in caplog.text
    verifier.stop()


def test_fail_open_keeps_accepting_when_chosen(stand_in, caplog):
    verifier = verifier_for(stand_in, max_staleness=0.5, fail_open=True)
    token = stand_in.token()
    stand_in.feed_answer = lambda since: (503, "down")
    time.sleep(1)
    assert verifier.verify(token)["sub"] == "user-1"
    assert verifier.feed_stale
    assert "accepting tokens unchecked" in caplog.text
    verifier.stop()


def test_never_synced_is_stale(stand_in):
    stand_in.feed_answer = lambda since: (500, "no")
    verifier = verifier_for(stand_in)
    assert reason(verifier, stand_in.token()) == "feed_stale"
    verifier.stop()
