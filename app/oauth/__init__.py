"""Sign-in with OpenID Connect providers and GitHub (docs/oidc.md)."""

from flask import Blueprint

bp = Blueprint("oauth", __name__)
identities_bp = Blueprint("identities", __name__)

from app.oauth import identity_routes, routes  # noqa: E402,F401  (attach to the bps)
