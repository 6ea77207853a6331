"""The server's public keys (JWKS), cached by `kid`, refreshed on an unknown one."""

import logging
import threading
import time

import jwt

from auth_verifier import http

log = logging.getLogger("auth_verifier")
ASYMMETRIC = frozenset({"RS256", "ES256", "EdDSA", "PS256", "ES384", "ES512"})


class KeyCache:
    def __init__(self, url, *, timeout, min_refresh_interval):
        self.url = url
        self.timeout = timeout
        self.min_refresh_interval = min_refresh_interval
        self.keys = {}  # kid -> (algorithm, key object)
        self.fetched_at = None  # monotonic time of the last good fetch
        self.tried_at = None
        self.lock = threading.Lock()

    def get(self, kid):
        """(algorithm, key) for `kid`, fetching the JWKS again if it is unknown."""
        found = self.keys.get(kid)
        if found is None:
            self.refresh(unknown_kid=kid)
            found = self.keys.get(kid)
        return found

    def refresh(self, *, unknown_kid=None):
        with self.lock:
            if unknown_kid is not None and unknown_kid in self.keys:
                return
            now = time.monotonic()
            # Unknown kids of forged tokens must not turn into a fetch each.
            if (
                self.tried_at is not None
                and now - self.tried_at < self.min_refresh_interval
            ):
                return
            self.tried_at = now
            try:
                answer = http.get(self.url, timeout=self.timeout)
                if answer.status != 200:
                    raise OSError(f"JWKS answered {answer.status}")
                self.keys = parse_jwks(answer.json())
                self.fetched_at = now
            except (OSError, ValueError) as error:
                log.warning("auth_verifier: JWKS fetch failed: %s", error)


def parse_jwks(document):
    """{kid: (alg, key)} of the usable signing keys of a JWK Set."""
    keys = {}
    for jwk in document.get("keys", []):
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        algorithm, kid = jwk.get("alg"), jwk.get("kid")
        if algorithm not in ASYMMETRIC or not isinstance(kid, str):
            continue
        try:
            keys[kid] = (algorithm, jwt.PyJWK(jwk, algorithm=algorithm).key)
        except jwt.PyJWTError as error:
            log.warning("auth_verifier: JWKS key %s skipped: %s", kid, error)
    return keys
