"""sign-in with OpenID Connect providers: identities, login codes, spent states

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-01 12:00:00

Accounts created by a provider sign-in have an empty password_hash (no password
verifies against it), so `users` keeps its columns and its lower(email) index.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "identities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint(
            "provider", "subject", name="uq_identities_provider_subject"
        ),
        sa.UniqueConstraint("user_id", "provider", name="uq_identities_user_provider"),
    )
    op.create_table(
        "oauth_login_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("transport", sa.String(length=10), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_login_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oauth_login_codes")),
    )
    op.create_index(
        "ix_oauth_login_codes_expires_at", "oauth_login_codes", ["expires_at"]
    )
    op.create_table(
        "oauth_spent_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oauth_spent_states")),
    )
    op.create_index(
        "ix_oauth_spent_states_expires_at", "oauth_spent_states", ["expires_at"]
    )
    # Plain ALTER TABLE ADD COLUMN (SQLite can): no batch copy of the table.
    op.add_column(
        "mfa_challenges",
        sa.Column(
            "first_factor", sa.String(length=16), server_default="pwd", nullable=False
        ),
    )


def downgrade():
    with op.batch_alter_table("mfa_challenges") as batch:
        batch.drop_column("first_factor")
    op.drop_index("ix_oauth_spent_states_expires_at", table_name="oauth_spent_states")
    op.drop_table("oauth_spent_states")
    op.drop_index("ix_oauth_login_codes_expires_at", table_name="oauth_login_codes")
    op.drop_table("oauth_login_codes")
    op.drop_table("identities")
