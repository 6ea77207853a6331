"""revocation feed: revoked sessions until their access tokens expire, and its head

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocations")),
    )
    op.create_index("ix_revocations_cursor", "revocations", ["cursor"])
    op.create_index("ix_revocations_expires_at", "revocations", ["expires_at"])
    head = op.create_table(
        "revocation_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocation_head")),
    )
    op.bulk_insert(head, [{"id": 1, "cursor": 0}])


def downgrade():
    op.drop_table("revocation_head")
    op.drop_index("ix_revocations_expires_at", table_name="revocations")
    op.drop_index("ix_revocations_cursor", table_name="revocations")
    op.drop_table("revocations")
