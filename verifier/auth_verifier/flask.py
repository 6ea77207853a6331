"""Flask extension: `@auth.required` views see the claims in `g.auth_claims`."""

from functools import wraps

from flask import Response, g, request

from auth_verifier.bearer import CLAIMS_KEY, bearer_token, refusal
from auth_verifier.core import TokenRejected


class FlaskAuth:
    """`FlaskAuth(app, verifier)`, or `init_app` later.

    `protect_all=True` checks every request (but `public_endpoints`); otherwise
    only views decorated with `@auth.required`.
    """

    def __init__(
        self, app=None, verifier=None, *, protect_all=False, public_endpoints=()
    ):
        self.verifier = verifier
        self.protect_all = protect_all
        self.public_endpoints = frozenset(public_endpoints)
        if app is not None:
            self.init_app(app)

    def init_app(self, app, verifier=None):
        self.verifier = verifier or self.verifier
        app.extensions["auth_verifier"] = self
        if self.protect_all:
            app.before_request(self.check_request)

    def check_request(self):
        if request.endpoint in self.public_endpoints or request.method == "OPTIONS":
            return None
        return self.authenticate()

    def authenticate(self):
        """None once the request's token is verified; else the 401 answer."""
        token = bearer_token(request.headers.get("Authorization"))
        try:
            if token is None:
                raise TokenRejected("missing")
            claims = self.verifier.verify(token)
        except TokenRejected as rejected:
            status, headers, body = refusal(rejected.reason)
            return Response(body, status=status, headers=headers)
        g.auth_claims = claims
        request.environ[CLAIMS_KEY] = claims
        return None

    def required(self, view):
        @wraps(view)
        def checked(*args, **kwargs):
            refused = self.authenticate()
            return refused if refused is not None else view(*args, **kwargs)

        return checked
