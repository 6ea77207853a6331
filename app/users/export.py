"""GET /users/me/export: everything the server holds about the caller, as JSON.

Profile, MFA status, the rows of OWNED_DATA that have an export section (sessions,
passkeys...) and the account's security events. Never a secret, hash or token:
sections list their columns by name (app/users/owned_data.py).
"""

import uuid
from datetime import datetime

from sqlalchemy import select

from app import clock, events
from app.auth import mfa
from app.database import read_connection
from app.extensions import db
from app.models import AuditEvent, RecoveryCode
from app.schemas.base import UTCDateTimeField, camelcase
from app.users.owned_data import EXPORTED_SECTIONS, OWNED_DATA

EVENTS = AuditEvent.__table__
EVENT_COLUMNS = (
    "id",
    "occurred_at",
    "type",
    "actor_type",
    "ip",
    "user_agent",
    "details",
)
PROFILE_FIELDS = (
    "id",
    "name",
    "email",
    "profile_picture",
    "email_verified_at",
    "role",
    "created_at",
    "updated_at",
    "password_changed_at",
)


def export_account(*, user, access_claims):
    """The caller's data (step-up when MFA is on); the export is audited."""
    mfa.require_recent_factor(user=user, claims=access_claims)
    document = {
        "exported_at": clock.now(),
        "profile": exported({name: getattr(user, name) for name in PROFILE_FIELDS}),
        **{section: [] for section in EXPORTED_SECTIONS},
    }
    mfa_status = {"enabled": user.mfa_enabled, "enabled_at": user.mfa_enabled_at}
    with read_connection() as connection:
        for owned in OWNED_DATA:
            if owned.section is None:
                continue
            table = owned.model.__table__
            rows = connection.execute(
                select(*(table.c[name] for name in owned.fields)).where(
                    table.c.user_id == user.id
                )
            ).mappings()
            document[owned.section] = [exported(row) for row in rows]
        mfa_status["recovery_codes_left"] = recovery_codes_left(connection, user)
        document["mfa"] = exported(mfa_status)
        document["security_events"] = [
            exported(row)
            for row in connection.execute(
                select(*(EVENTS.c[name] for name in EVENT_COLUMNS))
                .where(EVENTS.c.user_id == user.id)
                .order_by(EVENTS.c.id.desc())
            ).mappings()
        ]
    events.emit(events.ACCOUNT_EXPORTED, user_id=str(user.id))
    db.session.commit()
    return document


def exported(mapping):
    """A row as the export shows it: camelCase keys, JSON values."""
    return {camelcase(key): plain(value) for key, value in mapping.items()}


def plain(value):
    if isinstance(value, datetime):
        return UTCDateTimeField().serialize("value", {"value": value})
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def recovery_codes_left(connection, user):
    if not user.mfa_enabled:
        return 0
    codes = RecoveryCode.__table__
    rows = connection.execute(
        select(codes.c.id).where(codes.c.user_id == user.id, codes.c.used_at.is_(None))
    ).all()
    return len(rows)
