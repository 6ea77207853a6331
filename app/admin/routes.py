"""Admin endpoints: an admin token (app/admin/access.py), one service call each."""

from flask import g

from app.admin import bp, services
from app.admin.access import admin_required
from app.auth.principal import access_token_required
from app.openapi.declare import ACCESS, ROLE_ADMIN, operation, query, response
from app.schemas.admin import (
    AdminUserDataSchema,
    AdminUserListSchema,
    AuditEventListSchema,
    AuditQuerySchema,
    RevokedSchema,
    UserQuerySchema,
)
from app.schemas.auth import MessageSchema

ADMIN = {"tag": "admin", "security": ACCESS, "role": ROLE_ADMIN}


@bp.get("/users")
@operation(**ADMIN, operation_id="adminListUsers")
@response(AdminUserListSchema)
@access_token_required
@admin_required
@query(UserQuerySchema)
def list_users(query):
    """Search accounts, newest first.

    `query` matches the start of the email or the name, case-insensitively and
    literally (`%`, `_` and `\\` are plain characters). Keyset pagination: pass
    `nextCursor` back as `cursor` with the same filters; a cursor of other filters
    is 400 `invalid_cursor`.
    """
    return services.list_users(admin=g.current_user, query=query)


@bp.get("/users/<user_id>")
@operation(**ADMIN, operation_id="adminGetUser")
@response(AdminUserDataSchema)
@access_token_required
@admin_required
def get_user(user_id):
    """One account as admins see it.

    Profile, status, role, second factors, active session count and last sign-in.
    An unknown id is 404 `not_found`.
    """
    return {"user": services.user_detail(admin=g.current_user, user_id=user_id)}


@bp.post("/users/<user_id>/deactivate")
@operation(**ADMIN, operation_id="adminDeactivateUser", errors={409: ["last_admin"]})
@response(AdminUserDataSchema)
@access_token_required
@admin_required
def deactivate_user(user_id):
    """Disable an account and end every session of it at once.

    The last active admin cannot be deactivated (409 `last_admin`).
    """
    user = services.deactivate_user(admin=g.current_user, user_id=user_id)
    return {"user": user}


@bp.post("/users/<user_id>/activate")
@operation(**ADMIN, operation_id="adminActivateUser")
@response(AdminUserDataSchema)
@access_token_required
@admin_required
def activate_user(user_id):
    """Enable an account again.

    Its old sessions stay ended: the user signs in anew.
    """
    return {"user": services.activate_user(admin=g.current_user, user_id=user_id)}


@bp.delete("/users/<user_id>/sessions")
@operation(**ADMIN, operation_id="adminEndUserSessions")
@response(RevokedSchema)
@access_token_required
@admin_required
def end_user_sessions(user_id):
    """Sign the user out everywhere.

    Every session of the account ends at once; its access tokens are refused from
    the next request on.
    """
    return {
        "revoked": services.end_user_sessions(admin=g.current_user, user_id=user_id)
    }


@bp.post("/users/<user_id>/password-reset")
@operation(**ADMIN, operation_id="adminSendPasswordReset")
@response(MessageSchema, 202)
@access_token_required
@admin_required
def send_password_reset(user_id):
    """Mail the user a password-reset link.

    The admin never sees the link nor sets a password. A disabled account gets
    no mail.
    """
    services.send_password_reset(admin=g.current_user, user_id=user_id)
    return {"message": "A password-reset link is on its way to the user."}


@bp.get("/audit-events")
@operation(**ADMIN, operation_id="adminListAuditEvents")
@response(AuditEventListSchema)
@access_token_required
@admin_required
@query(AuditQuerySchema)
def list_audit_events(query):
    """The audit trail, newest first, filtered by user, type and time.

    Keyset pagination as for the user list.
    """
    return services.list_audit_events(admin=g.current_user, query=query)
