"""Session services: open, rotate with reuse detection, list, revoke, purge."""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, or_, select, update

from app import clock, events
from app.auth import alerts, revocations
from app.auth.tokens import new_jti, session_id_of
from app.database import read_connection, single_statement_connection
from app.errors import (
    AccountDisabled,
    EmailUnverified,
    NotFound,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from app.extensions import db
from app.models import User, UserSession

REVOKED_LOGOUT = "logout"
REVOKED_LOGOUT_ALL = "logout_all"
REVOKED_BY_USER = "revoked_by_user"
REVOKED_REUSE = "reuse_detected"
REVOKED_PASSWORD_CHANGE = "password_change"
REVOKED_PASSWORD_RESET = "password_reset"
REVOKED_DEACTIVATED = "deactivated"
REVOKED_ROLE_CHANGE = "role_changed"
REVOKED_BY_ADMIN = "revoked_by_admin"
REVOKED_MFA_DISABLED = "mfa_disabled"
REVOKED_EMAIL_CHANGED = "email_changed"
REVOKED_EMAIL_REVERTED = "email_reverted"
REVOKED_DELETION_REQUESTED = "deletion_requested"


@dataclass(frozen=True)
class SessionState:
    """What a refresh needs of a session row (and what `issue_tokens` reads)."""

    id: uuid.UUID
    user_id: uuid.UUID
    transport: str
    refresh_jti: str
    previous_refresh_jti: str | None
    rotated_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime
    amr: str
    auth_time: datetime | None
    rotating: bool
    user_is_active: bool
    user_role: str
    user_email_verified_at: datetime | None


@dataclass(frozen=True)
class Refreshed:
    session: SessionState
    rotated: bool


SESSIONS = UserSession.__table__
USERS = User.__table__
STATE_COLUMNS = (
    "id",
    "user_id",
    "transport",
    "refresh_jti",
    "previous_refresh_jti",
    "rotated_at",
    "expires_at",
    "revoked_at",
    "created_at",
    "amr",
    "auth_time",
    "rotating",
)
LISTED_COLUMNS = (
    "id",
    "created_at",
    "last_used_at",
    "expires_at",
    "user_agent",
    "ip",
    "amr",
    "auth_time",
)
# Both statements are built once (SQLAlchemy memoises their cache keys); the refresh
# hot path reads plain rows, not ORM objects.
SESSION_STATE_QUERY = (
    select(
        *(SESSIONS.c[name] for name in STATE_COLUMNS),
        USERS.c.is_active.label("user_is_active"),
        USERS.c.role.label("user_role"),
        USERS.c.email_verified_at.label("user_email_verified_at"),
    )
    .select_from(SESSIONS.join(USERS, USERS.c.id == SESSIONS.c.user_id))
    .where(SESSIONS.c.id == bindparam("session_id"))
)
# Exactly one of several parallel refreshes with the same token matches the row.
ROTATE_STATEMENT = (
    update(SESSIONS)
    .where(
        SESSIONS.c.id == bindparam("session_id"),
        SESSIONS.c.refresh_jti == bindparam("presented_jti"),
        SESSIONS.c.revoked_at.is_(None),
    )
    .values(
        previous_refresh_jti=bindparam("presented_jti"),
        refresh_jti=bindparam("next_jti"),
        rotated_at=bindparam("rotated"),
        last_used_at=bindparam("rotated"),
    )
)
# A non-rotating session: the presented token stays the session's token.
TOUCH_STATEMENT = (
    update(SESSIONS)
    .where(
        SESSIONS.c.id == bindparam("session_id"),
        SESSIONS.c.refresh_jti == bindparam("presented_jti"),
        SESSIONS.c.revoked_at.is_(None),
    )
    .values(last_used_at=bindparam("used"))
)


def open_session(*, user, transport, user_agent, ip, rotating=True):
    """A new session for `user` (added to the transaction, not committed).

    `rotating=False`: its refresh token stays the same for the session's life and
    reuse detection is off (docs/compat.md: the weaker mode); the absolute lifetime
    (REFRESH_TOKEN_TTL) and revocation apply all the same.
    """
    now = clock.now()
    user_session = UserSession(
        id=uuid.uuid4(),
        user_id=user.id,
        transport=transport,
        refresh_jti=new_jti(),
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL"]),
        amr="pwd",
        auth_time=now,
        rotating=rotating,
        user_agent=user_agent or None,
        ip=ip or None,
    )
    db.session.add(user_session)
    return user_session


def _session_state(connection, session_id):
    # A Core statement on the connection given, without the ORM's bookkeeping.
    row = connection.execute(SESSION_STATE_QUERY, {"session_id": session_id}).first()
    return None if row is None else SessionState(*row)


def rotate_refresh_token(*, claims, transport):
    """Rotate the presented refresh token; grace for the one just rotated; else reuse.

    The checks read on a read-only connection, so a refused token never waits for
    the write lock. The conditional UPDATE (WHERE refresh_jti = presented) then
    decides which of several parallel refreshes rotates: exactly one matches a row,
    on SQLite and PostgreSQL. One transaction: committed once, or rolled back.
    """
    session_id = session_id_of(claims)
    presented = claims.get("jti")
    with read_connection() as connection:
        user_session = _session_state(connection, session_id)
    if user_session is None:
        raise TokenRevoked()
    if str(user_session.user_id) != claims.get("sub"):
        raise TokenInvalid()
    if user_session.transport != transport:
        raise TokenInvalid(
            f"This session's refresh token travels by {user_session.transport}."
        )
    now = clock.now()
    # Deactivation revokes the sessions too; say why (403), as the access check does.
    if not user_session.user_is_active:
        raise AccountDisabled()
    if user_session.revoked_at is not None:
        raise TokenRevoked()
    if (
        current_app.config["REQUIRE_EMAIL_VERIFICATION"]
        and user_session.user_email_verified_at is None
    ):
        raise EmailUnverified()
    if user_session.expires_at <= now:
        raise TokenExpired()
    if not user_session.rotating:
        return keep_refresh_token(user_session, presented=presented, now=now)

    next_jti = new_jti()
    # The rotation is one statement, its own transaction: the shortest write lock.
    with single_statement_connection() as connection:
        result = connection.execute(
            ROTATE_STATEMENT,
            {
                "session_id": session_id,
                "presented_jti": presented,
                "next_jti": next_jti,
                "rotated": now,
            },
        )
        rotated = result.rowcount == 1
        if rotated:
            connection.commit()
    if rotated:
        events.emit(events.REFRESHED, session_id=str(session_id))
        # The row now holds what the UPDATE wrote: no second read to learn it.
        rotated_state = replace(
            user_session,
            refresh_jti=next_jti,
            previous_refresh_jti=presented,
            rotated_at=now,
        )
        return Refreshed(session=rotated_state, rotated=True)

    # Another refresh rotated first, or the session ended (or the account was
    # deleted) meanwhile: read what is there now, in a write transaction that also
    # revokes on reuse. (A rotation landing between the UPDATE and this read makes
    # the presented token two behind: reuse, as if this request had come later.)
    user_session = _session_state(db.session.connection(), session_id)
    if user_session is None or user_session.revoked_at is not None:
        db.session.rollback()
        raise TokenRevoked()
    grace = timedelta(seconds=current_app.config["REFRESH_REUSE_GRACE_SECONDS"])
    if (
        presented is not None
        and presented == user_session.previous_refresh_jti
        and user_session.rotated_at is not None
        and now - user_session.rotated_at <= grace
    ):
        # Two tabs refreshed at once: hand the late one the current token, no fork.
        db.session.rollback()
        return Refreshed(session=user_session, rotated=False)
    revoke_session(session_id=session_id, reason=REVOKED_REUSE)
    alerts.queue_refresh_reuse(user=db.session.get(User, user_session.user_id))
    events.emit(
        events.REUSE_DETECTED,
        session_id=str(session_id),
        user_id=str(user_session.user_id),
    )
    db.session.commit()
    raise TokenRevoked("Refresh token reuse detected; the session has been revoked.")


def keep_refresh_token(user_session, *, presented, now):
    """Refresh a non-rotating session: its one refresh token, no reuse detection."""
    result = db.session.connection().execute(
        TOUCH_STATEMENT,
        {"session_id": user_session.id, "presented_jti": presented, "used": now},
    )
    if result.rowcount != 1:
        # Not the session's token (forged with the key is impossible; a token of
        # a revoked session raced here): refused, and the session is left alone.
        db.session.rollback()
        raise TokenRevoked()
    events.emit(events.REFRESHED, session_id=str(user_session.id))
    db.session.commit()
    return Refreshed(session=user_session, rotated=False)


def revoke_session(*, session_id, reason, user_id=None):
    """Revoke one session; returns whether it was active. The caller commits."""
    conditions = [SESSIONS.c.id == session_id, SESSIONS.c.revoked_at.is_(None)]
    if user_id is not None:
        conditions.append(SESSIONS.c.user_id == user_id)
    return revoke_where(conditions, reason) == 1


def revoke_user_sessions(*, user_id, reason, keep_session_id=None):
    """Revoke the user's active sessions, but `keep_session_id`; returns how many.

    The caller commits (with whatever else its transaction changes).
    """
    conditions = [SESSIONS.c.user_id == user_id, SESSIONS.c.revoked_at.is_(None)]
    if keep_session_id is not None:
        conditions.append(SESSIONS.c.id != keep_session_id)
    return revoke_where(conditions, reason)


def revoke_where(conditions, reason):
    """The one place sessions are revoked: the rows, and the revocation feed's entries.

    Returns how many sessions it revoked; the caller commits.
    """
    cursor = revocations.claim_cursor()
    now = clock.now()
    revoked = db.session.execute(
        update(SESSIONS)
        .where(*conditions)
        .values(revoked_at=now, revoked_reason=reason)
        .returning(SESSIONS.c.id, SESSIONS.c.expires_at)
    ).all()
    revocations.record(cursor=cursor, revoked=revoked, revoked_at=now)
    return len(revoked)


def end_session_of_token(*, claims):
    """Logout: end the session a token names; an already-ended one is fine."""
    session_id = session_id_of(claims)
    ended = revoke_session(session_id=session_id, reason=REVOKED_LOGOUT)
    if ended:
        events.emit(
            events.LOGOUT, session_id=str(session_id), user_id=claims.get("sub")
        )
    db.session.commit()
    return ended


def logout_everywhere(*, user_id, session_id=None):
    """Logout-all: end every session of the user; returns how many were active."""
    revoked = revoke_user_sessions(user_id=user_id, reason=REVOKED_LOGOUT_ALL)
    events.emit(
        events.LOGOUT_ALL,
        user_id=str(user_id),
        session_id=None if session_id is None else str(session_id),
        revoked=revoked,
    )
    db.session.commit()
    return revoked


def session_is_live(*, claims):
    """Whether a verified token's session is live and its user active (reads only)."""
    with read_connection() as connection:
        state = _session_state(connection, session_id_of(claims))
    return (
        state is not None
        and str(state.user_id) == claims.get("sub")
        and state.user_is_active
        and state.revoked_at is None
        and state.expires_at > clock.now()
    )


def list_active_sessions(*, user_id):
    """The user's sessions that are neither revoked nor expired, most recent first.

    Rows, not ORM objects: a read-only connection (no write lock on SQLite).
    """
    with read_connection() as connection:
        return connection.execute(
            select(*(SESSIONS.c[name] for name in LISTED_COLUMNS))
            .where(
                SESSIONS.c.user_id == user_id,
                SESSIONS.c.revoked_at.is_(None),
                SESSIONS.c.expires_at > clock.now(),
            )
            .order_by(SESSIONS.c.last_used_at.desc())
        ).all()


def revoke_own_session(*, user_id, session_id):
    """DELETE /sessions/<id>: 404 unless the session is the user's and active."""
    try:
        session_uuid = uuid.UUID(str(session_id))
    except ValueError:
        raise NotFound("No such session.") from None
    if not revoke_session(
        session_id=session_uuid, reason=REVOKED_BY_USER, user_id=user_id
    ):
        db.session.rollback()
        raise NotFound("No such session.")
    events.emit(
        events.SESSION_REVOKED,
        session_id=str(session_uuid),
        user_id=str(user_id),
        by="user",
    )
    db.session.commit()


def purge_sessions(*, retention_days):
    """Delete sessions that expired or were revoked more than `retention_days` ago."""
    cutoff = clock.now() - timedelta(days=retention_days)
    result = db.session.execute(
        delete(UserSession).where(
            or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff)
        )
    )
    db.session.commit()
    return result.rowcount
