"""The bearer token of an Authorization header value, and the 401 answer."""

import json

CLAIMS_KEY = "auth.claims"


def bearer_token(authorization):
    """The token of `Bearer <token>`, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def refusal(reason):
    """(status, headers, body) of the 401 for a missing or refused token."""
    error = "invalid_request" if reason == "missing" else "invalid_token"
    body = json.dumps({"error": error, "reason": reason}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("WWW-Authenticate", f'Bearer error="{error}"'),
        ("Cache-Control", "no-store"),
    ]
    return 401, headers, body
