"""Auth endpoints: parse with a schema, call one service, answer with the envelope.

Their rate limits are declared in app/ratelimit.py's table, not here.
"""

from flask import g

from app.auth import bp, email_verification, password_services, services, sessions
from app.auth.principal import access_token_required
from app.auth.tokens import issue_tokens
from app.auth.transport import (
    clear_cookies,
    read_presented_token,
    requested_transport,
    token_response,
)
from app.errors import success
from app.http import client_ip, load_body, user_agent
from app.schemas.auth import (
    EmailVerifyConfirmSchema,
    EmptySchema,
    LoginSchema,
    PasswordChangeSchema,
    PasswordResetConfirmSchema,
    PasswordResetRequestSchema,
    RegisterSchema,
)
from app.schemas.session import SessionSchema
from app.schemas.user import login_profile_schema, user_schema


@bp.post("/register")
def register():
    body = load_body(RegisterSchema())
    user, user_session = services.register_user(
        **body, transport=requested_transport(), user_agent=user_agent(), ip=client_ip()
    )
    return token_response(
        issue_tokens(user_session), {"user": user_schema.dump(user)}, status=201
    )


@bp.post("/login")
def login():
    body = load_body(LoginSchema())
    user, user_session = services.authenticate(
        **body, transport=requested_transport(), user_agent=user_agent(), ip=client_ip()
    )
    return token_response(issue_tokens(user_session), login_profile_schema.dump(user))


@bp.post("/refresh-token")
def refresh_token():
    presented = read_presented_token()
    refreshed = sessions.rotate_refresh_token(
        claims=presented.claims, transport=presented.transport
    )
    return token_response(issue_tokens(refreshed.session), {})


@bp.post("/logout")
def logout():
    presented = read_presented_token(allow_access=True, allow_expired=True)
    sessions.end_session_of_token(claims=presented.claims)
    return clear_cookies(success({"message": "Logged out."}))


@bp.post("/logout-all")
@access_token_required
def logout_all():
    revoked = sessions.logout_everywhere(user_id=g.current_user.id)
    return clear_cookies(
        success({"message": "Logged out of every session.", "revoked": revoked})
    )


@bp.get("/sessions")
@access_token_required
def list_sessions():
    active = sessions.list_active_sessions(user_id=g.current_user.id)
    schema = SessionSchema(current_session_id=g.current_session_id)
    return success({"sessions": schema.dump(active, many=True)})


@bp.delete("/sessions/<session_id>")
@access_token_required
def revoke_session(session_id):
    sessions.revoke_own_session(user_id=g.current_user.id, session_id=session_id)
    return success({"message": "Session revoked."})


@bp.post("/password/reset")
def request_password_reset():
    body = load_body(PasswordResetRequestSchema())
    password_services.request_password_reset(email=body["email"])
    # The same answer whether or not the account exists.
    message = "If an account exists for this email, a reset link has been sent to it."
    return success({"message": message}, 202)


@bp.post("/password/reset/confirm")
def confirm_password_reset():
    body = load_body(PasswordResetConfirmSchema())
    password_services.reset_password(**body)
    message = "Your password has been reset. Sign in with the new password."
    return success({"message": message})


@bp.post("/password/change")
@access_token_required
def change_password():
    body = load_body(PasswordChangeSchema())
    password_services.change_password(
        **body, user=g.current_user, current_session_id=g.current_session_id
    )
    message = "Password changed. Your other sessions have been signed out."
    return success({"message": message})


@bp.post("/email/verify/request")
@access_token_required
def request_email_verification():
    load_body(EmptySchema(), optional=True)
    email_verification.request_verification(user=g.current_user)
    # Already verified: the same 202 and no mail.
    message = "A verification link is on its way, unless the email is already verified."
    return success({"message": message}, 202)


@bp.post("/email/verify/confirm")
def confirm_email_verification():
    body = load_body(EmailVerifyConfirmSchema())
    user = email_verification.confirm_verification(**body)
    return success({"user": user_schema.dump(user)})
