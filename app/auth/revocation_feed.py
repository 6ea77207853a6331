"""The signed revocation feed: a JWS of its own `typ`, ETag, a bounded long-poll.

The feed is signed with the published signing key, so a verifier trusts it as it
trusts access tokens; its `typ` (`revocations+jwt`) keeps it from ever passing for
one. Only asymmetric algorithms: with HS256 there is nothing a service could check
it with (404 `not_found`, as the JWKS).
"""

import hashlib
import json
import threading
import time
from dataclasses import dataclass

from flask import current_app

from app.auth import revocations
from app.auth.keys import current_keyset
from app.auth.tokens import CODEC
from app.errors import NotFound
from app.pagination import InvalidCursor

FEED_TYPE = "revocations+jwt"
# How often a held request looks at the feed's head (one indexed row).
POLL_INTERVAL = 0.2


@dataclass(frozen=True)
class FeedAnswer:
    etag: str
    token: str | None  # None: the client's copy (If-None-Match) is current


class PollSeats:
    """At most `limit` held requests per process; the others are answered at once.

    Held requests sleep in a worker thread: the cap keeps most threads for the
    requests that do work.
    """

    def __init__(self, limit):
        self.limit = limit
        self.taken = 0
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if self.taken >= self.limit:
                return False
            self.taken += 1
            return True

    def leave(self):
        with self.lock:
            self.taken -= 1


def register_poll_seats(app):
    app.extensions["revocation_poll_seats"] = PollSeats(
        app.config["REVOCATION_FEED_MAX_WAITERS"]
    )


def read_state(since):
    state = revocations.read_since(since=since)
    if state is None:
        raise InvalidCursor(
            "The cursor is not one this feed handed out; start again without it."
        )
    return state


def wait_for_news(state, *, wait):
    """Hold until an entry arrives after `state.since`, `wait` seconds at most."""
    seats = current_app.extensions["revocation_poll_seats"]
    if state.entries or wait <= 0 or not seats.take():
        return state
    try:
        deadline = time.monotonic() + wait
        seen = state.cursor
        while not state.entries and time.monotonic() < deadline:
            time.sleep(min(POLL_INTERVAL, max(deadline - time.monotonic(), 0)))
            head = revocations.head_cursor()
            if head != seen:
                seen = head
                state = read_state(state.since)
        return state
    finally:
        seats.leave()


def feed_claims(state):
    return {
        "iss": current_app.config["JWT_ISSUER"],
        "iat": int(time.time()),
        "since": str(state.since),
        "cursor": str(state.cursor),
        "revoked": [
            {"sid": entry.session_id, "until": entry.until} for entry in state.entries
        ],
    }


def etag_of(state, kid):
    content = [kid, state.since, state.cursor]
    content += [[entry.session_id, entry.until] for entry in state.entries]
    digest = hashlib.sha256(json.dumps(content).encode()).hexdigest()[:32]
    # Weak: the JWS differs by its `iat` (and ECDSA's randomness), the content not.
    return f'W/"{digest}"'


def revocation_feed(*, since, wait, known_etags):
    """The feed after cursor `since` (a string of digits, or None for all of it).

    `known_etags`: the request's If-None-Match (werkzeug ETags); an unchanged feed
    answers no token.
    """
    keyset = current_keyset()
    if not keyset.asymmetric:
        raise NotFound(
            "No revocation feed: tokens are signed with a shared secret (HS256)."
        )
    state = read_state(0 if since is None else int(since))
    wait = min(wait, current_app.config["REVOCATION_FEED_MAX_WAIT"])
    state = wait_for_news(state, wait=wait)
    etag = etag_of(state, keyset.kid)
    if known_etags.contains_weak(etag.removeprefix("W/").strip('"')):
        return FeedAnswer(etag=etag, token=None)
    token = CODEC.encode(
        feed_claims(state),
        keyset.signing_key,
        algorithm=keyset.algorithm,
        headers={"typ": FEED_TYPE, "kid": keyset.kid},
    )
    return FeedAnswer(etag=etag, token=token)
