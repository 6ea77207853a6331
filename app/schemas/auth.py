"""Auth request and response schemas."""

from marshmallow import fields, validate

from app.schemas.base import CamelSchema, NormalizedEmail, Text, TrimmedText
from app.schemas.user import NAME_LENGTH, UserSchema

EMAIL_LENGTH = validate.Length(max=254)
# A new password's length, counted on the text as sent (what a client can check);
# app.auth.passwords refuses common ones and the email (no schema can say those).
NEW_PASSWORD_LENGTH = validate.Length(min=8, max=256)
# A password to check against the stored hash: any length that costs little.
PASSWORD_INPUT_LENGTH = validate.Length(min=1, max=1024)


class RegisterSchema(CamelSchema):
    name = TrimmedText(required=True, validate=NAME_LENGTH)
    email = NormalizedEmail(required=True, validate=EMAIL_LENGTH)
    password = Text(required=True, load_only=True, validate=NEW_PASSWORD_LENGTH)


# Device tokens are under 400 characters; the cap only keeps garbage cheap to refuse.
DEVICE_TOKEN_LENGTH = validate.Length(min=1, max=4096)
DEVICE_TOKEN_INPUT = (
    "Bearer clients: the `deviceToken` of an earlier login or registration of this "
    "account. A valid one is rate limited per device instead of per account. "
    "Browsers send the `device_token` cookie instead."
)


def device_token_input():
    return Text(
        load_only=True,
        validate=DEVICE_TOKEN_LENGTH,
        metadata={"description": DEVICE_TOKEN_INPUT},
    )


class LoginSchema(CamelSchema):
    email = NormalizedEmail(required=True, validate=EMAIL_LENGTH)
    password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)
    device_token = device_token_input()


class RefreshBodySchema(CamelSchema):
    refresh_token = fields.String(validate=validate.Length(min=1, max=4096))


# Mailed tokens are 43 characters; the cap only keeps garbage cheap to refuse.
ACCOUNT_TOKEN_LENGTH = validate.Length(min=1, max=512)


class PasswordResetRequestSchema(CamelSchema):
    email = NormalizedEmail(required=True, validate=EMAIL_LENGTH)


class PasswordResetConfirmSchema(CamelSchema):
    token = Text(required=True, load_only=True, validate=ACCOUNT_TOKEN_LENGTH)
    new_password = Text(required=True, load_only=True, validate=NEW_PASSWORD_LENGTH)


class PasswordChangeSchema(CamelSchema):
    old_password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)
    new_password = Text(required=True, load_only=True, validate=NEW_PASSWORD_LENGTH)
    device_token = device_token_input()


class EmailVerifyConfirmSchema(CamelSchema):
    token = Text(required=True, load_only=True, validate=ACCOUNT_TOKEN_LENGTH)


class VerifyResendSchema(CamelSchema):
    """POST /email/verify/resend: the address of an account waiting for its link."""

    email = NormalizedEmail(required=True, validate=EMAIL_LENGTH)


class EmailChangeSchema(CamelSchema):
    """POST /users/me/email."""

    new_email = NormalizedEmail(required=True, validate=EMAIL_LENGTH)
    password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)
    device_token = device_token_input()


class EmailChangeTokenSchema(CamelSchema):
    """The token of a confirm or revert link of an email change."""

    token = Text(required=True, load_only=True, validate=ACCOUNT_TOKEN_LENGTH)


class AccountDeletionSchema(CamelSchema):
    """DELETE /users/me: the current password."""

    password = Text(required=True, load_only=True, validate=PASSWORD_INPUT_LENGTH)
    device_token = device_token_input()


class CompromisedSchema(CamelSchema):
    """POST /compromised: the token of an alert's "This wasn't me" link."""

    token = Text(required=True, load_only=True, validate=ACCOUNT_TOKEN_LENGTH)


class EmptySchema(CamelSchema):
    """A body with no fields (an absent body is fine; any key is unknown)."""


BEARER_ONLY = "Only for sessions opened with `X-Auth-Mode: bearer`."


class TokenDataSchema(CamelSchema):
    """The token fields of every answer that issues an access token.

    The transport adds them to the answer (app.auth.transport.token_body).
    """

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


class DeviceTokenDataSchema(TokenDataSchema):
    """The token fields of a login or registration: they also name the device."""

    device_token = fields.String(
        metadata={
            "optional": True,
            "description": (
                "This device's token: send it back as `deviceToken` in later logins. "
                f"{BEARER_ONLY} Cookie sessions get the HttpOnly `device_token` "
                "cookie instead."
            ),
        }
    )


class RegisterDataSchema(DeviceTokenDataSchema):
    user = fields.Nested(UserSchema, required=True)


class LoginDataSchema(DeviceTokenDataSchema, UserSchema):
    """Login answers with the user's profile fields next to the tokens (API.md)."""

    class Meta(CamelSchema.Meta):
        # Exactly the fields login answered before two-factor sign-in existed.
        exclude = ("created_at", "updated_at", "mfa_enabled")


class MessageSchema(CamelSchema):
    message = fields.String(required=True)


class LogoutAllSchema(MessageSchema):
    revoked = fields.Integer(
        required=True, metadata={"description": "How many sessions were ended."}
    )
