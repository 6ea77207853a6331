"""FastAPI mock-auth profile (`COMPAT_PROFILES=fastapi-mock`): /api/auth/*.

Tokens at the top level (`access_token`, `token_type: "bearer"`, `expires_in`);
errors as FastAPI answers them (`{"detail": ...}`, 422 for a body it cannot take).
The refresh answer has no field for a new refresh token: sessions do not rotate.
The access tokens are the server's own: with HS256 a downstream verifies them with
the shared JWT_SECRET_KEY and the audience (docs/compat.md). In development with
DEV_MOCK, `dev_bp` adds the user list and the reset to the seeded users.
"""

from flask import Blueprint, g

from app.auth.principal import access_token_required
from app.compat import accounts
from app.compat.answers import plain_json, snake_details
from app.openapi.declare import ACCESS, body, operation, response
from app.schemas.compat import (
    AccessTokenSchema,
    MockCredentialsSchema,
    MockRegisterSchema,
    MockResetSchema,
    MockUserListSchema,
    MockUserSchema,
    RefreshTokenBodySchema,
    TokenPairSchema,
)
from app.users import admin

bp = Blueprint("compat_fastapi_mock", __name__)
dev_bp = Blueprint("compat_fastapi_mock_dev", __name__)
TAG = "compat: fastapi-mock"
# FastAPI answers a body it cannot parse or validate with 422.
UNPROCESSABLE = {"validation_error", "invalid_json"}
ERRORS_AS = {
    "media_type": "application/json",
    "schema": {
        "type": "object",
        "required": ["detail"],
        "properties": {
            "detail": {
                "description": "A message, or (422) a list of `{loc, msg, type}`."
            },
            "code": {"type": "string", "description": "This server's error code."},
        },
    },
}
USER = MockUserSchema()


def render_error(status, code, message, details):
    if code in UNPROCESSABLE:
        detail = [
            {"loc": ["body", field], "msg": " ".join(map(str, messages)), "type": code}
            for field, messages in snake_details(details or {}).items()
        ] or [{"loc": ["body"], "msg": message, "type": code}]
        answer = plain_json({"detail": detail, "code": code}, 422)
    else:
        answer = plain_json({"detail": message, "code": code}, status)
    return answer


def mock_user(user):
    return USER.dump(
        {
            "id": str(user.id),
            "email": user.email,
            "name": user.name,
            "email_verified": user.email_verified,
            "created_at": user.created_at,
        }
    )


def token_answer(issued, *, with_refresh):
    answer = {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }
    if with_refresh:
        answer["refresh_token"] = issued.refresh_token
    return answer


@bp.post("/register")
@operation(tag=TAG, errors={409: ["email_taken"]}, errors_as=ERRORS_AS)
@response(MockUserSchema, 201, envelope=False, dump=False)
@body(MockRegisterSchema)
def mock_register(body):
    """Create an account; POST /api/auth/login next.

    `name` defaults to the email's local part. The password rules of /api/v1 apply.
    """
    name = body.pop("name", None) or accounts.name_from_email(body["email"])
    return plain_json(mock_user(accounts.register(name=name, **body)), 201)


@bp.post("/login")
@operation(
    tag=TAG,
    errors={401: ["invalid_credentials", "mfa_unsupported"], 403: ["account_disabled"]},
    errors_as=ERRORS_AS,
)
@response(TokenPairSchema, envelope=False, dump=False)
@body(MockCredentialsSchema)
def mock_login(body):
    """Log in: access and refresh token at the top level.

    The refresh token stays the same for the session's life (no rotation).
    """
    _, issued = accounts.log_in(**body, rotating=False)
    return plain_json(token_answer(issued, with_refresh=True))


@bp.post("/refresh")
@operation(
    tag=TAG,
    errors={401: ["token_invalid", "token_expired", "token_revoked"]},
    errors_as=ERRORS_AS,
)
@response(AccessTokenSchema, envelope=False, dump=False)
@body(RefreshTokenBodySchema)
def mock_refresh(body):
    """A new access token for `{"refresh_token": ...}` (which is kept)."""
    issued = accounts.refresh(body["refresh_token"])
    return plain_json(token_answer(issued, with_refresh=False))


@bp.get("/me")
@operation(tag=TAG, security=ACCESS, errors_as=ERRORS_AS, operation_id="mockMe")
@response(MockUserSchema, envelope=False, dump=False)
@access_token_required
def mock_me():
    """The caller: the user of `Authorization: Bearer <access_token>`."""
    return plain_json(mock_user(g.current_user))


@dev_bp.get("/users")
@operation(tag=TAG, errors_as=ERRORS_AS)
@response(MockUserListSchema, envelope=False, dump=False)
def mock_list_users():
    """Development with DEV_MOCK only: every account (no passwords, no tokens)."""
    users = admin.list_accounts()
    answer = {"users": [mock_user(user) for user in users], "total": len(users)}
    return plain_json(answer)


@dev_bp.delete("/users/reset")
@operation(tag=TAG, errors_as=ERRORS_AS)
@response(MockResetSchema, envelope=False, dump=False)
def mock_reset_users():
    """Development with DEV_MOCK only: back to the five seeded demo users.

    Every other account is deleted; the demo users get their documented password
    back and lose their sessions.
    """
    count = admin.reset_demo_accounts()
    return plain_json(
        {"message": "Users reset to the seeded demo users.", "users": count}
    )
