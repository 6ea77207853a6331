"""Reading and forging tokens in tests, with the server's own keys."""

import jwt as pyjwt

from app.auth.tokens import mint_access_token, mint_refresh_token


def claims_of(token):
    """A token's claims, unverified: for tests that need its sid or jti."""
    return pyjwt.decode(token, options={"verify_signature": False})


def header_of(token):
    return pyjwt.get_unverified_header(token)


def expired_access_token(app, token):
    """An authentic access token for the same session, expired 5 s ago."""
    claims = claims_of(token)
    with app.app_context():
        return mint_access_token(
            subject=claims["sub"], session_id=claims["sid"], ttl=-5
        )


def expired_refresh_token(app, token):
    """An authentic refresh token with the same jti, expired 5 s ago."""
    claims = claims_of(token)
    with app.app_context():
        return mint_refresh_token(
            subject=claims["sub"], session_id=claims["sid"], jti=claims["jti"], ttl=-5
        )
