"""Declarations of views whose modules this change leaves alone (app/auth/jwks.py).

They belong on the view, as everywhere else; until they move there, this module
applies them to the view function itself (documentation only: no wrapper).
"""

from app.auth import jwks
from app.openapi.declare import operation, response
from app.schemas.jwks import JWKSetSchema


def declare_pending_views():
    operation(
        tag="operations",
        errors={404: ["not_found"]},
        summary="The public keys that verify this server's tokens (JWK Set)",
        description=(
            "A standard RFC 7517 document, not an envelope: verifiers (PyJWKClient, "
            "jose, ...) read it as is. Only when tokens are signed with an "
            "asymmetric algorithm (RS256, ES256, EdDSA); 404 `not_found` with "
            "HS256. Cacheable for `JWKS_MAX_AGE` seconds."
        ),
    )(jwks.jwks)
    response(
        JWKSetSchema,
        envelope=False,
        cache_control="`public, max-age=<JWKS_MAX_AGE>` (300 by default).",
        dump=False,
    )(jwks.jwks)
