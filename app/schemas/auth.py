"""Auth request and response schemas."""

from marshmallow import fields, validate

from app.schemas.base import CamelSchema, NormalizedEmail, Text, TrimmedText
from app.schemas.user import NAME_LENGTH

EMAIL_LENGTH = validate.Length(max=254)
# Policy (8..256 after NFKC) is checked by the password module; this only caps the work.
PASSWORD_INPUT_LENGTH = validate.Length(min=1, max=1024)


class RegisterSchema(CamelSchema):
    name = TrimmedText(required=True, validate=NAME_LENGTH)
    email = NormalizedEmail(required=True, validate=EMAIL_LENGTH)
    password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)


class LoginSchema(CamelSchema):
    email = NormalizedEmail(required=True, validate=EMAIL_LENGTH)
    password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)


class RefreshBodySchema(CamelSchema):
    refresh_token = fields.String(validate=validate.Length(min=1, max=4096))


# Mailed tokens are 43 characters; the cap only keeps garbage cheap to refuse.
ACCOUNT_TOKEN_LENGTH = validate.Length(min=1, max=512)


class PasswordResetRequestSchema(CamelSchema):
    email = NormalizedEmail(required=True, validate=EMAIL_LENGTH)


class PasswordResetConfirmSchema(CamelSchema):
    token = Text(required=True, load_only=True, validate=ACCOUNT_TOKEN_LENGTH)
    new_password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)


class PasswordChangeSchema(CamelSchema):
    old_password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)
    new_password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)


class EmailVerifyConfirmSchema(CamelSchema):
    token = Text(required=True, load_only=True, validate=ACCOUNT_TOKEN_LENGTH)


class EmptySchema(CamelSchema):
    """A body with no fields (an absent body is fine; any key is unknown)."""
