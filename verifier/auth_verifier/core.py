"""AuthVerifier: an access token checked in memory, its session not revoked."""

import logging
import os
import threading
import time

import jwt

from auth_verifier.feed import FeedFollower
from auth_verifier.keys import KeyCache

log = logging.getLogger("auth_verifier")
ACCESS_TOKEN_TYPE = "at+jwt"
MAX_TOKEN_LENGTH = 8192
HEADER_CACHE_SIZE = 256
REQUIRED_CLAIMS = ["iss", "aud", "exp", "sub", "sid"]


class TokenRejected(Exception):
    """A token that must not be accepted; `reason` is a short code."""

    def __init__(self, reason, message=None):
        super().__init__(message or reason)
        self.reason = reason


class AuthVerifier:
    """Verify the auth server's access tokens without a call per request.

    `server`: the auth server's base URL (its JWKS and revocation feed live under
    /.well-known/). `issuer` and `audience`: what the tokens' `iss` and `aud` must
    be. `max_staleness`: seconds the feed may go unanswered before the verifier
    stops trusting its revocation list; then it refuses every token
    (`fail_open=False`, the default) or accepts them as a plain JWKS verifier would
    (`fail_open=True`), and says so in its log and in `metrics()`.
    """

    def __init__(
        self,
        server,
        *,
        issuer,
        audience,
        max_staleness=60.0,
        fail_open=False,
        leeway=0,
        poll_wait=25,
        timeout=5.0,
        backoff_max=30.0,
        jwks_refresh_interval=300.0,
        jwks_min_refresh_interval=5.0,
    ):
        server = server.rstrip("/")
        self.issuer = issuer
        self.audience = audience
        self.max_staleness = max_staleness
        self.fail_open = fail_open
        self.leeway = leeway
        self.jwks_refresh_interval = jwks_refresh_interval
        self.keys = KeyCache(
            f"{server}/.well-known/jwks.json",
            timeout=timeout,
            min_refresh_interval=jwks_min_refresh_interval,
        )
        self.revoked = {}
        self.feed = FeedFollower(
            url=f"{server}/.well-known/revocations",
            issuer=issuer,
            keys=self.keys,
            revoked=self.revoked,
            # A held poll must end (the server answers when its wait is over) well
            # before the feed counts as stale.
            wait=max(0, min(poll_wait, int(max_staleness // 2))),
            timeout=timeout,
            backoff_max=backoff_max,
        )
        self.codec = jwt.PyJWT()
        self.options = {"require": REQUIRED_CLAIMS}
        self.headers = {}  # encoded header segment -> (kid, alg), checked typ
        self.counts = {"accepted": 0, "rejected": 0}
        self.started_in = None
        self.start_lock = threading.Lock()
        self.reported_stale = False

    # Lifecycle ---------------------------------------------------------------

    def start(self, *, sync_timeout=5.0):
        """JWKS and a first feed sync (bounded), then the follower thread.

        Safe to call again; after a fork (gunicorn workers) it starts a follower of
        the new process.
        """
        with self.start_lock:
            if self.started_in == os.getpid():
                return self
            self.started_in = os.getpid()
            self.keys.refresh()
            try:
                self.feed.poll(wait=0)
            except Exception as error:  # noqa: BLE001 (logged; the follower retries)
                log.warning("auth_verifier: first feed sync failed: %s", error)
            self.feed.start()
            self.refresher = threading.Thread(
                target=self.refresh_keys, name="auth-verifier-jwks", daemon=True
            )
            self.refresher.start()
        return self

    def stop(self):
        self.feed.stop()

    def refresh_keys(self):
        while not self.feed.stop_event.wait(self.jwks_refresh_interval):
            self.keys.refresh()

    # State -------------------------------------------------------------------

    @property
    def feed_age(self):
        """Seconds since the feed last answered (None: never)."""
        synced = self.feed.synced_at
        return None if synced is None else time.monotonic() - synced

    @property
    def feed_stale(self):
        age = self.feed_age
        return age is None or age > self.max_staleness

    def metrics(self):
        age = self.feed_age
        return {
            "feed_stale": self.feed_stale,
            "feed_age_seconds": age,
            "feed_failures": self.feed.failures,
            "feed_refused_answers": self.feed.refused,
            "feed_cursor": self.feed.cursor,
            "revoked_sessions": len(self.revoked),
            "known_keys": len(self.keys.keys),
            "fail_open": self.fail_open,
            **self.counts,
        }

    def metrics_text(self):
        """The metrics in Prometheus' text format."""
        values = self.metrics()
        lines = []
        for name in (
            "feed_stale",
            "feed_age_seconds",
            "feed_failures",
            "feed_refused_answers",
            "revoked_sessions",
            "known_keys",
            "accepted",
            "rejected",
        ):
            value = values[name]
            value = -1 if value is None else float(value)
            lines.append(f"auth_verifier_{name} {value}")
        return "\n".join(lines) + "\n"

    # The check ---------------------------------------------------------------

    def verify(self, token):
        """The claims of a valid access token of a live session; else TokenRejected."""
        if self.started_in != os.getpid():
            self.start()
        try:
            claims = self.check(token)
        except TokenRejected:
            self.counts["rejected"] += 1
            raise
        self.counts["accepted"] += 1
        return claims

    def check(self, token):
        if type(token) is not str or len(token) > MAX_TOKEN_LENGTH:
            raise TokenRejected("malformed")
        segment = token.partition(".")[0]
        header = self.headers.get(segment)
        if header is None:
            header = self.read_header(token, segment)
        kid, algorithm = header
        found = self.keys.get(kid)
        if found is None or found[0] != algorithm:
            raise TokenRejected("unknown_key")
        if self.feed_stale:
            self.report_stale()
            if not self.fail_open:
                raise TokenRejected("feed_stale", "the revocation feed is stale")
        elif self.reported_stale:
            self.reported_stale = False
            log.warning("auth_verifier: revocation feed current again")
        try:
            claims = self.codec.decode(
                token,
                found[1],
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options=self.options,
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("expired") from None
        except jwt.InvalidAudienceError:
            raise TokenRejected("wrong_audience") from None
        except jwt.InvalidIssuerError:
            raise TokenRejected("wrong_issuer") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise TokenRejected("invalid") from None
        if claims["sid"] in self.revoked:
            raise TokenRejected("revoked")
        return claims

    def read_header(self, token, segment):
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, ValueError, TypeError):
            raise TokenRejected("malformed") from None
        if header.get("typ") != ACCESS_TOKEN_TYPE:
            raise TokenRejected("wrong_type")
        kid, algorithm = header.get("kid"), header.get("alg")
        if not isinstance(kid, str) or not isinstance(algorithm, str):
            raise TokenRejected("malformed")
        if len(self.headers) >= HEADER_CACHE_SIZE:
            self.headers.clear()
        self.headers[segment] = (kid, algorithm)
        return kid, algorithm

    def report_stale(self):
        if not self.reported_stale:
            self.reported_stale = True
            log.error(
                "auth_verifier: revocation feed stale (last answer %s s ago, bound "
                "%s s): %s",
                "never" if self.feed_age is None else round(self.feed_age, 1),
                self.max_staleness,
                "accepting tokens unchecked for revocation (fail_open)"
                if self.fail_open
                else "refusing every token",
            )
