"""`POST /api/v1/auth/introspect` (RFC 7662)."""

from flask import jsonify, request

from app.auth import bp
from app.auth.introspection import introspect
from app.auth.service_clients import request_client
from app.openapi.declare import operation, response
from app.schemas.introspection import IntrospectionSchema


@bp.post("/introspect")
@operation(tag="sessions")
@response(
    IntrospectionSchema,
    envelope=False,
    dump=False,
    cache_control="`no-store`.",
)
def introspect_token():
    """Tell a service whether an access token is active (RFC 7662).

    Not an envelope: the RFC 7662 answer. The body is a form
    (`application/x-www-form-urlencoded`) with `token` (and, optionally,
    `token_type_hint`, ignored); the caller authenticates with a service credential
    of `INTROSPECTION_CLIENTS`, by HTTP Basic or the form fields `client_id` and
    `client_secret`. An active access token of a live session answers `active:
    true` with its claims; anything else (no or wrong credentials, refresh tokens,
    forged, expired or revoked tokens, a malformed body) answers the same `{"active":
    false}`. Rate limited per client.
    """
    answer = jsonify(introspect(client_id=request_client(), form=request.form))
    answer.headers["Cache-Control"] = "no-store"
    return answer
