"""Bodies and answers of the compatibility profiles (app/compat): snake_case keys.

The fields are the project's own (Text, NormalizedEmail, the password lengths), so
a profile refuses what /api/v1 refuses; only the key names follow the profile.
"""

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from app.schemas.auth import (
    ACCOUNT_TOKEN_LENGTH,
    EMAIL_LENGTH,
    NEW_PASSWORD_LENGTH,
    PASSWORD_INPUT_LENGTH,
)
from app.schemas.base import NormalizedEmail, Text, TrimmedText, UTCDateTimeField
from app.schemas.user import HTTP_URL, NAME_LENGTH

# Refresh tokens are under 1 KiB; the cap only keeps garbage cheap to refuse.
TOKEN_LENGTH = validate.Length(min=1, max=4096)
PASSWORDS_DIFFER = "The two passwords do not match."


class SnakeSchema(Schema):
    """Keys as written (snake_case); unknown keys are an error, as everywhere."""

    class Meta:
        unknown = RAISE


def email_field():
    return NormalizedEmail(required=True, validate=EMAIL_LENGTH)


def password_input():
    return Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)


def new_password():
    return Text(required=True, load_only=True, validate=NEW_PASSWORD_LENGTH)


class ConfirmedPassword(SnakeSchema):
    """`new_password` and, when sent, the same `new_password_confirm`."""

    new_password = new_password()
    new_password_confirm = Text(load_only=True, validate=NEW_PASSWORD_LENGTH)

    @validates_schema
    def _same(self, data, **kwargs):
        confirm = data.get("new_password_confirm")
        if confirm is not None and confirm != data.get("new_password"):
            raise ValidationError(PASSWORDS_DIFFER, "new_password_confirm")

    @post_load
    def _checked(self, data, **kwargs):
        # Only a check: the services take the new password alone.
        data.pop("new_password_confirm", None)
        return data


# Chirpy-style


class ChirpyCredentialsSchema(SnakeSchema):
    email = email_field()
    password = password_input()


class ChirpyRegisterSchema(SnakeSchema):
    email = email_field()
    password = new_password()


class ChirpyUserSchema(SnakeSchema):
    id = fields.String(required=True)
    email = fields.String(required=True)
    is_chirpy_red = fields.Boolean(required=True)
    created_at = UTCDateTimeField(required=True)
    updated_at = UTCDateTimeField(required=True)


class ChirpyLoginSchema(ChirpyUserSchema):
    token = fields.String(required=True)
    refresh_token = fields.String(required=True)


class ChirpyTokenSchema(SnakeSchema):
    token = fields.String(required=True)


# FastAPI mock-auth style and OAuth2 password-grant style


class RefreshTokenBodySchema(SnakeSchema):
    refresh_token = Text(required=True, load_only=True, validate=TOKEN_LENGTH)


class AccessTokenSchema(SnakeSchema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "bearer"})
    expires_in = fields.Integer(required=True)


class TokenPairSchema(AccessTokenSchema):
    refresh_token = fields.String(required=True)


class MockRegisterSchema(SnakeSchema):
    email = email_field()
    password = new_password()
    name = TrimmedText(validate=NAME_LENGTH)


class MockCredentialsSchema(SnakeSchema):
    email = email_field()
    password = password_input()


class MockUserSchema(SnakeSchema):
    id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    email_verified = fields.Boolean(required=True)
    created_at = UTCDateTimeField(required=True)


class MockUserListSchema(SnakeSchema):
    users = fields.List(fields.Nested(MockUserSchema), required=True)
    total = fields.Integer(required=True)


class MockResetSchema(SnakeSchema):
    message = fields.String(required=True)
    users = fields.Integer(required=True)


class OAuth2RegisterSchema(SnakeSchema):
    email = email_field()
    password = new_password()
    first_name = TrimmedText(validate=NAME_LENGTH)
    last_name = TrimmedText(validate=NAME_LENGTH)


class OAuth2RegisteredSchema(SnakeSchema):
    message = fields.String(required=True)
    id = fields.String(required=True)
    username = fields.String(required=True)
    email = fields.String(required=True)


class OAuth2CredentialsSchema(SnakeSchema):
    """`username` or `email` (both name the account's email here), and `password`."""

    username = NormalizedEmail(validate=EMAIL_LENGTH)
    email = NormalizedEmail(validate=EMAIL_LENGTH)
    password = password_input()

    @validates_schema
    def _one_name(self, data, **kwargs):
        if "username" in data and "email" in data and data["username"] != data["email"]:
            raise ValidationError("Send username or email, not two accounts.", "email")
        if "username" not in data and "email" not in data:
            raise ValidationError("This field is required.", "username")


class OAuth2ResetRequestSchema(SnakeSchema):
    email = email_field()


class OAuth2ResetConfirmSchema(ConfirmedPassword):
    token = Text(required=True, load_only=True, validate=ACCOUNT_TOKEN_LENGTH)


class OAuth2PasswordChangeSchema(ConfirmedPassword):
    old_password = password_input()


class OAuth2MessageSchema(SnakeSchema):
    message = fields.String(required=True)


class OAuth2UserSchema(SnakeSchema):
    id = fields.String(required=True)
    username = fields.String(required=True, metadata={"description": "The email."})
    email = fields.String(required=True)
    name = fields.String(required=True)
    profile_picture = fields.String(allow_none=True)
    email_verified = fields.Boolean(required=True)
    created_at = UTCDateTimeField(required=True)
    updated_at = UTCDateTimeField(required=True)


class OAuth2ProfileUpdatedSchema(OAuth2UserSchema):
    message = fields.String(required=True)


class OAuth2ProfileUpdateSchema(SnakeSchema):
    """PATCH /users/me/: the fields of PATCH /api/v1/users/me, snake_case."""

    min_fields = 1

    name = TrimmedText(validate=NAME_LENGTH)
    profile_picture = Text(
        allow_none=True, validate=[validate.Length(max=2048), HTTP_URL]
    )

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Provide name or profile_picture.")
