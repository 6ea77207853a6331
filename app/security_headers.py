"""Security headers on every answer, errors and 429 included."""

# An API answer is data, never a page: it may load nothing and be framed by no one.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
DEFAULTS = (*HEADERS.items(), ("Content-Security-Policy", API_CSP))


def add_security_headers(response, *, hsts=None):
    """The fixed headers, the API CSP unless the view set its own, HSTS when given.

    A page that needs another policy (the Swagger UI at /docs) sets its own
    Content-Security-Policy on its response; that one is kept.
    """
    # One pass over the headers instead of a scan per name (this runs per request).
    present = {name.lower() for name in response.headers.keys()}
    for name, value in DEFAULTS:
        if name.lower() not in present:
            response.headers.add(name, value)
    if hsts:
        response.headers["Strict-Transport-Security"] = hsts
    return response


def register_security_headers(app):
    """Add the headers in an after_request hook (it runs for error answers too)."""
    max_age = app.config["HSTS_MAX_AGE"]
    # Production only: a development server on plain http://localhost must not
    # teach the browser to insist on HTTPS for that host.
    hsts = (
        f"max-age={max_age}; includeSubDomains"
        if app.config["APP_ENV"] == "production" and max_age > 0
        else None
    )
    app.after_request(lambda response: add_security_headers(response, hsts=hsts))
