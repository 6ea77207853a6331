"""WSGI middleware: `environ["auth.claims"]` holds the verified token's claims."""

from auth_verifier.bearer import CLAIMS_KEY, bearer_token, refusal
from auth_verifier.core import TokenRejected


class WSGIMiddleware:
    """Refuse (401) requests without a valid token, but those of `public_paths`."""

    def __init__(self, app, verifier, *, public_paths=()):
        self.app = app
        self.verifier = verifier
        self.public_paths = frozenset(public_paths)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "") in self.public_paths:
            return self.app(environ, start_response)
        token = bearer_token(environ.get("HTTP_AUTHORIZATION"))
        try:
            if token is None:
                raise TokenRejected("missing")
            environ[CLAIMS_KEY] = self.verifier.verify(token)
        except TokenRejected as rejected:
            status, headers, body = refusal(rejected.reason)
            start_response(f"{status} Unauthorized", headers)
            return [body]
        return self.app(environ, start_response)
