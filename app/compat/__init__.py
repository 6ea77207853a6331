"""Compatibility profiles: thin adapters serving three well-known auth API shapes.

Each profile is a blueprint (or two) over the same services as /api/v1, with its
own answer and error shapes (docs/compat.md). `COMPAT_PROFILES` names the enabled
ones; with it empty (the default) none of their paths exists. `register_routes`
registers them through `enabled_blueprints`.
"""

from dataclasses import dataclass

from flask import Blueprint

from app.compat import chirpy, fastapi_mock, oauth2

CHIRPY = "chirpy"
FASTAPI_MOCK = "fastapi-mock"
OAUTH2 = "oauth2"


@dataclass(frozen=True)
class Mount:
    blueprint: Blueprint
    url_prefix: str
    render_error: object  # render(status, code, message, details) -> Response
    dev_only: bool = False  # development with DEV_MOCK only


PROFILES = {
    CHIRPY: (Mount(chirpy.bp, "/api", chirpy.render_error),),
    FASTAPI_MOCK: (
        Mount(fastapi_mock.bp, "/api/auth", fastapi_mock.render_error),
        Mount(
            fastapi_mock.dev_bp, "/api/auth", fastapi_mock.render_error, dev_only=True
        ),
    ),
    OAUTH2: (Mount(oauth2.bp, "", oauth2.render_error),),
}
# The OpenAPI tag of each profile's endpoints (listed only when the profile is on).
TAGS = {
    CHIRPY: {
        "name": chirpy.TAG,
        "description": "Compatibility profile `chirpy` (docs/compat.md): plain JSON, "
        "plain-text errors, non-rotating refresh tokens.",
    },
    FASTAPI_MOCK: {
        "name": fastapi_mock.TAG,
        "description": "Compatibility profile `fastapi-mock` (docs/compat.md): "
        "top-level tokens, `{detail}` errors, non-rotating refresh tokens.",
    },
    OAUTH2: {
        "name": oauth2.TAG,
        "description": "Compatibility profile `oauth2` (docs/compat.md): password "
        'grant shape, `{"error": ...}` errors, rotating refresh tokens.',
    },
}


def dev_mock_on(config):
    return config["APP_ENV"] == "development" and config["DEV_MOCK"]


def enabled_mounts(config):
    """The blueprints of the profiles COMPAT_PROFILES names, in its order."""
    return [
        mount
        for name in config["COMPAT_PROFILES"]
        for mount in PROFILES[name]
        if not mount.dev_only or dev_mock_on(config)
    ]


def enabled_tags(config):
    return [TAGS[name] for name in config["COMPAT_PROFILES"]]
