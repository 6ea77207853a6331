"""Session output schemas."""

from flask import g
from marshmallow import fields

from app.auth.tokens import ACR_PASSWORD, ACR_SECOND_FACTOR, SECOND_FACTOR_AMR
from app.schemas.base import CamelSchema, UTCDateTimeField


class SessionSchema(CamelSchema):
    """One entry of GET /sessions; `current` marks the caller's own session."""

    id = fields.String()
    created_at = UTCDateTimeField()
    last_used_at = UTCDateTimeField()
    expires_at = UTCDateTimeField()
    user_agent = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    current = fields.Method("is_current", metadata={"type": "boolean"})
    amr = fields.Method(
        "amr_values",
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "How the session was authenticated (RFC 8176): "
            "`pwd`, and `otp` or `hwk` after a second factor; `hwk` and `user` "
            "for a passkey sign-in.",
        },
    )
    acr = fields.Method(
        "acr_value",
        metadata={"type": "string", "description": "`aal1` or `aal2`."},
    )
    auth_time = UTCDateTimeField(
        metadata={"description": "When the session last proved a factor."}
    )

    def amr_values(self, user_session):
        return (self.get_attribute(user_session, "amr", None) or "pwd").split()

    def acr_value(self, user_session):
        amr = self.amr_values(user_session)
        return (
            ACR_SECOND_FACTOR if SECOND_FACTOR_AMR.intersection(amr) else ACR_PASSWORD
        )

    def is_current(self, user_session):
        # The session of the access token this request came with.
        return user_session.id == g.get("current_session_id")


class SessionListSchema(CamelSchema):
    sessions = fields.List(fields.Nested(SessionSchema), required=True)
