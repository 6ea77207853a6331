"""CORS through flask-cors: an exact allowlist of origins, credentials only for them."""

import re

from flask_cors import CORS

ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-CSRF-TOKEN",
    "X-Auth-Mode",
    "X-Request-ID",
]
EXPOSE_HEADERS = ["Authorization", "X-Request-ID", "Retry-After"]
METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"]
PREFLIGHT_MAX_AGE = 600
# scheme://host[:port], nothing else: no path, no wildcard, no regular expression.
ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def checked_origins(origins):
    """The allowlist, or ValueError naming an entry that is not one exact origin.

    flask-cors reads entries with `*`, `?`, `$`... as regular expressions, and `*`
    or `null` would let any page (or a sandboxed one) in with credentials.
    """
    exact = []
    for entry in origins:
        origin = entry.removesuffix("/")
        if not ORIGIN_PATTERN.match(origin):
            raise ValueError(
                f"CORS_ORIGINS: {entry!r} is not an exact origin "
                "(scheme://host[:port]; no '*', no 'null', no path)"
            )
        exact.append(origin.lower())
    return exact


def add_vary_origin(response):
    # Answers differ by Origin (allowed or not), so shared caches must key on it.
    # flask-cors adds it only when several origins are configured; always here.
    # (By hand: werkzeug's `response.vary` set re-serialises the header per call.)
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Origin"
    elif "origin" not in {item.strip().lower() for item in vary.split(",")}:
        response.headers["Vary"] = f"{vary}, Origin"
    return response


def register_cors(app):
    """CORS headers for allowlisted origins only; every other origin gets none."""
    origins = checked_origins(app.config["CORS_ORIGINS"])
    app.after_request(add_vary_origin)
    if not origins:
        return
    CORS(
        app,
        origins=origins,
        supports_credentials=True,
        allow_headers=ALLOW_HEADERS,
        expose_headers=EXPOSE_HEADERS,
        methods=METHODS,
        max_age=PREFLIGHT_MAX_AGE,
        # A response without an Origin request header lists no origins.
        always_send=False,
        send_wildcard=False,
        vary_header=False,
        # Error answers pass through after_request anyway; no handler patching.
        intercept_exceptions=False,
    )
