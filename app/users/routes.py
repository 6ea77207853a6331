"""Profile endpoints."""

from flask import g

from app.auth.principal import access_token_required
from app.errors import success
from app.http import load_body
from app.schemas.user import UpdateProfileSchema, user_schema
from app.users import bp, services


@bp.get("/me")
@access_token_required
def me():
    return success({"user": user_schema.dump(g.current_user)})


@bp.patch("/me")
@access_token_required
def update_me():
    changes = load_body(UpdateProfileSchema())
    user = services.update_profile(user=g.current_user, changes=changes)
    return success({"user": user_schema.dump(user)})
