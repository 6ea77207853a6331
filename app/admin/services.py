"""Admin API services: each one transaction, audited with the admin as actor."""

import uuid
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from app import clock, events
from app.admin.access import user_has_mfa
from app.audit.trail import Actor
from app.auth import account_mail
from app.auth.passkeys import count_passkeys
from app.auth.sessions import (
    REVOKED_BY_ADMIN,
    REVOKED_DEACTIVATED,
    revoke_user_sessions,
)
from app.errors import ApiError, NotFound
from app.extensions import db
from app.models import AuditEvent, User, UserSession
from app.models.user import ROLE_ADMIN
from app.pagination import cursor_key, decode_cursor, page
from app.users.admin import other_active_admins


class LastAdminRefused(ApiError):
    status = 409
    code = "last_admin"
    message = "This is the last active admin account."


def target_user(user_id):
    """The user of a path id, or 404 (an id that is no UUID is unknown too)."""
    try:
        key = uuid.UUID(str(user_id))
    except ValueError:
        raise NotFound("No such user.") from None
    user = db.session.get(User, key)
    if user is None:
        raise NotFound("No such user.")
    return user


def list_users(*, admin, query):
    """Newest accounts first, by (created_at, id): new sign-ups never shift a page."""
    filters = {"query": query.get("query"), "status": query.get("status")}
    limit = query["limit"]
    key = decode_cursor("users", filters, query.get("cursor"))
    statement = select(User).order_by(User.created_at.desc(), User.id.desc())
    if filters["query"]:
        prefix = filters["query"].lower()
        statement = statement.where(
            or_(
                func.lower(User.email).startswith(prefix, autoescape=True),
                func.lower(User.name).startswith(prefix, autoescape=True),
            )
        )
    if filters["status"]:
        statement = statement.where(User.is_active.is_(filters["status"] == "active"))
    if key is not None:
        created_at, last_id = cursor_key(key, datetime.fromisoformat, uuid.UUID)
        statement = statement.where(
            or_(
                User.created_at < created_at,
                and_(User.created_at == created_at, User.id < last_id),
            )
        )
    rows = db.session.scalars(statement.limit(limit + 1)).all()
    users, next_cursor = page(
        rows,
        limit,
        lambda user: [user.created_at.isoformat(), str(user.id)],
        "users",
        filters,
    )
    events.emit(events.ADMIN_USERS_LISTED, actor=Actor.admin(admin.id), **filters)
    db.session.commit()
    return {"users": users, "next_cursor": next_cursor}


def user_detail(*, admin, user_id):
    user = target_user(user_id)
    now = clock.now()
    active_sessions = db.session.scalar(
        select(func.count())
        .select_from(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
        )
    )
    last_sign_in_at = db.session.scalar(
        select(func.max(AuditEvent.occurred_at)).where(
            AuditEvent.user_id == user.id,
            AuditEvent.type.in_(
                (events.LOGIN_OK, events.PASSKEY_SIGN_IN, events.REGISTERED)
            ),
        )
    )
    events.emit(
        events.ADMIN_USER_VIEWED, actor=Actor.admin(admin.id), user_id=str(user.id)
    )
    db.session.commit()
    user.second_factors = {
        "mfa_enabled": user_has_mfa(user),
        "passkeys": count_passkeys(user.id),
    }
    user.active_sessions = active_sessions
    user.last_sign_in_at = last_sign_in_at
    return user


def deactivate_user(*, admin, user_id):
    """Disable the account and end every session at once; not the last admin."""
    user = target_user(user_id)
    if user.is_active and user.role == ROLE_ADMIN and not other_active_admins(user.id):
        db.session.rollback()
        raise LastAdminRefused()
    user.is_active = False
    revoked = revoke_user_sessions(user_id=user.id, reason=REVOKED_DEACTIVATED)
    events.emit(
        events.ACCOUNT_DEACTIVATED,
        actor=Actor.admin(admin.id),
        user_id=str(user.id),
        revoked=revoked,
        by="admin",
    )
    db.session.commit()
    return user


def activate_user(*, admin, user_id):
    user = target_user(user_id)
    user.is_active = True
    events.emit(
        events.ACCOUNT_ACTIVATED,
        actor=Actor.admin(admin.id),
        user_id=str(user.id),
        by="admin",
    )
    db.session.commit()
    return user


def end_user_sessions(*, admin, user_id):
    """Sign the user out everywhere; returns how many sessions were active."""
    user = target_user(user_id)
    revoked = revoke_user_sessions(user_id=user.id, reason=REVOKED_BY_ADMIN)
    events.emit(
        events.SESSION_REVOKED,
        actor=Actor.admin(admin.id),
        user_id=str(user.id),
        by="admin",
        revoked=revoked,
    )
    db.session.commit()
    return revoked


def send_password_reset(*, admin, user_id):
    """Queue a reset link to the user's address; the admin never sees it.

    The outbox sender makes the token and the mail (none for a disabled account),
    and records `password_reset_requested` then.
    """
    user = target_user(user_id)
    account_mail.queue_password_reset(email=user.email)
    events.emit(
        events.ADMIN_PASSWORD_RESET, actor=Actor.admin(admin.id), user_id=str(user.id)
    )
    db.session.commit()


def list_audit_events(*, admin, query):
    """Newest first (by id), filtered; the listing itself is audited after it."""
    filters = {name: query.get(name) for name in ("user_id", "type", "since", "until")}
    limit = query["limit"]
    key = decode_cursor("audit", filters, query.get("cursor"))
    statement = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters["user_id"] is not None:
        statement = statement.where(AuditEvent.user_id == filters["user_id"])
    if filters["type"] is not None:
        statement = statement.where(AuditEvent.type == filters["type"])
    if filters["since"] is not None:
        statement = statement.where(AuditEvent.occurred_at >= filters["since"])
    if filters["until"] is not None:
        statement = statement.where(AuditEvent.occurred_at < filters["until"])
    if key is not None:
        [last_id] = cursor_key(key, int)
        statement = statement.where(AuditEvent.id < last_id)
    rows = db.session.scalars(statement.limit(limit + 1)).all()
    shown, next_cursor = page(rows, limit, lambda row: [row.id], "audit", filters)
    events.emit(
        events.ADMIN_AUDIT_LISTED,
        actor=Actor.admin(admin.id),
        **{
            f"filter_{name}": None if value is None else str(value)
            for name, value in filters.items()
        },
    )
    db.session.commit()
    return {"events": shown, "next_cursor": next_cursor}
