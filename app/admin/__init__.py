"""Admin API blueprint (/api/v1/admin): admin tokens only, every call audited."""

from flask import Blueprint

# Imported first, as the app factory would: app.auth and app.openapi import each
# other, and only this order resolves.
import app.auth  # noqa: F401

bp = Blueprint("admin", __name__)

from app.admin import routes  # noqa: E402,F401  (routes attach themselves to bp)
