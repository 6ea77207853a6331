"""Session output schemas."""

from flask import g
from marshmallow import fields

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

    def is_current(self, user_session):
        # The session of the access token this request came with.
        return user_session.id == g.get("current_session_id")


class SessionListSchema(CamelSchema):
    sessions = fields.List(fields.Nested(SessionSchema), required=True)
