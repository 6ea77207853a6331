"""Reading the audit table the way an auditor would (tests only)."""

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent


def audit_rows(app, **where):
    """Every audit row (oldest first), optionally filtered by column values."""
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
    return rows


def audit_types(app, **where):
    return [row.type for row in audit_rows(app, **where)]
