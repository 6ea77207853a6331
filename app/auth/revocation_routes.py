"""`GET /.well-known/revocations`: the signed feed of revoked sessions."""

from flask import Blueprint, Response, request

from app.auth.revocation_feed import revocation_feed
from app.openapi.declare import operation, query, response
from app.schemas.revocations import RevocationFeedQuerySchema

bp = Blueprint("revocations", __name__)

MEDIA_TYPE = "application/jwt"


@bp.get("/.well-known/revocations")
@operation(tag="operations", errors={400: ["invalid_cursor"], 404: ["not_found"]})
@response(
    media_type=MEDIA_TYPE,
    cache_control="`no-cache` with a weak `ETag`: `If-None-Match` gets 304.",
)
@query(RevocationFeedQuerySchema)
def revocations(query):
    """The sessions revoked since a cursor, as a JWS signed with the JWKS key.

    Not an envelope: a compact JWS (`application/jwt`) with header `typ:
    revocations+jwt` and the `kid` of the published signing key, whose claims are
    `iss`, `iat`, `since`, `cursor` (pass it as `since` next) and `revoked`, a list
    of `{sid, until}`: the session id and the time (epoch seconds) after which no
    access token of it is valid any more, when the entry leaves the feed. `wait`
    holds the answer until a revocation arrives (long-poll, at most
    `REVOCATION_FEED_MAX_WAIT` seconds). Asymmetric algorithms only: 404
    `not_found` with HS256. A cursor that is not this feed's (from the future, or
    of another database) is 400 `invalid_cursor`: start again without `since`.
    """
    answer = revocation_feed(
        since=query.get("since"), wait=query["wait"], known_etags=request.if_none_match
    )
    headers = {"ETag": answer.etag, "Cache-Control": "no-cache"}
    headers["X-Accel-Buffering"] = "no"  # nginx: no buffering of held answers
    if answer.token is None:
        return Response(status=304, headers=headers)
    return Response(answer.token, mimetype=MEDIA_TYPE, headers=headers)
