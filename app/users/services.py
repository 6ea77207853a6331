"""Profile services."""

from app.extensions import db


def update_profile(*, user, changes):
    """Apply `name` / `profile_picture` changes to the user; one commit."""
    if "name" in changes:
        user.name = changes["name"]
    if "profile_picture" in changes:
        user.profile_picture = changes["profile_picture"] or None
    db.session.commit()
    return user
