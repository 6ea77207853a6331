"""Response shapes that only the document needs (views build them from dicts).

The user and session objects come from `app.schemas`; these schemas add the token
fields and the small wrappers (`{user}`, `{message}`, `{sessions}`) around them.
The fuzzing tests hold the server to them, so they cannot drift unnoticed.
"""

from marshmallow import fields, validate

from app.schemas.base import CamelSchema
from app.schemas.session import SessionSchema
from app.schemas.user import UserSchema

BEARER_ONLY = "Only for sessions opened with `X-Auth-Mode: bearer`."


class TokenDataSchema(CamelSchema):
    """The token fields of every answer that issues an access token."""

    access_token = fields.String(
        required=True, metadata={"description": "Short-lived JWT access token."}
    )
    token_type = fields.String(required=True, validate=validate.OneOf(["Bearer"]))
    expires_in = fields.Integer(
        required=True,
        metadata={"description": "Seconds until the access token expires."},
    )
    refresh_token = fields.String(
        metadata={"optional": True, "description": f"Refresh token. {BEARER_ONLY}"}
    )
    refresh_expires_in = fields.Integer(
        metadata={
            "optional": True,
            "description": f"Seconds until the session expires. {BEARER_ONLY}",
        }
    )


class RegisterDataSchema(TokenDataSchema):
    user = fields.Nested(UserSchema, required=True)


class LoginDataSchema(TokenDataSchema, UserSchema):
    """Login answers with the user's profile fields next to the tokens."""

    class Meta(CamelSchema.Meta):
        exclude = ("created_at", "updated_at")


class UserDataSchema(CamelSchema):
    user = fields.Nested(UserSchema, required=True)


class MessageSchema(CamelSchema):
    message = fields.String(required=True)


class LogoutAllSchema(MessageSchema):
    revoked = fields.Integer(
        required=True, metadata={"description": "How many sessions were ended."}
    )


class SessionListSchema(CamelSchema):
    sessions = fields.List(fields.Nested(SessionSchema), required=True)


CHECK_RESULT = validate.OneOf(["ok", "error", "timeout", "disabled"])


class HealthChecksSchema(CamelSchema):
    database = fields.String(required=True, validate=CHECK_RESULT)
    rate_limit_storage = fields.String(required=True, validate=CHECK_RESULT)


class HealthSchema(CamelSchema):
    status = fields.String(required=True, validate=validate.OneOf(["ok"]))
    checks = fields.Nested(HealthChecksSchema, required=True)


class JWKSchema(CamelSchema):
    """One public key (RFC 7517): the RFC 7638 members plus kid, use and alg."""

    kty = fields.String(required=True, validate=validate.OneOf(["RSA", "EC", "OKP"]))
    use = fields.String(required=True, validate=validate.OneOf(["sig"]))
    alg = fields.String(required=True)
    kid = fields.String(required=True)
    n = fields.String(metadata={"optional": True})
    e = fields.String(metadata={"optional": True})
    crv = fields.String(metadata={"optional": True})
    x = fields.String(metadata={"optional": True})
    y = fields.String(metadata={"optional": True})


class JWKSetSchema(CamelSchema):
    keys = fields.List(fields.Nested(JWKSchema), required=True)
