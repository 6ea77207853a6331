"""`GET /.well-known/revocations` query string."""

from marshmallow import fields, validate

from app.schemas.base import CamelSchema

FEED_CURSOR_PATTERN = r"^[0-9]{1,18}$"
# The server waits at most REVOCATION_FEED_MAX_WAIT; longer asks are shortened.
MAX_ASKED_WAIT = 300


class RevocationFeedQuerySchema(CamelSchema):
    since = fields.String(
        validate=validate.Regexp(FEED_CURSOR_PATTERN),
        metadata={
            "description": "The `cursor` of the previous answer, as it was given; "
            "without it the whole feed."
        },
    )
    wait = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_ASKED_WAIT),
        metadata={
            "description": "Seconds to hold the answer while nothing is new after "
            "`since` (long-poll; at most REVOCATION_FEED_MAX_WAIT, 25 by default)."
        },
    )
