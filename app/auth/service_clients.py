"""The service credentials of INTROSPECTION_CLIENTS, checked once per request."""

import hmac

from flask import current_app, request

from app.http import once_per_request


def presented_credentials(authorization, form):
    """(client id, secret) from the Authorization header or the form, else None."""
    if authorization is not None and authorization.type == "basic":
        return authorization.username, authorization.password
    client_id, secret = form.get("client_id"), form.get("client_secret")
    return (client_id, secret) if client_id and secret else None


def authenticated_client(authorization, form):
    """The client id of valid INTROSPECTION_CLIENTS credentials, else None."""
    presented = presented_credentials(authorization, form)
    if presented is None:
        return None
    client_id, secret = presented
    expected = current_app.config["INTROSPECTION_CLIENTS"].get(client_id or "")
    # Compared even for unknown ids, so timing does not tell which ids exist.
    known = hmac.compare_digest(
        (expected or "\0").encode("utf-8", "surrogatepass"),
        (secret or "").encode("utf-8", "surrogatepass"),
    )
    return client_id if expected is not None and known else None


def request_client():
    """This request's introspection client (rate limits count per client)."""
    return once_per_request(
        "introspection_client",
        lambda: authenticated_client(request.authorization, request.form),
    )
