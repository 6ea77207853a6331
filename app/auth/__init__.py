"""Auth blueprint: registration, login, sessions, passwords, email verification."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import routes  # noqa: E402,F401  (routes attach themselves to bp)
