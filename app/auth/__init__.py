"""Auth blueprint: registration, login, sessions, passwords, email verification."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

# routes attach themselves to bp.
from app.auth import (  # noqa: E402,F401
    account_mail,
    introspection_routes,
    mfa_routes,
    password_services,
    routes,
)
from app.outbox import register_preparer  # noqa: E402


@bp.record_once
def register_mail_preparers(state):
    """The outbox sender turns reset requests into mails (or none)."""
    register_preparer(
        state.app,
        account_mail.KIND_PASSWORD_RESET,
        password_services.prepare_password_reset,
    )
