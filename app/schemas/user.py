"""User input and output schemas."""

from marshmallow import ValidationError, fields, validate, validates_schema

from app.schemas.base import CamelSchema, Text, TrimmedText, UTCDateTimeField
from app.schemas.pagination import PageQuerySchema, next_cursor_field

NAME_LENGTH = validate.Length(min=1, max=100)
# "" (it removes the picture), or an absolute http(s) URL: the scheme, a host (or a
# bracketed IPv6 literal) with an optional port, then any path, query and fragment,
# free of white space and control characters. A regular expression rather than
# code, so that the OpenAPI document states the very rule the server applies.
NOT_IN_URL = (
    r"\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
HTTP_URL = validate.Regexp(
    r"^(?:[Hh][Tt][Tt][Pp][Ss]?://"
    rf"(?:[^{NOT_IN_URL}/?#\[\]]+|\[[0-9A-Fa-f:.]+\])"
    rf"(?:[/?#][^{NOT_IN_URL}]*)?)?$",
    error="Must be an http or https URL.",
)


class UserSchema(CamelSchema):
    """The user object of API.md; nothing internal."""

    id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    email = fields.String(dump_only=True)
    profile_picture = fields.String(dump_only=True, allow_none=True)
    email_verified = fields.Boolean(dump_only=True)
    mfa_enabled = fields.Boolean(dump_only=True)
    created_at = UTCDateTimeField(dump_only=True)
    updated_at = UTCDateTimeField(dump_only=True)


class UserDataSchema(CamelSchema):
    user = fields.Nested(UserSchema, required=True)


class UpdateProfileSchema(CamelSchema):
    """PATCH /users/me: any of name and profilePicture."""

    # At least one field; the OpenAPI document says it as `minProperties`.
    min_fields = 1

    name = TrimmedText(validate=NAME_LENGTH)
    # Not trimmed: the document's pattern and length then hold for the text as sent.
    profile_picture = Text(
        allow_none=True, validate=[validate.Length(max=2048), HTTP_URL]
    )

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if len(data) < self.min_fields:
            raise ValidationError("Provide name or profilePicture.")


class SecurityEventSchema(CamelSchema):
    """One entry of the user's security feed, in words a user understands."""

    id = fields.Integer(required=True)
    type = fields.String(required=True)
    description = fields.String(required=True)
    occurred_at = UTCDateTimeField(required=True)
    device = fields.String(
        required=True, allow_none=True, metadata={"description": "From the user agent."}
    )
    ip = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Approximate place: the client IP as stored."},
    )
    by = fields.String(
        required=True, metadata={"enum": ["you", "an administrator", "the service"]}
    )


class SecurityEventListSchema(CamelSchema):
    events = fields.List(fields.Nested(SecurityEventSchema), required=True)
    next_cursor = next_cursor_field()


class SecurityFeedQuerySchema(PageQuerySchema):
    """GET /users/me/security-events: the page only."""


class AccountDeletionDataSchema(CamelSchema):
    message = fields.String(required=True)
    deletion_pending = fields.Boolean(
        required=True,
        metadata={
            "description": "true: the account waits ACCOUNT_DELETION_GRACE_DAYS; "
            "signing in restores it. false: it is gone."
        },
    )
    purge_after = UTCDateTimeField(
        required=True,
        allow_none=True,
        metadata={"description": "When the waiting account is deleted for good."},
    )


class AccountExportSchema(CamelSchema):
    """Everything the server holds about the caller; never secrets or hashes."""

    exported_at = UTCDateTimeField(required=True)
    profile = fields.Dict(required=True)
    mfa = fields.Dict(
        required=True, metadata={"description": "enabled, enabledAt, recoveryCodesLeft"}
    )
    sessions = fields.List(fields.Dict(), required=True)
    passkeys = fields.List(
        fields.Dict(), required=True, metadata={"description": "Metadata only."}
    )
    security_events = fields.List(fields.Dict(), required=True)
