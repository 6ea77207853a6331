"""Profile endpoints."""

from flask import g

from app.auth.principal import access_token_required
from app.openapi import examples as ex
from app.openapi.declare import ACCESS, body, operation, response
from app.openapi.examples import example
from app.schemas.user import UpdateProfileSchema, UserDataSchema
from app.users import bp, services


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
