"""account lifecycle: pending deletion, the address of an email-change link

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (SQLite can): a batch copy would drop the expression index.
    op.add_column(
        "users",
        sa.Column("deletion_requested_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "one_time_tokens", sa.Column("email", sa.String(length=254), nullable=True)
    )


def downgrade():
    op.drop_column("one_time_tokens", "email")
    op.drop_column("users", "deletion_requested_at")
