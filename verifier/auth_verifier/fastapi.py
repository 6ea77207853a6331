"""FastAPI dependency: `claims: dict = Depends(token_claims(verifier))`."""

from fastapi import HTTPException, Request

from auth_verifier.bearer import bearer_token
from auth_verifier.core import TokenRejected


def token_claims(verifier):
    """A dependency answering the verified claims, else 401 (WWW-Authenticate)."""

    # async: the check is in memory, no thread of the pool is needed for it.
    async def dependency(request: Request) -> dict:
        token = bearer_token(request.headers.get("authorization"))
        try:
            if token is None:
                raise TokenRejected("missing")
            return verifier.verify(token)
        except TokenRejected as rejected:
            raise HTTPException(
                status_code=401,
                detail={"error": "invalid_token", "reason": rejected.reason},
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None

    return dependency
