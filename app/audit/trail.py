"""Write audit rows into the caller's transaction; prune old ones.

`record` only adds the row to `db.session`: the service that made the change commits
it with that change, or rolls both back. It never commits by itself.
"""

import ipaddress
import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context
from sqlalchemy import delete

from app import clock
from app.extensions import db
from app.http import client_ip, request_id, user_agent
from app.models.audit_event import ACTOR_ADMIN, ACTOR_SYSTEM, ACTOR_USER, AuditEvent

IP_FULL = "full"
IP_TRUNCATED = "truncated"
IP_MODES = (IP_FULL, IP_TRUNCATED)
# Fields of `events.emit` that fill columns of their own, not the JSON detail.
COLUMN_FIELDS = ("user_id", "session_id")


@dataclass(frozen=True)
class Actor:
    """Who caused an event: the user, an admin (by id), or the system."""

    kind: str
    id: uuid.UUID | None = None

    @classmethod
    def admin(cls, admin_id):
        return cls(ACTOR_ADMIN, as_uuid(admin_id))


SYSTEM = Actor(ACTOR_SYSTEM)


def as_uuid(value):
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def stored_ip(ip, mode):
    """The client IP as configured: full, or its /24 (IPv4) or /64 (IPv6) network."""
    if not ip:
        return None
    if mode == IP_FULL:
        return ip
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def record(event, *, actor=None, fields):
    """Add one audit row for `event` to the current transaction (never commits)."""
    user_id = as_uuid(fields.get("user_id"))
    if actor is None:
        actor = Actor(ACTOR_USER, user_id) if user_id else SYSTEM
    row = AuditEvent(
        occurred_at=clock.now(),
        type=event,
        user_id=user_id,
        actor_type=actor.kind,
        actor_id=actor.id,
        session_id=as_uuid(fields.get("session_id")),
        details={k: v for k, v in fields.items() if k not in COLUMN_FIELDS},
    )
    if has_request_context():
        row.ip = stored_ip(client_ip(), current_app.config["AUDIT_IP_STORAGE"])
        row.user_agent = user_agent() or None
        row.request_id = request_id()
    db.session.add(row)
    return row


def purge_events(*, retention_days):
    """Delete audit events older than `retention_days`; one commit."""
    cutoff = clock.now() - timedelta(days=retention_days)
    result = db.session.execute(
        delete(AuditEvent).where(AuditEvent.occurred_at < cutoff)
    )
    db.session.commit()
    return result.rowcount
