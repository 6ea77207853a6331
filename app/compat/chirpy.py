"""Chirpy-style profile (`COMPAT_PROFILES=chirpy`): /api/login, refresh, revoke, users.

Plain JSON answers without the envelope; errors are plain text. The refresh answer
has no field for a new refresh token, so sessions do not rotate (docs/compat.md).
"""

from flask import Blueprint, Response

from app.auth.transport import bearer_token
from app.compat import accounts
from app.compat.answers import NO_CONTENT, flat_messages, plain_json
from app.openapi.declare import REFRESH, body, operation, response
from app.schemas.compat import (
    ChirpyCredentialsSchema,
    ChirpyLoginSchema,
    ChirpyRegisterSchema,
    ChirpyTokenSchema,
    ChirpyUserSchema,
)

bp = Blueprint("compat_chirpy", __name__)
TAG = "compat: chirpy"
ERRORS_AS = {"media_type": "text/plain", "schema": {"type": "string"}}
USER = ChirpyUserSchema()
LOGIN = ChirpyLoginSchema()


def render_error(status, code, message, details):
    """Chirpy's errors: the message as plain text (field errors appended)."""
    text = message
    if details:
        text = f"{message} {flat_messages(details)}"
    return Response(text, status=status, mimetype="text/plain")


def chirpy_user(user):
    return {
        "id": str(user.id),
        "email": user.email,
        # Chirpy's paid tier; this server has none.
        "is_chirpy_red": False,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


@bp.post("/users")
@operation(tag=TAG, errors={409: ["email_taken"]}, errors_as=ERRORS_AS)
@response(ChirpyUserSchema, 201, envelope=False, dump=False)
@body(ChirpyRegisterSchema)
def chirpy_create_user(body):
    """Create an account (Chirpy's POST /api/users).

    The password rules of /api/v1 apply. No session is opened: POST /api/login next.
    """
    user = accounts.register(name=accounts.name_from_email(body["email"]), **body)
    return plain_json(USER.dump(chirpy_user(user)), 201)


@bp.post("/login")
@operation(
    tag=TAG,
    errors={401: ["invalid_credentials", "mfa_unsupported"], 403: ["account_disabled"]},
    errors_as=ERRORS_AS,
)
@response(ChirpyLoginSchema, envelope=False, dump=False)
@body(ChirpyCredentialsSchema)
def chirpy_login(body):
    """Log in: the user with `token` (access) and `refresh_token`.

    The session's refresh token stays the same for its whole life (no rotation).
    """
    user, issued = accounts.log_in(**body, rotating=False)
    answer = {
        **chirpy_user(user),
        "token": issued.access_token,
        "refresh_token": issued.refresh_token,
    }
    return plain_json(LOGIN.dump(answer))


@bp.post("/refresh")
@operation(tag=TAG, security=REFRESH, errors_as=ERRORS_AS)
@response(ChirpyTokenSchema, envelope=False, dump=False)
def chirpy_refresh():
    """A new access token for `Authorization: Bearer <refresh_token>`.

    The refresh token is kept (not rotated); revoked or expired ones are 401.
    """
    issued = accounts.refresh(bearer_token())
    return plain_json({"token": issued.access_token})


@bp.post("/revoke")
@operation(tag=TAG, security=REFRESH, errors_as=ERRORS_AS)
@response(status=204, envelope=False)
def chirpy_revoke():
    """Revoke the refresh token of `Authorization: Bearer <refresh_token>`.

    Ends its session: its access tokens are refused from the next request on.
    """
    accounts.revoke(bearer_token())
    return NO_CONTENT
