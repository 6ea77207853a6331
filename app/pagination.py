"""Opaque keyset cursors: signed, bound to the listing and filters they came from.

A cursor is an itsdangerous URL-safe token of the last row's sort key and a
fingerprint of the query. A garbage one, a tampered one or one of another query is
400 `invalid_cursor`, never a wrong page.
"""

import hashlib
import json

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from app.auth.tokens import derive_secret
from app.errors import ApiError

CURSOR_KEY_LABEL = b"auth-server/cursor/v1"
# What the OpenAPI document declares, so that schema fuzzing sends well-formed ones.
CURSOR_PATTERN = r"^[A-Za-z0-9_.-]{1,512}$"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class InvalidCursor(ApiError):
    status = 400
    code = "invalid_cursor"
    message = "The cursor is invalid or belongs to another query."


def serializer(listing):
    secret = derive_secret(current_app.config["SECRET_KEY"], CURSOR_KEY_LABEL)
    return URLSafeSerializer(secret, salt=f"cursor/{listing}")


def fingerprint(filters):
    text = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def encode_cursor(listing, filters, key):
    """The cursor after the row whose sort key is `key` (a list of JSON values)."""
    return serializer(listing).dumps({"f": fingerprint(filters), "k": key})


def decode_cursor(listing, filters, cursor):
    """The sort key a cursor holds; None for no cursor; else 400 invalid_cursor."""
    if cursor is None:
        return None
    try:
        payload = serializer(listing).loads(cursor)
    except BadData:
        raise InvalidCursor() from None
    if not isinstance(payload, dict) or payload.get("f") != fingerprint(filters):
        raise InvalidCursor()
    key = payload.get("k")
    if not isinstance(key, list):
        raise InvalidCursor()
    return key


def cursor_key(key, *parsers):
    """A decoded key's values through their parsers; a key that does not fit: 400."""
    if len(key) != len(parsers):
        raise InvalidCursor()
    try:
        return [parse(value) for parse, value in zip(parsers, key, strict=True)]
    except (TypeError, ValueError):
        raise InvalidCursor() from None


def page(rows, limit, key_of, listing, filters):
    """(the first `limit` rows, the next cursor or None) of `limit + 1` fetched."""
    shown = rows[:limit]
    if len(rows) <= limit:
        return shown, None
    return shown, encode_cursor(listing, filters, key_of(shown[-1]))
