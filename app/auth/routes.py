"""Auth endpoints: each declares its body, answer and errors, calls one service.

Their rate limits are declared in app/ratelimit.py's table, not here.
"""

from flask import g

from app.auth import (
    bp,
    compromise,
    email_verification,
    mfa,
    password_services,
    services,
    sessions,
)
from app.auth.devices import presented_device_token
from app.auth.principal import access_token_required
from app.auth.tokens import issue_tokens
from app.auth.transport import read_presented_token, requested_transport
from app.http import client_ip, user_agent
from app.openapi import examples as ex
from app.openapi.declare import (
    ACCESS,
    REFRESH,
    REFRESH_OR_ACCESS,
    Alternative,
    body,
    operation,
    response,
)
from app.openapi.examples import example
from app.schemas.auth import (
    CompromisedSchema,
    EmailVerifyConfirmSchema,
    EmptySchema,
    LoginDataSchema,
    LoginSchema,
    LogoutAllSchema,
    MessageSchema,
    PasswordChangeSchema,
    PasswordResetConfirmSchema,
    PasswordResetRequestSchema,
    RefreshBodySchema,
    RegisterDataSchema,
    RegisterSchema,
    TokenDataSchema,
)
from app.schemas.mfa import MfaChallengeSchema
from app.schemas.session import SessionListSchema
from app.schemas.user import UserDataSchema


@bp.post("/register")
@operation(tag="auth", errors={409: ["email_taken"]}, auth_mode=True)
@response(
    RegisterDataSchema,
    201,
    tokens=True,
    examples={
        "cookie": example(
            "Cookie transport (refresh token in the HttpOnly cookie)",
            {"user": ex.USER, **ex.TOKENS},
        ),
        "bearer": example(
            "Bearer transport (X-Auth-Mode: bearer)",
            {"user": ex.USER, **ex.BEARER_LOGIN_TOKENS},
        ),
    },
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
)
@body(
    RegisterSchema,
    examples={
        "register": example(
            "A new account",
            {"name": "Ada Lovelace", "email": ex.EMAIL, "password": ex.PASSWORD},
        )
    },
)
def register(body):
    """Create an account and open a session.

    Opens a session in the transport picked by `X-Auth-Mode` (cookie by default)
    and mails a verification link (`{FRONTEND_URL}/verify-email?token=...`).
    Passwords: 8 to 256 characters as sent, not a commonly used password, not the
    email; otherwise 400 `validation_error`.
    """
    user, user_session, device_token = services.register_user(
        **body, transport=requested_transport(), user_agent=user_agent(), ip=client_ip()
    )
    return issue_tokens(user_session, device_token, role=user.role), {"user": user}


@bp.post("/login")
@operation(
    tag="auth",
    errors={
        401: ["invalid_credentials"],
        403: ["account_disabled", "email_unverified"],
    },
    auth_mode=True,
    device_cookie=True,
)
@response(
    LoginDataSchema,
    tokens=True,
    alternative=MfaChallengeSchema,
    examples={
        "cookie": example("Cookie transport", {**ex.LOGIN_PROFILE, **ex.TOKENS}),
        "bearer": example(
            "Bearer transport (X-Auth-Mode: bearer)",
            {**ex.LOGIN_PROFILE, **ex.BEARER_LOGIN_TOKENS},
        ),
        "mfa": example(
            "Two-factor sign-in on: no session yet, POST /mfa/verify next",
            ex.MFA_CHALLENGE,
        ),
    },
)
@body(
    LoginSchema,
    examples={
        "login": example("Credentials", {"email": ex.EMAIL, "password": ex.PASSWORD}),
        "device": example(
            "Credentials from a known device (bearer client)",
            {
                "email": ex.EMAIL,
                "password": ex.PASSWORD,
                "deviceToken": ex.DEVICE_TOKEN,
            },
        ),
    },
)
def login(body):
    """Log in and open a session.

    A wrong email and a wrong password get the same 401 `invalid_credentials`.
    Rate limited per client IP (every attempt) and per account email (wrong
    passwords only). A device that signed in to the account before presents its
    device token (the `device_token` cookie, or `deviceToken` in the body) and is
    limited per device instead of per account, so guessing from elsewhere does not
    lock it out. Every login answers with a renewed device token.

    An account with two-factor sign-in gets no session and no cookie yet: the
    answer is `{mfaRequired: true, mfaToken, mfaTokenExpiresIn, methods}`, and
    POST /mfa/verify with the code finishes the login.

    With `REQUIRE_EMAIL_VERIFICATION`, an account whose email is not confirmed is
    403 `email_unverified` (after the password check). Signing in to an account
    waiting for deletion (`ACCOUNT_DELETION_GRACE_DAYS`) restores it.
    """
    outcome = services.authenticate(
        email=body["email"],
        password=body["password"],
        device_token=presented_device_token(body.get("device_token")),
        transport=requested_transport(),
        user_agent=user_agent(),
        ip=client_ip(),
    )
    if isinstance(outcome, mfa.Challenge):
        return Alternative(outcome)
    user, user_session, device_token = outcome
    return issue_tokens(user_session, device_token, role=user.role), user


@bp.post("/refresh-token")
@operation(tag="sessions", security=REFRESH, errors={403: ["email_unverified"]})
@response(
    TokenDataSchema,
    tokens=True,
    examples={
        "cookie": example("Cookie transport", ex.TOKENS),
        "bearer": example("Bearer transport", ex.BEARER_TOKENS),
    },
)
@body(RefreshBodySchema, optional=True, examples=ex.REFRESH_BODY, load=False)
def refresh_token():
    """Rotate the refresh token and get a new access token.

    Cookie sessions send the `refresh_token` cookie (automatic) with the
    `X-CSRF-TOKEN` header set to the `csrf_refresh_token` cookie; no body. Bearer
    sessions send `Authorization: Bearer <refreshToken>` or the body
    `{"refreshToken": ...}`. Every refresh rotates the refresh token; presenting a
    rotated one revokes the session (401 `token_revoked`), except for the token
    rotated just before, within the grace period. With
    `REQUIRE_EMAIL_VERIFICATION`, an unconfirmed account is 403 `email_unverified`.
    """
    presented = read_presented_token()
    refreshed = sessions.rotate_refresh_token(
        claims=presented.claims, transport=presented.transport
    )
    session = refreshed.session
    return issue_tokens(session, role=session.user_role), {}


@bp.post("/logout")
@operation(tag="sessions", security=REFRESH_OR_ACCESS)
@response(
    MessageSchema,
    clears_cookies=True,
    examples={"done": example("Logged out", {"message": "Logged out."})},
)
@body(RefreshBodySchema, optional=True, examples=ex.REFRESH_BODY, load=False)
def logout():
    """End the current session.

    Takes the session's refresh token (cookie + `X-CSRF-TOKEN`, bearer header or
    body) or an access token of it; expired tokens are accepted. A token of an
    already-ended session still gets 200. Clears the cookies unless the request
    says `X-Auth-Mode: bearer`.
    """
    presented = read_presented_token(allow_access=True, allow_expired=True)
    sessions.end_session_of_token(claims=presented.claims)
    return {"message": "Logged out."}


@bp.post("/logout-all")
@operation(tag="sessions", security=ACCESS)
@response(
    LogoutAllSchema,
    clears_cookies=True,
    examples={
        "done": example(
            "Two sessions ended",
            {"message": "Logged out of every session.", "revoked": 2},
        )
    },
)
@access_token_required
def logout_all():
    """End every session of the user.

    Every refresh token of the user stops working, on every device; access tokens
    already issued are refused from the next request on. Clears the cookies unless
    the request says `X-Auth-Mode: bearer`.
    """
    revoked = sessions.logout_everywhere(
        user_id=g.current_user.id, session_id=g.current_session_id
    )
    return {"message": "Logged out of every session.", "revoked": revoked}


@bp.get("/sessions")
@operation(tag="sessions", security=ACCESS)
@response(
    SessionListSchema,
    examples={"one": example("One session", {"sessions": [ex.SESSION]})},
)
@access_token_required
def list_sessions():
    """List the user's active sessions.

    `current` marks the session of the access token used.
    """
    return {"sessions": sessions.list_active_sessions(user_id=g.current_user.id)}


@bp.delete("/sessions/<session_id>")
@operation(tag="sessions", security=ACCESS, errors={404: ["not_found"]})
@response(
    MessageSchema,
    examples={"done": example("Revoked", {"message": "Session revoked."})},
)
@access_token_required
def revoke_session(session_id):
    """End one of the user's sessions.

    Another user's session, or one already ended, is 404.
    """
    sessions.revoke_own_session(user_id=g.current_user.id, session_id=session_id)
    return {"message": "Session revoked."}


RESET_MAILED = "If an account exists for this email, a reset link has been sent to it."


@bp.post("/password/reset")
@operation(tag="password")
@response(
    MessageSchema,
    202,
    examples={"accepted": example("Accepted", {"message": RESET_MAILED})},
)
@body(
    PasswordResetRequestSchema,
    examples={"reset": example("Reset request", {"email": ex.EMAIL})},
)
def request_password_reset(body):
    """Mail a password reset link.

    The same 202 whether or not an account exists for the email (no account
    enumeration). The link is `{FRONTEND_URL}/reset-password?token=...`.
    """
    password_services.request_password_reset(email=body["email"])
    return {"message": RESET_MAILED}


RESET_DONE = "Your password has been reset. Sign in with the new password."


@bp.post("/password/reset/confirm")
@operation(
    tag="password",
    errors={401: ["token_invalid", "token_expired"], 403: ["account_disabled"]},
)
@response(MessageSchema, examples={"done": example("Reset", {"message": RESET_DONE})})
@body(
    PasswordResetConfirmSchema,
    examples={
        "confirm": example(
            "Reset", {"token": ex.MAILED_TOKEN, "newPassword": ex.NEW_PASSWORD}
        )
    },
)
def confirm_password_reset(body):
    """Set a new password with a reset token.

    Single use; ends every session of the user; does not log in. The new password
    follows the rules of registration.
    """
    password_services.reset_password(**body)
    return {"message": RESET_DONE}


PASSWORD_CHANGED = "Password changed. Your other sessions have been signed out."


@bp.post("/password/change")
@operation(
    tag="password",
    security=ACCESS,
    errors={
        400: ["invalid_credentials"],
        403: ["mfa_required", "reauthentication_required"],
    },
    device_cookie=True,
)
@response(
    MessageSchema,
    examples={"done": example("Changed", {"message": PASSWORD_CHANGED})},
)
@access_token_required
@body(
    PasswordChangeSchema,
    examples={
        "change": example(
            "Change", {"oldPassword": ex.PASSWORD, "newPassword": ex.NEW_PASSWORD}
        )
    },
)
def change_password(body):
    """Change the password.

    A wrong old password is 400 `invalid_credentials` (the caller is
    authenticated); it counts as a failed login of the account and the client IP,
    and the login limits apply (429 `rate_limited`), per device with a device
    token. The new password follows the rules of registration. Ends the user's
    other sessions. With two-factor sign-in on, the access token must show a
    second factor within `MFA_STEP_UP_TTL` (else 403 `mfa_required`: POST
    /mfa/step-up first). An account without a password (made by a provider
    sign-in) sets its first one here with any non-empty `oldPassword` from a
    session of a provider sign-in within `MFA_STEP_UP_TTL` (else 403
    `reauthentication_required`).
    """
    password_services.change_password(
        access_claims=g.access_claims,
        old_password=body["old_password"],
        new_password=body["new_password"],
        user=g.current_user,
        current_session_id=g.current_session_id,
    )
    return {"message": PASSWORD_CHANGED}


VERIFICATION_SENT = (
    "A verification link is on its way, unless the email is already verified."
)


@bp.post("/email/verify/request")
@operation(tag="email", security=ACCESS)
@response(
    MessageSchema,
    202,
    examples={"accepted": example("Accepted", {"message": VERIFICATION_SENT})},
)
@access_token_required
@body(EmptySchema, optional=True)
def request_email_verification(body):
    """Mail an email verification link.

    An already verified email gets the same 202 and no mail. Rate limited per user
    (a cooldown between requests and an hourly cap) and per client IP.
    """
    email_verification.request_verification(user=g.current_user)
    return {"message": VERIFICATION_SENT}


@bp.post("/email/verify/confirm")
@operation(
    tag="email",
    errors={401: ["token_invalid", "token_expired"], 403: ["account_disabled"]},
)
@response(
    UserDataSchema,
    examples={
        "verified": example("Verified", {"user": {**ex.USER, "emailVerified": True}})
    },
)
@body(
    EmailVerifyConfirmSchema,
    examples={"confirm": example("Confirm", {"token": ex.MAILED_TOKEN})},
)
def confirm_email_verification(body):
    """Confirm the email with a verification token.

    Single use.
    """
    return {"user": email_verification.confirm_verification(**body)}


COMPROMISE_DONE = (
    "Every session of the account was signed out; a link to set a new password is on "
    "its way."
)


@bp.post("/compromised")
@operation(
    tag="auth",
    errors={401: ["token_invalid", "token_expired"], 403: ["account_disabled"]},
)
@response(
    LogoutAllSchema,
    examples={"done": example("Reported", {"message": COMPROMISE_DONE, "revoked": 2})},
)
@body(
    CompromisedSchema,
    examples={"report": example("This wasn't me", {"token": ex.MAILED_TOKEN})},
)
def report_compromise(body):
    """Report a security alert as "This wasn't me".

    The token of the alert's link (`{FRONTEND_URL}/this-wasnt-me?token=...`):
    single use, expiring. Ends every session of the account, voids its outstanding
    password-reset and verification links, and mails a password-reset link.
    """
    return {"message": COMPROMISE_DONE, "revoked": compromise.report_compromise(**body)}
