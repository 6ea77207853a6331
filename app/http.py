"""Request plumbing: request ids, the strict JSON body reader, common headers."""

import json
import re
import uuid

from flask import current_app, g, request
from flask.sessions import SessionInterface
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import ApiError, InvalidJSON

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# The deepest payload is a passkey's answer (body > credential > response or
# clientExtensionResults > an extension's results > values); anything deeper is
# refused before it costs anything.
MAX_JSON_DEPTH = 5


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"
    message = "The request body must be application/json."


class NoCookieSession(SessionInterface):
    """No Flask cookie session: the API keeps none, so none is opened per request.

    Flask's default builds a signing serializer on every request just to find no
    cookie. Without one, `flask.session` is Flask's NullSession, which refuses writes.
    """

    def open_session(self, app, request):
        return None

    def save_session(self, app, session, response):
        return None


def request_id():
    """This request's id: the caller's when sane, else a new one."""
    return getattr(g, "request_id", None) or "-"


def assign_request_id():
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex


def finish_response(response):
    """Headers every answer carries: the request id, and no caching of API data."""
    response.headers["X-Request-ID"] = request_id()
    served_by = current_app.config["SERVED_BY"]
    if served_by:
        response.headers["X-Served-By"] = served_by
    # A response that chose its own caching (the public JWKS) keeps it.
    if (
        response.mimetype == "application/json"
        and "Cache-Control" not in response.headers
    ):
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Pragma", "no-cache")
    return response


def _reject_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise InvalidJSON("The request body has duplicate keys.")
    return dict(pairs)


def _reject_constant(name):
    raise InvalidJSON(f"{name} is not valid JSON.")


def _nesting_exceeds(raw, limit):
    """Bracket depth outside strings, counted before parsing (no recursion blow-up)."""
    depth = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def has_body():
    return bool(request.content_length) or request.headers.get("Transfer-Encoding")


def body_bytes():
    """The raw body, read once per request; 413 past MAX_CONTENT_LENGTH.

    With a Content-Length Werkzeug refuses an oversized body itself. A chunked body
    has none, and Werkzeug stops reading at the limit without saying so: here the
    WSGI input is read to the limit plus one byte, and that byte means 413.
    """
    return once_per_request("raw_body", read_body_bytes)


def read_body_bytes():
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None or limit is None:
        return request.get_data(cache=True)
    data = request.environ["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    return data


def read_json_object(*, optional=False):
    """The body as a dict, or 4xx: 415 not JSON, 413 too big, 400 malformed."""
    if not has_body():
        if optional:
            return {}
        raise InvalidJSON("A JSON object body is required.")
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    raw_bytes = body_bytes()
    # Empty (a chunked body of no bytes) is no body; whitespace is invalid JSON.
    if not raw_bytes and optional:
        return {}
    try:
        raw = raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJSON("The request body is not valid UTF-8.") from None
    if _nesting_exceeds(raw, MAX_JSON_DEPTH):
        raise InvalidJSON("The request body is nested too deeply.")
    try:
        data = json.loads(
            raw,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError):
        raise InvalidJSON() from None
    if not isinstance(data, dict):
        raise InvalidJSON("The request body must be a JSON object.")
    return data


def load_body(schema, *, optional=False):
    """Read the JSON object body and load it through a marshmallow schema."""
    return schema.load(read_json_object(optional=optional))


def once_per_request(name, compute):
    """`compute()`, run once per request; later calls get its result.

    Kept in the WSGI environ, which belongs to one request: `g` outlives a request
    when a test holds an app context around several.
    """
    key = f"app.once.{name}"
    if key not in request.environ:
        request.environ[key] = compute()
    return request.environ[key]


def client_ip():
    return request.remote_addr or ""


def user_agent():
    return (request.headers.get("User-Agent") or "")[:512]
