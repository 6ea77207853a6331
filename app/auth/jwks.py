"""`GET /.well-known/jwks.json`, and the start-up wiring of the signing keys."""

import logging

from flask import Blueprint, current_app, jsonify

from app.auth.keys import (
    current_keyset,
    load_keyset,
)
from app.errors import NotFound

log = logging.getLogger(__name__)

bp = Blueprint("jwks", __name__)


@bp.get("/.well-known/jwks.json")
def jwks():
    """The public keys that verify this server's tokens, as a JWK Set (RFC 7517).

    A standard document, not an envelope: verifiers (PyJWKClient, jose, ...) read it
    as is. Public, so caches may keep it a few minutes.
    """
    keyset = current_keyset()
    if not keyset.asymmetric:
        raise NotFound(
            "No public keys: tokens are signed with a shared secret (HS256)."
        )
    response = jsonify({"keys": list(keyset.jwks)})
    max_age = current_app.config["JWKS_MAX_AGE"]
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def register_signing_keys(app):
    """Load the keys, serve the JWKS."""
    # Unusable keys stop the app; the maintenance app (`flask --app maintenance`)
    # loads none, so `auth doctor` reports them and `keys generate` makes new ones.
    keyset = load_keyset(app.config)
    app.extensions["signing_keys"] = keyset
    if keyset is not None:
        app.config["JWT_ALGORITHM"] = keyset.algorithm
    app.register_blueprint(bp)
