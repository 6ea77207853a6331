"""ASGI middleware: `scope["auth.claims"]` (and `scope["state"]`) hold the claims."""

from auth_verifier.bearer import CLAIMS_KEY, bearer_token, refusal
from auth_verifier.core import TokenRejected


class ASGIMiddleware:
    """Refuse (401) HTTP requests without a valid token, but those of `public_paths`.

    The check is in memory, so it runs on the event loop without blocking it
    (only an unknown `kid` fetches the JWKS, at most every few seconds).
    """

    def __init__(self, app, verifier, *, public_paths=()):
        self.app = app
        self.verifier = verifier
        self.public_paths = frozenset(public_paths)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path") in self.public_paths:
            return await self.app(scope, receive, send)
        authorization = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        token = bearer_token(authorization)
        try:
            if token is None:
                raise TokenRejected("missing")
            claims = self.verifier.verify(token)
        except TokenRejected as rejected:
            status, headers, body = refusal(rejected.reason)
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return None
        scope[CLAIMS_KEY] = claims
        scope.setdefault("state", {})["auth_claims"] = claims
        return await self.app(scope, receive, send)
