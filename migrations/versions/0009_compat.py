"""non-rotating sessions (compatibility profiles)

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both backends; existing sessions keep rotating.
    op.add_column(
        "sessions",
        sa.Column(
            "rotating", sa.Boolean(), server_default=sa.true(), nullable=False
        ),
    )


def downgrade():
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("rotating")
