"""What the route table cannot say about each endpoint: the per-operation metadata.

Keyed by (Flask endpoint, method). The builder adds what follows from these fields
(the 400/413/415 of a JSON body, the 401/403 of a token, 429 of a rate limit, 500
everywhere), so each entry names only what is particular to its endpoint.
"""

from dataclasses import dataclass, field

from app.openapi.schemas import (
    HealthSchema,
    JWKSetSchema,
    LoginDataSchema,
    LogoutAllSchema,
    MessageSchema,
    RegisterDataSchema,
    SessionListSchema,
    TokenDataSchema,
    UserDataSchema,
)
from app.schemas.auth import (
    EmailVerifyConfirmSchema,
    EmptySchema,
    LoginSchema,
    PasswordChangeSchema,
    PasswordResetConfirmSchema,
    PasswordResetRequestSchema,
    RefreshBodySchema,
    RegisterSchema,
)
from app.schemas.user import UpdateProfileSchema

# Who may call: nobody in particular, an access token, a refresh token, or either.
PUBLIC = "public"
ACCESS = "access"
REFRESH = "refresh"
REFRESH_OR_ACCESS = "refresh_or_access"

JSON = "application/json"

EXAMPLE_EMAIL = "ada@example.com"
EXAMPLE_PASSWORD = "correct horse battery staple"
EXAMPLE_USER = {
    "id": "5f0c6c1e-8b3a-4d5e-9a61-2f4b7c9d0e13",
    "name": "Ada Lovelace",
    "email": EXAMPLE_EMAIL,
    "profilePicture": None,
    "emailVerified": False,
    "createdAt": "2025-01-15T09:30:00Z",
    "updatedAt": "2025-01-15T09:30:00Z",
}
EXAMPLE_ACCESS = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI1ZjBjIn0.c2lnbmF0dXJl"
EXAMPLE_REFRESH = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXBlIjoicmVmcmVzaCJ9.c2ln"
EXAMPLE_TOKENS = {
    "accessToken": EXAMPLE_ACCESS,
    "tokenType": "Bearer",
    "expiresIn": 3600,
}
EXAMPLE_BEARER_TOKENS = {
    **EXAMPLE_TOKENS,
    "refreshToken": EXAMPLE_REFRESH,
    "refreshExpiresIn": 5184000,
}
EXAMPLE_SESSION = {
    "id": "0b7e4f2a-6c1d-4e8f-9a3b-5d2c1e0f9a87",
    "createdAt": "2025-01-15T09:30:00Z",
    "lastUsedAt": "2025-01-15T10:05:00Z",
    "expiresAt": "2025-03-16T09:30:00Z",
    "userAgent": "Mozilla/5.0",
    "ip": "203.0.113.7",
    "current": True,
}


@dataclass(frozen=True)
class Operation:
    """One documented operation; see the module docstring for what is implied."""

    summary: str
    tag: str
    description: str = ""
    security: str = PUBLIC
    body: type | None = None
    body_optional: bool = False
    body_examples: dict = field(default_factory=dict)
    status: int = 200
    data: type | None = None  # schema of the success envelope's `data`
    media_type: str = JSON
    raw: type | str | None = None  # a non-envelope answer: its schema, or "string"
    data_examples: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)  # status -> codes of this endpoint
    rate_limited: bool = False
    auth_mode: bool = False  # reads X-Auth-Mode (picks the transport)
    issues_tokens: bool = False  # Authorization header, refresh cookie
    clears_cookies: bool = False
    cache_control: str | None = None
    operation_id: str = ""
    links: dict = field(default_factory=dict)


def example(summary, value):
    return {"summary": summary, "value": value}


# Login answers with the user's fields but its timestamps (API.md).
EXAMPLE_LOGIN_PROFILE = {k: v for k, v in EXAMPLE_USER.items() if not k.endswith("At")}
# Swagger UI sends the first example: the cookie case must work as is.
REFRESH_BODY_EXAMPLES = {
    "browser": example("Cookie session: no body, the browser sends the cookie", {}),
    "mobile": example(
        "Bearer session, token in the body", {"refreshToken": EXAMPLE_REFRESH}
    ),
}


OPERATIONS = {
    ("auth.register", "POST"): Operation(
        operation_id="register",
        summary="Create an account and open a session",
        tag="auth",
        description=(
            "Opens a session in the transport picked by `X-Auth-Mode` (cookie by "
            "default). Passwords: 8 to 256 characters after NFKC normalisation, not "
            "a commonly used password, not the email; otherwise 400 "
            "`validation_error`."
        ),
        body=RegisterSchema,
        body_examples={
            "register": example(
                "A new account",
                {
                    "name": "Ada Lovelace",
                    "email": EXAMPLE_EMAIL,
                    "password": EXAMPLE_PASSWORD,
                },
            )
        },
        status=201,
        data=RegisterDataSchema,
        data_examples={
            "cookie": example(
                "Cookie transport (refresh token in the HttpOnly cookie)",
                {"user": EXAMPLE_USER, **EXAMPLE_TOKENS},
            ),
            "bearer": example(
                "Bearer transport (X-Auth-Mode: bearer)",
                {"user": EXAMPLE_USER, **EXAMPLE_BEARER_TOKENS},
            ),
        },
        errors={409: ["email_taken"]},
        rate_limited=True,
        auth_mode=True,
        issues_tokens=True,
        links={
            "login": {
                "operationId": "login",
                "description": "Log in with the credentials just registered.",
                "parameters": {"header.X-Auth-Mode": "bearer"},
                "requestBody": {
                    "email": "$request.body#/email",
                    "password": "$request.body#/password",
                },
            }
        },
    ),
    ("auth.login", "POST"): Operation(
        operation_id="login",
        data=LoginDataSchema,
        summary="Log in and open a session",
        tag="auth",
        description=(
            "A wrong email and a wrong password get the same 401 "
            "`invalid_credentials`. Rate limited per client IP and per account email."
        ),
        body=LoginSchema,
        body_examples={
            "login": example(
                "Credentials", {"email": EXAMPLE_EMAIL, "password": EXAMPLE_PASSWORD}
            )
        },
        data_examples={
            "cookie": example(
                "Cookie transport",
                {
                    **EXAMPLE_LOGIN_PROFILE,
                    **EXAMPLE_TOKENS,
                },
            ),
            "bearer": example(
                "Bearer transport (X-Auth-Mode: bearer)",
                {
                    **EXAMPLE_LOGIN_PROFILE,
                    **EXAMPLE_BEARER_TOKENS,
                },
            ),
        },
        errors={401: ["invalid_credentials"], 403: ["account_disabled"]},
        rate_limited=True,
        auth_mode=True,
        issues_tokens=True,
        links={
            "refresh": {
                "operationId": "refreshToken",
                "description": "Rotate the refresh token this login returned (bearer).",
                "requestBody": {"refreshToken": "$response.body#/data/refreshToken"},
            }
        },
    ),
    ("auth.refresh_token", "POST"): Operation(
        operation_id="refreshToken",
        data=TokenDataSchema,
        summary="Rotate the refresh token and get a new access token",
        tag="sessions",
        description=(
            "Cookie sessions send the `refresh_token` cookie (automatic) with the "
            "`X-CSRF-TOKEN` header set to the `csrf_refresh_token` cookie; no body. "
            "Bearer sessions send `Authorization: Bearer <refreshToken>` or the body "
            '`{"refreshToken": ...}`. Every refresh rotates the refresh token; '
            "presenting a rotated one revokes the session (401 `token_revoked`), "
            "except for the token rotated just before, within the grace period."
        ),
        security=REFRESH,
        body=RefreshBodySchema,
        body_optional=True,
        body_examples=REFRESH_BODY_EXAMPLES,
        data_examples={
            "cookie": example("Cookie transport", EXAMPLE_TOKENS),
            "bearer": example("Bearer transport", EXAMPLE_BEARER_TOKENS),
        },
        rate_limited=True,
        issues_tokens=True,
        links={
            "logout": {
                "operationId": "logout",
                "description": "End the session with the rotated refresh token.",
                "requestBody": {"refreshToken": "$response.body#/data/refreshToken"},
            }
        },
    ),
    ("auth.logout", "POST"): Operation(
        operation_id="logout",
        data=MessageSchema,
        summary="End the current session",
        tag="sessions",
        description=(
            "Takes the session's refresh token (cookie + `X-CSRF-TOKEN`, bearer "
            "header or body) or an access token of it; expired tokens are accepted. "
            "A token of an already-ended session still gets 200. Clears the cookies "
            "unless the request says `X-Auth-Mode: bearer`."
        ),
        security=REFRESH_OR_ACCESS,
        body=RefreshBodySchema,
        body_optional=True,
        body_examples=REFRESH_BODY_EXAMPLES,
        data_examples={"done": example("Logged out", {"message": "Logged out."})},
        clears_cookies=True,
    ),
    ("auth.logout_all", "POST"): Operation(
        operation_id="logoutAll",
        data=LogoutAllSchema,
        summary="End every session of the user",
        tag="sessions",
        security=ACCESS,
        data_examples={
            "done": example(
                "Two sessions ended",
                {"message": "Logged out of every session.", "revoked": 2},
            )
        },
        clears_cookies=True,
    ),
    ("auth.list_sessions", "GET"): Operation(
        operation_id="listSessions",
        data=SessionListSchema,
        summary="List the user's active sessions",
        tag="sessions",
        description="`current` marks the session of the access token used.",
        security=ACCESS,
        data_examples={"one": example("One session", {"sessions": [EXAMPLE_SESSION]})},
    ),
    ("auth.revoke_session", "DELETE"): Operation(
        operation_id="revokeSession",
        data=MessageSchema,
        summary="End one of the user's sessions",
        tag="sessions",
        description="Another user's session, or one already ended, is 404.",
        security=ACCESS,
        data_examples={"done": example("Revoked", {"message": "Session revoked."})},
        errors={404: ["not_found"]},
    ),
    ("auth.request_password_reset", "POST"): Operation(
        operation_id="requestPasswordReset",
        data=MessageSchema,
        summary="Mail a password reset link",
        tag="password",
        description=(
            "The same 202 whether or not an account exists for the email (no account "
            "enumeration). The link is `{FRONTEND_URL}/reset-password?token=...`."
        ),
        body=PasswordResetRequestSchema,
        body_examples={"reset": example("Reset request", {"email": EXAMPLE_EMAIL})},
        status=202,
        data_examples={
            "accepted": example(
                "Accepted",
                {
                    "message": "If an account exists for this email, a reset link "
                    "has been sent to it."
                },
            )
        },
        rate_limited=True,
    ),
    ("auth.confirm_password_reset", "POST"): Operation(
        operation_id="confirmPasswordReset",
        data=MessageSchema,
        summary="Set a new password with a reset token",
        tag="password",
        description="Single use; ends every session of the user; does not log in.",
        body=PasswordResetConfirmSchema,
        body_examples={
            "confirm": example(
                "Reset",
                {"token": "tkn_from_the_mail", "newPassword": "a new long passphrase"},
            )
        },
        data_examples={
            "done": example(
                "Reset",
                {
                    "message": "Your password has been reset. "
                    "Sign in with the new password."
                },
            )
        },
        errors={401: ["token_invalid", "token_expired"], 403: ["account_disabled"]},
    ),
    ("auth.change_password", "POST"): Operation(
        operation_id="changePassword",
        data=MessageSchema,
        summary="Change the password",
        tag="password",
        description=(
            "A wrong old password is 400 `invalid_credentials` (the caller is "
            "authenticated). Ends the user's other sessions."
        ),
        security=ACCESS,
        body=PasswordChangeSchema,
        body_examples={
            "change": example(
                "Change",
                {
                    "oldPassword": EXAMPLE_PASSWORD,
                    "newPassword": "a new long passphrase",
                },
            )
        },
        data_examples={
            "done": example(
                "Changed",
                {
                    "message": "Password changed. "
                    "Your other sessions have been signed out."
                },
            )
        },
        errors={400: ["invalid_credentials"]},
    ),
    ("auth.request_email_verification", "POST"): Operation(
        operation_id="requestEmailVerification",
        data=MessageSchema,
        summary="Mail an email verification link",
        tag="email",
        description="An already verified email gets the same 202 and no mail.",
        security=ACCESS,
        body=EmptySchema,
        body_optional=True,
        status=202,
        data_examples={
            "accepted": example(
                "Accepted",
                {
                    "message": "A verification link is on its way, unless the email "
                    "is already verified."
                },
            )
        },
    ),
    ("auth.confirm_email_verification", "POST"): Operation(
        operation_id="confirmEmailVerification",
        data=UserDataSchema,
        summary="Confirm the email with a verification token",
        tag="email",
        description="Single use.",
        body=EmailVerifyConfirmSchema,
        body_examples={"confirm": example("Confirm", {"token": "tkn_from_the_mail"})},
        data_examples={
            "verified": example(
                "Verified", {"user": {**EXAMPLE_USER, "emailVerified": True}}
            )
        },
        errors={401: ["token_invalid", "token_expired"], 403: ["account_disabled"]},
    ),
    ("users.me", "GET"): Operation(
        operation_id="getMe",
        data=UserDataSchema,
        summary="The caller's profile",
        tag="users",
        security=ACCESS,
        data_examples={"me": example("Profile", {"user": EXAMPLE_USER})},
    ),
    ("users.update_me", "PATCH"): Operation(
        operation_id="updateMe",
        data=UserDataSchema,
        summary="Change the caller's name or profile picture",
        tag="users",
        description=(
            'Any of `name` and `profilePicture` (an http(s) URL; null or "" '
            "removes it); at least one; other fields are 400 `validation_error`."
        ),
        security=ACCESS,
        body=UpdateProfileSchema,
        body_examples={
            "rename": example("Rename", {"name": "Ada King"}),
            "picture": example(
                "Set a picture", {"profilePicture": "https://example.com/ada.png"}
            ),
        },
        data_examples={
            "me": example("Profile", {"user": {**EXAMPLE_USER, "name": "Ada King"}})
        },
    ),
    ("health", "GET"): Operation(
        operation_id="health",
        data=HealthSchema,
        summary="Health of the service and its dependencies",
        tag="operations",
        description="503 `unavailable` names the failing check in `details`.",
        data_examples={
            "ok": example(
                "Healthy",
                {
                    "status": "ok",
                    "checks": {"database": "ok", "rateLimitStorage": "ok"},
                },
            )
        },
        errors={503: ["unavailable"]},
    ),
    ("metrics", "GET"): Operation(
        operation_id="metrics",
        summary="Prometheus metrics",
        tag="operations",
        description="Prometheus text format; absent when `METRICS_ENABLED=false`.",
        media_type="text/plain",
        raw="string",
    ),
    ("jwks.jwks", "GET"): Operation(
        operation_id="jwks",
        summary="The public keys that verify this server's tokens (JWK Set)",
        tag="operations",
        description=(
            "Only when tokens are signed with an asymmetric algorithm (RS256, ES256, "
            "EdDSA); 404 `not_found` with HS256. Cacheable for `JWKS_MAX_AGE` seconds."
        ),
        raw=JWKSetSchema,
        errors={404: ["not_found"]},
        cache_control="`public, max-age=<JWKS_MAX_AGE>` (300 by default).",
    ),
    ("openapi.document", "GET"): Operation(
        operation_id="openapi",
        summary="This OpenAPI 3.1 document",
        tag="documentation",
        raw="object",
    ),
    ("openapi.docs", "GET"): Operation(
        operation_id="docs",
        summary="Swagger UI for this document (served by the app; no CDN)",
        tag="documentation",
        media_type="text/html",
        raw="string",
    ),
}

TAGS = [
    {"name": "auth", "description": "Registration and login."},
    {"name": "sessions", "description": "Refresh, logout and the session list."},
    {"name": "password", "description": "Password reset and change."},
    {"name": "email", "description": "Email verification."},
    {"name": "users", "description": "The caller's profile."},
    {"name": "operations", "description": "Health, metrics and signing keys."},
    {"name": "documentation", "description": "This document and its UI."},
]
