"""fleet ingest: per-host sequence watermark and the agents' action queue

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ingest_progress",
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], name=op.f("fk_ingest_progress_host_id_hosts")),
        sa.PrimaryKeyConstraint("host_id", name=op.f("pk_ingest_progress")),
    )
    op.create_table(
        "agent_actions",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("queued_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("taken_at", sa.Float(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], name=op.f("fk_agent_actions_host_id_hosts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_actions")),
    )
    op.create_index("ix_agent_actions_host_status", "agent_actions", ["host_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_agent_actions_host_status", table_name="agent_actions")
    op.drop_table("agent_actions")
    op.drop_table("ingest_progress")
