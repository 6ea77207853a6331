"""Who may call the admin API: an admin's token, with a second factor if required.

The role is checked twice: the access token's `role` claim and the user row read by
the access check (a role change also ends the sessions, so the two agree).
"""

from functools import wraps

from flask import current_app, g

from app.errors import AdminMfaRequired, Forbidden
from app.models.user import ROLE_ADMIN

# `amr` values (RFC 8176) that mean the session passed a second factor.
SECOND_FACTORS = frozenset({"otp", "hwk"})


def session_passed_mfa(claims):
    """Whether the access token's session passed a second factor (its `amr` claim)."""
    methods = claims.get("amr")
    return isinstance(methods, list) and not SECOND_FACTORS.isdisjoint(methods)


def user_has_mfa(user):
    """Whether the user turned on a second factor (TOTP; app/auth/mfa.py)."""
    return user.mfa_enabled_at is not None


def check_admin(user, claims):
    """403 forbidden unless an admin's token; 403 mfa_required without the factor."""
    if user.role != ROLE_ADMIN or claims.get("role") != ROLE_ADMIN:
        raise Forbidden()
    if user_has_mfa(user):
        if not session_passed_mfa(claims):
            raise AdminMfaRequired()
    elif current_app.config["ADMIN_REQUIRE_MFA"]:
        raise AdminMfaRequired(
            "This admin has no second factor; ADMIN_REQUIRE_MFA refuses them."
        )


def admin_required(view):
    """After `access_token_required`: the caller must pass `check_admin`."""

    @wraps(view)
    def checked(*args, **kwargs):
        check_admin(g.current_user, g.access_claims)
        return view(*args, **kwargs)

    return checked
