"""The cookies of browser sessions and devices: names, paths, attributes."""

from flask import current_app

from app.auth.csrf import session_csrf_value
from app.auth.devices import DEVICE_COOKIE, device_ttl

REFRESH_COOKIE = "refresh_token"
REFRESH_COOKIE_PATH = "/api/v1/auth"
CSRF_COOKIE = "csrf_refresh_token"
# The SPA reads the CSRF cookie from its own pages, so it covers every path.
CSRF_COOKIE_PATH = "/"
# Sent with logins and password changes only; it outlives sessions (logout keeps it).
DEVICE_COOKIE_PATH = "/api/v1/auth"


def cookie_attributes():
    config = current_app.config
    return {
        "secure": config["COOKIE_SECURE"],
        "samesite": config["COOKIE_SAMESITE"],
        "domain": config["COOKIE_DOMAIN"],
    }


def set_session_cookies(response, issued):
    """The HttpOnly refresh cookie and the JS-readable CSRF cookie of a session."""
    attributes = cookie_attributes()
    max_age = issued.refresh_expires_in
    response.set_cookie(
        REFRESH_COOKIE,
        issued.refresh_token,
        max_age=max_age,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        **attributes,
    )
    if current_app.config["CSRF_PROTECT"]:
        response.set_cookie(
            CSRF_COOKIE,
            session_csrf_value(issued.session_id),
            max_age=max_age,
            path=CSRF_COOKIE_PATH,
            httponly=False,
            **attributes,
        )
    if issued.device_token:
        response.set_cookie(
            DEVICE_COOKIE,
            issued.device_token,
            max_age=device_ttl(),
            path=DEVICE_COOKIE_PATH,
            httponly=True,
            **attributes,
        )
    return response


def clear_session_cookies(response):
    """Expire both session cookies (same name, path and domain, so the browser drops
    them); the device cookie stays: the device remains known after a logout."""
    attributes = cookie_attributes()
    response.set_cookie(
        REFRESH_COOKIE,
        "",
        expires=0,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        **attributes,
    )
    response.set_cookie(
        CSRF_COOKIE, "", expires=0, path=CSRF_COOKIE_PATH, httponly=False, **attributes
    )
    return response
