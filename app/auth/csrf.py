"""Double-submit CSRF protection of cookie refreshes: one value per session.

The SPA reads the `csrf_refresh_token` cookie and echoes it in `X-CSRF-TOKEN`; a
cross-site page can make the browser send the refresh cookie, but cannot read this one.
"""

import base64
import hashlib
import hmac

from flask import current_app, request

from app.errors import CSRFFailed

CSRF_HEADER = "X-CSRF-TOKEN"


def session_csrf_value(session_id):
    """The value for a session: an HMAC of its id, so it needs no storage.

    Constant across rotations, so a tab that read the CSRF cookie just before another
    tab's refresh replaced the refresh cookie still sends a matching pair.
    """
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    digest = hmac.new(key, b"csrf:" + session_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_csrf(session_id):
    """403 csrf_failed unless X-CSRF-TOKEN carries the session's value."""
    if not current_app.config["CSRF_PROTECT"]:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    # Compared as bytes: a header may hold any Latin-1 text, never an error here.
    expected = session_csrf_value(session_id).encode("ascii")
    if not sent or not hmac.compare_digest(sent.encode("utf-8", "replace"), expected):
        raise CSRFFailed()
