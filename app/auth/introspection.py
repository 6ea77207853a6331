"""Token introspection (RFC 7662) for services that prefer a call to the verifier.

Callers authenticate with a service credential of INTROSPECTION_CLIENTS, by HTTP
Basic (`client_secret_basic`) or the form fields `client_id`/`client_secret`
(`client_secret_post`). Whatever is wrong (no or bad credentials, a malformed
body, a refresh or MFA token, a forged, expired or revoked one) answers the same
`{"active": false}`: an unauthenticated caller learns nothing, not even that its
credentials were refused.
"""

from app.auth import sessions
from app.auth.tokens import ACCESS_TOKEN_TYPE, verify_token
from app.errors import ApiError

INACTIVE = {"active": False}
# Claims answered besides `active`: the access token's own (RFC 7662 section 2.2).
ANSWERED_CLAIMS = (
    "iss", "sub", "aud", "exp", "iat", "jti", "sid", "role", "amr", "acr", "auth_time",
)  # fmt: skip
MAX_FIELD_LENGTH = 4096


def introspect(*, client_id, form):
    """RFC 7662 answer for the form's `token`: its claims if active, else inactive."""
    token = form.get("token")
    if client_id is None or not isinstance(token, str):
        return INACTIVE
    if len(token) > MAX_FIELD_LENGTH:
        return INACTIVE
    try:
        claims = verify_token(token, kinds={ACCESS_TOKEN_TYPE}).claims
        if not sessions.session_is_live(claims=claims):
            return INACTIVE
    except ApiError:
        return INACTIVE
    answer = {"active": True, "token_type": "access_token", "client_id": client_id}
    answer.update({name: claims[name] for name in ANSWERED_CLAIMS if name in claims})
    return answer
