"""Profile endpoints."""

from flask import g

from app.auth.principal import access_token_required
from app.openapi import examples as ex
from app.openapi.declare import ACCESS, body, operation, query, response
from app.openapi.examples import example
from app.schemas.user import (
    SecurityEventListSchema,
    SecurityFeedQuerySchema,
    UpdateProfileSchema,
    UserDataSchema,
)
from app.users import bp, security_feed, services


@bp.get("/me")
@operation(tag="users", security=ACCESS, operation_id="getMe")
@response(UserDataSchema, examples={"me": example("Profile", {"user": ex.USER})})
@access_token_required
def me():
    """The caller's profile.

    The user of the access token, as the server has it now.
    """
    return {"user": g.current_user}


@bp.patch("/me")
@operation(tag="users", security=ACCESS)
@response(
    UserDataSchema,
    examples={"me": example("Profile", {"user": {**ex.USER, "name": "Ada King"}})},
)
@access_token_required
@body(
    UpdateProfileSchema,
    examples={
        "rename": example("Rename", {"name": "Ada King"}),
        "picture": example(
            "Set a picture", {"profilePicture": "https://example.com/ada.png"}
        ),
    },
)
def update_me(body):
    """Change the caller's name or profile picture.

    Any of `name` and `profilePicture` (an http(s) URL; null or "" removes it); at
    least one; other fields are 400 `validation_error`.
    """
    return {"user": services.update_profile(user=g.current_user, changes=body)}


@bp.get("/me/security-events")
@operation(tag="users", security=ACCESS, operation_id="listSecurityEvents")
@response(SecurityEventListSchema)
@access_token_required
@query(SecurityFeedQuerySchema)
def security_events(query):
    """The caller's account security history, newest first.

    Sign-ins (and failed attempts), sign-outs, password and email changes, refresh
    reuse and admin actions on the account, each with the device (from the user
    agent) and the client IP as stored. Paginated with `cursor`: a cursor of
    another account is 400 `invalid_cursor`.
    """
    return security_feed.security_events(user_id=g.current_user.id, query=query)
