"""The revocation feed's rows: sessions revoked while their access tokens still live.

`RevocationHead` is one row holding the feed's last cursor. Every revoking
transaction bumps it first: on PostgreSQL the row lock serialises those
transactions until they commit (SQLite has one writer anyway), so cursors become
visible in the order they were handed out and a follower never skips one.
"""

import uuid
from datetime import datetime

from sqlalchemy import DDL, BigInteger, Index, Integer, event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime

HEAD_ROW_ID = 1


class Revocation(db.Model):
    __tablename__ = "revocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cursor: Mapped[int] = mapped_column(BigInteger)
    session_id: Mapped[uuid.UUID] = mapped_column()
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # After this, no access token of the session can still be valid.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_revocations_cursor", "cursor"),
        Index("ix_revocations_expires_at", "expires_at"),
    )


class RevocationHead(db.Model):
    __tablename__ = "revocation_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)


# The one head row, with the table (create_all; the migration inserts it too).
event.listen(
    RevocationHead.__table__,
    "after_create",
    DDL("INSERT INTO revocation_head (id, cursor) VALUES (1, 0)"),  # HEAD_ROW_ID
)
