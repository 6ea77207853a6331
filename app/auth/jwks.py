"""`GET /.well-known/jwks.json`, and the start-up wiring of the signing keys."""

import logging

from flask import Blueprint, current_app, jsonify

from app.auth.keys import current_keyset, load_keyset
from app.errors import NotFound
from app.openapi.declare import operation, response
from app.schemas.jwks import JWKSetSchema

log = logging.getLogger(__name__)

bp = Blueprint("jwks", __name__)


@bp.get("/.well-known/jwks.json")
@operation(tag="operations", errors={404: ["not_found"]})
@response(
    JWKSetSchema,
    envelope=False,
    cache_control="`public, max-age=<JWKS_MAX_AGE>` (300 by default).",
    dump=False,
)
def jwks():
    """The public keys that verify this server's tokens (JWK Set).

    A standard RFC 7517 document, not an envelope: verifiers (PyJWKClient, jose, ...)
    read it as is. Only when tokens are signed with an asymmetric algorithm (RS256,
    ES256, EdDSA); 404 `not_found` with HS256. Cacheable for `JWKS_MAX_AGE` seconds.
    Access tokens carry `typ: at+jwt`, `iss` (`JWT_ISSUER`) and `aud`
    (`JWT_AUDIENCE`): check all three, and `exp`. Refresh tokens are signed with a
    key that is never published here.
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
    """Load the signing keys once, at start-up."""
    # Unusable keys stop the app; the maintenance app (`flask --app maintenance`)
    # loads none, so `auth doctor` reports them and `keys generate` makes new ones.
    keyset = load_keyset(app.config)
    app.extensions["signing_keys"] = keyset
    if keyset is not None:
        app.config["JWT_ALGORITHM"] = keyset.algorithm
