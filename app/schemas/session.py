"""Session output schema."""

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
    current = fields.Method("_is_current", metadata={"type": "boolean"})

    def __init__(self, *, current_session_id=None, **kwargs):
        super().__init__(**kwargs)
        self.current_session_id = current_session_id

    def _is_current(self, user_session):
        return user_session.id == self.current_session_id
