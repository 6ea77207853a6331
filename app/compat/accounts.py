"""What every profile does with the services of /api/v1: log in, refresh, revoke.

No rule lives here: authentication, limits, MFA, revocation and audit are the
services'. Sessions are bearer sessions (the profiles carry tokens in bodies and
headers, never cookies); `rotating` says whether the profile's refresh answer has a
field for a new refresh token.
"""

from app.auth import mfa, services, sessions
from app.auth.tokens import REFRESH_TOKEN_TYPE, issue_tokens, verify_token
from app.errors import MfaUnsupported
from app.http import client_ip, user_agent
from app.models.session import TRANSPORT_BEARER

REFRESH_ONLY = frozenset({REFRESH_TOKEN_TYPE})


def log_in(*, email, password, rotating):
    """(user, IssuedTokens) of a password login; MFA accounts get 401 mfa_unsupported.

    The profiles' APIs have no second step, so a login that needs one stops here
    (the challenge it began expires unused).
    """
    outcome = services.authenticate(
        email=email,
        password=password,
        device_token=None,
        transport=TRANSPORT_BEARER,
        user_agent=user_agent(),
        ip=client_ip(),
        rotating=rotating,
    )
    if isinstance(outcome, mfa.Challenge):
        raise MfaUnsupported()
    user, user_session, _ = outcome
    return user, issue_tokens(user_session, role=user.role)


def refresh(encoded):
    """New tokens for a refresh token (rotated only if its session rotates)."""
    claims = verify_token(encoded, kinds=REFRESH_ONLY).claims
    refreshed = sessions.rotate_refresh_token(claims=claims, transport=TRANSPORT_BEARER)
    session = refreshed.session
    return issue_tokens(session, role=session.user_role)


def revoke(encoded):
    """End the session of a refresh token (expired ones too, as /logout does)."""
    claims = verify_token(encoded, kinds=REFRESH_ONLY, allow_expired=True).claims
    sessions.end_session_of_token(claims=claims)


def register(*, name, email, password):
    """A new account without a session (the profiles log in next)."""
    return services.register_account(name=name, email=email, password=password)


def name_from_email(email):
    """A display name for APIs whose registration has none: the address's local part."""
    return email.split("@", 1)[0][:100] or email[:100]
