"""checks and their children partitioned by time on PostgreSQL (a no-op on SQLite)

Revision ID: 0009
Revises: 0006
"""

import time

from alembic import op

from checkd.store.backends import pg_convert, pg_partitions

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Every row is copied into the new partitions inside this migration's one transaction; child
    # tables added by later migrations are listed in pg_partitions.CHILDREN.
    pg_convert.partition_checks(bind, int(time.time()))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(f"DROP TABLE {pg_partitions.DAY_COUNTS}")
    pg_convert.rebuild(bind, pg_partitions.PARENT, ["id"], None)
    for child in pg_partitions.CHILDREN:
        pg_convert.rebuild(bind, child, pg_convert.primary_key(bind, child), None)
