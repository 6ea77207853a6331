"""Follows the server's signed revocation feed: long-poll, back-off, last good state.

The feed only ever adds revocations, so a refused answer (bad signature, wrong
`typ`, another cursor) changes nothing: the last good state stays, the follower
backs off and asks again.
"""

import json
import logging
import random
import threading
import time
import urllib.parse

import jwt

from auth_verifier import http

log = logging.getLogger("auth_verifier")
FEED_TYPE = "revocations+jwt"


class FeedRefused(Exception):
    """An answer the follower does not trust; the message says why."""


class FeedFollower:
    def __init__(self, *, url, issuer, keys, revoked, wait, timeout, backoff_max):
        self.url = url
        self.issuer = issuer
        self.keys = keys
        self.revoked = revoked  # sid -> until (epoch seconds), shared with the checks
        self.wait = wait
        self.timeout = timeout
        self.backoff_max = backoff_max
        self.cursor = None
        self.etag = None
        self.synced_at = None  # monotonic time of the last trusted answer
        self.failures = 0
        self.refused = 0
        self.stop_event = threading.Event()
        self.thread = None

    def start(self):
        self.thread = threading.Thread(
            target=self.run, name="auth-verifier-feed", daemon=True
        )
        self.thread.start()

    def stop(self):
        self.stop_event.set()

    def run(self):
        delay = 0.0
        while not self.stop_event.is_set():
            began = time.monotonic()
            try:
                # After a failure, a quick sync first: a held poll would keep the
                # verifier stale until it ends.
                self.poll(wait=0 if self.failures else self.wait)
                self.failures = 0
                delay = 0.0
            except (OSError, ValueError, FeedRefused) as error:
                self.failures += 1
                delay = min(self.backoff_max, max(0.25, delay * 2))
                log.warning(
                    "auth_verifier: revocation feed: %s (retry in %.1fs)", error, delay
                )
            # An answer sooner than asked (server at its cap of held polls, or new
            # entries) must not turn into a busy loop.
            jitter = random.uniform(0.8, 1.2)  # noqa: S311 (not a secret)
            pause = max(delay * jitter, 0.2 - (time.monotonic() - began))
            if pause > 0:
                self.stop_event.wait(pause)

    def poll(self, *, wait):
        """One request of the feed; applies a trusted answer, else raises."""
        params = {"wait": str(wait)}
        if self.cursor is not None:
            params["since"] = self.cursor
        headers = {"If-None-Match": self.etag} if self.etag else {}
        answer = http.get(
            f"{self.url}?{urllib.parse.urlencode(params)}",
            timeout=wait + self.timeout,
            headers=headers,
        )
        if answer.status == 304:
            self.synced_at = time.monotonic()
            return
        if (
            answer.status == 400
            and self.cursor is not None
            and is_cursor_refusal(answer)
        ):
            # Another database (restored, recreated): read the whole feed again.
            log.warning("auth_verifier: feed cursor refused; reading the whole feed")
            self.cursor, self.etag = None, None
            return
        if answer.status != 200:
            raise OSError(f"feed answered {answer.status}")
        claims = self.trusted_claims(answer.body)
        now = time.time()
        for entry in claims["revoked"]:
            if entry["until"] > now:
                self.revoked[entry["sid"]] = entry["until"]
        self.cursor = claims["cursor"]
        self.etag = answer.headers.get("ETag")
        self.synced_at = time.monotonic()
        self.forget_expired(now)

    def trusted_claims(self, body):
        try:
            token = body.decode("ascii")
            header = jwt.get_unverified_header(token)
        except (UnicodeDecodeError, jwt.PyJWTError) as error:
            self.refused += 1
            raise FeedRefused(f"not a JWS: {error}") from None
        if header.get("typ") != FEED_TYPE:
            self.refused += 1
            raise FeedRefused(f"typ {header.get('typ')!r} is not {FEED_TYPE}")
        found = self.keys.get(header.get("kid"))
        if found is None or found[0] != header.get("alg"):
            self.refused += 1
            raise FeedRefused("signed with a key the JWKS does not publish")
        algorithm, key = found
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                options={"require": ["iss", "iat", "since", "cursor", "revoked"]},
            )
        except jwt.PyJWTError as error:
            self.refused += 1
            raise FeedRefused(f"refused: {error}") from None
        if claims["since"] != (self.cursor or "0"):
            self.refused += 1
            raise FeedRefused("an answer for another cursor")
        if not valid_entries(claims["revoked"]) or not str(claims["cursor"]).isdigit():
            self.refused += 1
            raise FeedRefused("malformed entries")
        if int(claims["cursor"]) < int(claims["since"]):
            self.refused += 1
            raise FeedRefused("a cursor that goes back")
        return claims

    def forget_expired(self, now):
        for sid, until in list(self.revoked.items()):
            if until <= now:
                self.revoked.pop(sid, None)


def is_cursor_refusal(answer):
    try:
        return answer.json().get("code") == "invalid_cursor"
    except (ValueError, AttributeError, json.JSONDecodeError):
        return False


def valid_entries(entries):
    return isinstance(entries, list) and all(
        isinstance(entry, dict)
        and isinstance(entry.get("sid"), str)
        and isinstance(entry.get("until"), int)
        for entry in entries
    )
