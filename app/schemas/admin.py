"""Admin API schemas: query strings and answers."""

from marshmallow import fields, validate

from app.models.user import ROLES
from app.schemas.base import CamelSchema, Text, UTCDateTimeField
from app.schemas.pagination import PageQuerySchema, next_cursor_field
from app.schemas.user import UserSchema

STATUSES = ("active", "inactive")
EVENT_TYPE = validate.Regexp(r"^[a-z_]{1,48}$")


class UserQuerySchema(PageQuerySchema):
    """GET /admin/users: prefix search on email or name (taken literally)."""

    query = Text(
        validate=validate.Length(max=254),
        metadata={"description": "Email or name prefix, case-insensitive."},
    )
    status = fields.String(validate=validate.OneOf(STATUSES))


class AuditQuerySchema(PageQuerySchema):
    """GET /admin/audit-events."""

    user_id = fields.UUID()
    type = fields.String(validate=EVENT_TYPE)
    since = fields.AwareDateTime(metadata={"description": "From this time on."})
    until = fields.AwareDateTime(metadata={"description": "Before this time."})


class AdminUserSchema(UserSchema):
    """A user as admins see it: the profile, its status and role."""

    active = fields.Boolean(dump_only=True, attribute="is_active")
    deletion_pending = fields.Boolean(
        dump_only=True,
        metadata={
            "description": "The owner deleted the account and it waits for the purge "
            "(ACCOUNT_DELETION_GRACE_DAYS); not a deactivation."
        },
    )
    role = fields.String(
        dump_only=True, metadata={"enum": list(ROLES)}, validate=validate.OneOf(ROLES)
    )


class SecondFactorsSchema(CamelSchema):
    mfa_enabled = fields.Boolean(required=True)
    passkeys = fields.Integer(required=True)


class AdminUserDetailSchema(AdminUserSchema):
    second_factors = fields.Nested(SecondFactorsSchema, dump_only=True)
    active_sessions = fields.Integer(dump_only=True)
    last_sign_in_at = UTCDateTimeField(dump_only=True, allow_none=True)


class AdminUserListSchema(CamelSchema):
    users = fields.List(fields.Nested(AdminUserSchema), required=True)
    next_cursor = next_cursor_field()


class AdminUserDataSchema(CamelSchema):
    user = fields.Nested(AdminUserDetailSchema, required=True)


class ActorSchema(CamelSchema):
    type = fields.String(required=True, attribute="actor_type")
    id = fields.String(required=True, allow_none=True, attribute="actor_id")


class AuditEventSchema(CamelSchema):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    occurred_at = UTCDateTimeField(required=True)
    user_id = fields.String(required=True, allow_none=True)
    actor = fields.Function(
        lambda row: ActorSchema().dump(row), metadata={"type": "object"}
    )
    session_id = fields.String(required=True, allow_none=True)
    ip = fields.String(required=True, allow_none=True)
    user_agent = fields.String(required=True, allow_none=True)
    request_id = fields.String(required=True, allow_none=True)
    details = fields.Dict(required=True)


class AuditEventListSchema(CamelSchema):
    events = fields.List(fields.Nested(AuditEventSchema), required=True)
    next_cursor = next_cursor_field()


class RevokedSchema(CamelSchema):
    revoked = fields.Integer(
        required=True, metadata={"description": "How many sessions were ended."}
    )
