"""OAuth2 password-grant profile (`COMPAT_PROFILES=oauth2`): /auth/* and /users/me/.

Token pairs at the top level; refresh rotates (the answer carries the new refresh
token), with the reuse detection of /api/v1. Errors: `{"error": "Validation
Error", "details": {field: [messages]}}` for bad bodies, otherwise `{"error":
<HTTP reason>, "message": ...}` (409 `"Conflict"`), each with this server's `code`.
"""

from flask import Blueprint, g

from app.auth import password_services
from app.auth.principal import access_token_required
from app.compat import accounts
from app.compat.answers import NO_CONTENT, plain_json, reason, snake_details
from app.openapi.declare import ACCESS, body, operation, response
from app.schemas.compat import (
    OAuth2CredentialsSchema,
    OAuth2MessageSchema,
    OAuth2PasswordChangeSchema,
    OAuth2ProfileUpdatedSchema,
    OAuth2ProfileUpdateSchema,
    OAuth2RegisteredSchema,
    OAuth2RegisterSchema,
    OAuth2ResetConfirmSchema,
    OAuth2ResetRequestSchema,
    OAuth2UserSchema,
    RefreshTokenBodySchema,
    TokenPairSchema,
)
from app.users import services as user_services

bp = Blueprint("compat_oauth2", __name__)
TAG = "compat: oauth2"
VALIDATION = {"validation_error", "invalid_json"}
ERRORS_AS = {
    "media_type": "application/json",
    "schema": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "string",
                "description": '"Validation Error", or the '
                'HTTP reason ("Unauthorized", "Conflict", ...).',
            },
            "message": {"type": "string"},
            "details": {"type": "object", "description": "{field: [messages]}"},
            "code": {"type": "string", "description": "This server's error code."},
        },
    },
}
TOKEN_ERRORS = {401: ["token_invalid", "token_expired", "token_revoked"]}
USER = OAuth2UserSchema()


def render_error(status, code, message, details):
    if code in VALIDATION:
        fields = snake_details(details) if details else {"non_field_errors": [message]}
        return plain_json(
            {"error": "Validation Error", "details": fields, "code": code}, status
        )
    return plain_json(
        {"error": reason(status), "message": message, "code": code}, status
    )


def oauth2_user(user):
    """The profile: this server's user, `username` being the email."""
    fields = ("id", "email", "name", "profile_picture", "email_verified")
    profile = {name: getattr(user, name) for name in fields}
    timestamps = {"created_at": user.created_at, "updated_at": user.updated_at}
    return USER.dump({**profile, **timestamps, "username": user.email})


def token_pair(issued):
    return {
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }


def full_name(body):
    parts = [body.pop("first_name", ""), body.pop("last_name", "")]
    return " ".join(part for part in parts if part)


@bp.post("/auth/register/")
@operation(tag=TAG, errors={409: ["email_taken"]}, errors_as=ERRORS_AS)
@response(OAuth2RegisteredSchema, 201, envelope=False, dump=False)
@body(OAuth2RegisterSchema)
def oauth2_register(body):
    """Create an account (the email is its username); log in next.

    The password rules of /api/v1 apply; an email with an account is 409.
    """
    name = full_name(body) or accounts.name_from_email(body["email"])
    user = accounts.register(name=name, **body)
    answer = {
        "message": "User registered successfully",
        "id": str(user.id),
        "username": user.email,
        "email": user.email,
    }
    return plain_json(answer, 201)


LOGIN_DECLARATION = {
    "tag": TAG,
    "errors": {
        401: ["invalid_credentials", "mfa_unsupported"],
        403: ["account_disabled"],
    },
    "errors_as": ERRORS_AS,
}


def log_in(body):
    email = body.get("email") or body["username"]
    _, issued = accounts.log_in(email=email, password=body["password"], rotating=True)
    return plain_json(token_pair(issued))


@bp.post("/auth/jwt/create/")
@operation(**LOGIN_DECLARATION)
@response(TokenPairSchema, envelope=False, dump=False)
@body(OAuth2CredentialsSchema)
def oauth2_jwt_create(body):
    """Log in with `username` (the email) or `email`, and `password`."""
    return log_in(body)


@bp.post("/auth/token/")
@operation(**LOGIN_DECLARATION)
@response(TokenPairSchema, envelope=False, dump=False)
@body(OAuth2CredentialsSchema)
def oauth2_token(body):
    """Log in (the same as /auth/jwt/create/)."""
    return log_in(body)


@bp.post("/auth/jwt/refresh/")
@operation(tag=TAG, errors=TOKEN_ERRORS, errors_as=ERRORS_AS)
@response(TokenPairSchema, envelope=False, dump=False)
@body(RefreshTokenBodySchema)
def oauth2_refresh(body):
    """Rotate the refresh token: a new pair; the old refresh token is spent.

    Presenting a spent one again (past the grace period) revokes the session.
    """
    return plain_json(token_pair(accounts.refresh(body["refresh_token"])))


@bp.post("/auth/jwt/revoke/")
@operation(tag=TAG, errors=TOKEN_ERRORS, errors_as=ERRORS_AS)
@response(status=204, envelope=False)
@body(RefreshTokenBodySchema)
def oauth2_revoke(body):
    """Revoke a refresh token: its session ends (access tokens too)."""
    accounts.revoke(body["refresh_token"])
    return NO_CONTENT


@bp.post("/auth/logout/")
@operation(tag=TAG, errors=TOKEN_ERRORS, errors_as=ERRORS_AS)
@response(status=204, envelope=False)
@body(RefreshTokenBodySchema)
def oauth2_logout(body):
    """Log out (the same as /auth/jwt/revoke/)."""
    accounts.revoke(body["refresh_token"])
    return NO_CONTENT


RESET_MAILED = "Password reset email sent if user exists."


@bp.post("/auth/password/reset/")
@operation(tag=TAG, errors_as=ERRORS_AS)
@response(OAuth2MessageSchema, 202, envelope=False, dump=False)
@body(OAuth2ResetRequestSchema)
def oauth2_password_reset(body):
    """Mail a reset link; the same 202 whether or not the account exists."""
    password_services.request_password_reset(email=body["email"])
    return plain_json({"message": RESET_MAILED}, 202)


@bp.post("/auth/password/reset/confirm/")
@operation(
    tag=TAG,
    errors={401: ["token_invalid", "token_expired"], 403: ["account_disabled"]},
    errors_as=ERRORS_AS,
)
@response(OAuth2MessageSchema, envelope=False, dump=False)
@body(OAuth2ResetConfirmSchema)
def oauth2_password_reset_confirm(body):
    """Set a new password with the mailed token; ends every session."""
    password_services.reset_password(**body)
    return plain_json({"message": "Password reset successful."})


@bp.post("/auth/password/change/")
@operation(
    tag=TAG,
    security=ACCESS,
    errors={400: ["invalid_credentials"], 403: ["mfa_required"]},
    errors_as=ERRORS_AS,
)
@response(OAuth2MessageSchema, envelope=False, dump=False)
@access_token_required
@body(OAuth2PasswordChangeSchema)
def oauth2_password_change(body):
    """Change the password (`Authorization: Bearer <access_token>`).

    A wrong old password is 400 and counts as a failed login; other sessions end.
    """
    password_services.change_password(
        access_claims=g.access_claims,
        user=g.current_user,
        current_session_id=g.current_session_id,
        **body,
    )
    return plain_json({"message": "Password changed successfully."})


@bp.get("/users/me/")
@operation(tag=TAG, security=ACCESS, errors_as=ERRORS_AS, operation_id="oauth2GetMe")
@response(OAuth2UserSchema, envelope=False, dump=False)
@access_token_required
def oauth2_me():
    """The caller's profile (`username` is the email)."""
    return plain_json(oauth2_user(g.current_user))


@bp.patch("/users/me/")
@operation(tag=TAG, security=ACCESS, errors_as=ERRORS_AS, operation_id="oauth2UpdateMe")
@response(OAuth2ProfileUpdatedSchema, envelope=False, dump=False)
@access_token_required
@body(OAuth2ProfileUpdateSchema)
def oauth2_update_me(body):
    """Change `name` and/or `profile_picture` ("" or null removes it)."""
    user = user_services.update_profile(user=g.current_user, changes=body)
    answer = {**oauth2_user(user), "message": "Profile updated successfully."}
    return plain_json(answer)
