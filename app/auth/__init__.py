"""Auth blueprint: registration, login, sessions, passwords, email verification."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

# routes attach themselves to bp.
from app.auth import (  # noqa: E402,F401
    account_mail,
    email_verification,
    introspection_routes,
    lifecycle_routes,
    mfa_routes,
    passkey_routes,
    password_services,
    routes,
)
from app.outbox import register_preparer  # noqa: E402


@bp.record_once
def register_mail_preparers(state):
    """The outbox sender turns reset and resend requests into mails (or none)."""
    register_preparer(
        state.app,
        account_mail.KIND_PASSWORD_RESET,
        password_services.prepare_password_reset,
    )
    register_preparer(
        state.app,
        account_mail.KIND_VERIFY_RESEND,
        email_verification.prepare_verification_resend,
    )
