"""User input and output schemas."""

from urllib.parse import urlsplit

from marshmallow import ValidationError, fields, validate, validates, validates_schema

from app.schemas.base import CamelSchema, TrimmedText, UTCDateTimeField

NAME_LENGTH = validate.Length(min=1, max=100)


class UserSchema(CamelSchema):
    """The user object of API.md; nothing internal."""

    id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    email = fields.String(dump_only=True)
    profile_picture = fields.String(dump_only=True, allow_none=True)
    email_verified = fields.Boolean(dump_only=True)
    created_at = UTCDateTimeField(dump_only=True)
    updated_at = UTCDateTimeField(dump_only=True)


class UpdateProfileSchema(CamelSchema):
    """PATCH /users/me: any of name and profilePicture."""

    name = TrimmedText(validate=NAME_LENGTH)
    profile_picture = TrimmedText(allow_none=True, validate=validate.Length(max=2048))

    @validates("profile_picture")
    def _http_url(self, value, **kwargs):
        if value is None or value == "":
            return
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. "http://[" (an unclosed IPv6 literal)
            raise ValidationError("Must be an http or https URL.") from None
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValidationError("Must be an http or https URL.")

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Provide name or profilePicture.")


user_schema = UserSchema()
# Login answers with the user's fields next to the tokens (API.md).
login_profile_schema = UserSchema(
    only=("id", "name", "email", "profile_picture", "email_verified")
)
