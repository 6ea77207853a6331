"""TOTP (RFC 6238) on cryptography's implementation: 6 digits, 30 s, SHA-1.

What every authenticator app supports, and no more lenient: one step of clock
drift either way, and never a step at or before the last one accepted.
"""

import base64
import io
import os
from urllib.parse import quote, urlencode

import segno
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from app import clock

DIGITS = 6
PERIOD = 30
DRIFT_STEPS = 1
# RFC 4226 section 4: at least 128 bits, 160 recommended.
SECRET_BYTES = 20


def new_secret():
    return os.urandom(SECRET_BYTES)


def secret_text(secret):
    """The base32 form authenticator apps take (no padding)."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def provisioning_uri(secret, *, issuer, account):
    """The otpauth:// URI of Google's Key Uri Format, which every app reads."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode(
        {
            "secret": secret_text(secret),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": PERIOD,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri):
    """The URI as a QR code, an SVG document (segno, no network)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", xmldecl=False, scale=4)
    return out.getvalue().decode("utf-8")


def matching_step(secret, code, *, last_used_step):
    """The time step `code` is valid for (within the drift), else None.

    Steps at or before `last_used_step` are not tried: a code works once. Every
    candidate step is checked (cryptography compares in constant time).
    """
    # RFC 6238 HMAC-SHA-1: what every authenticator app supports.
    totp = TOTP(secret, DIGITS, SHA1(), PERIOD)  # noqa: S303
    current = int(clock.now().timestamp()) // PERIOD
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        try:
            totp.verify(code.encode("ascii"), step * PERIOD)
        except InvalidToken:
            continue
        found = step if found is None else found
    return found
