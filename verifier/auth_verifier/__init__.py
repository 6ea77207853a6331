"""In-memory verification of the auth server's access tokens, revocations included."""

from auth_verifier.core import AuthVerifier, TokenRejected

__all__ = ["AuthVerifier", "TokenRejected"]
