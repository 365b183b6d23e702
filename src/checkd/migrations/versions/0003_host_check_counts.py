"""host check counts

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checks_count", sa.BigInteger(), server_default="0", nullable=False))
    op.execute(
        "UPDATE hosts SET checks_count = (SELECT count(*) FROM checks WHERE checks.host_id = hosts.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.drop_column("checks_count")
