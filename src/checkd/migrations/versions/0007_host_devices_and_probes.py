"""more of the host: swap, processes, cpus, inodes, network and disk I/O, endpoint checks

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CHECK_COLUMNS = (
    ("swap_permille", sa.SmallInteger()),
    ("procs", sa.Integer()),
    ("cpu_count", sa.SmallInteger()),
)


def _names(table: str, length: int) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=length), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("name", name=op.f(f"uq_{table}_name")),
    )


def upgrade() -> None:
    # Nullable columns without a default: old rows are not rewritten (SQLite and PostgreSQL alike).
    for name, type_ in _CHECK_COLUMNS:
        op.add_column("checks", sa.Column(name, type_, nullable=True))
    op.add_column("check_disks", sa.Column("inodes_permille", sa.SmallInteger(), nullable=True))
    _names("device_names", 64)
    _names("probe_names", 100)
    op.create_table(
        "check_net",
        sa.Column("check_id", _ROW_ID, nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("rx_bytes", sa.BigInteger(), nullable=True),
        sa.Column("tx_bytes", sa.BigInteger(), nullable=True),
        sa.Column("rx_packets", sa.Integer(), nullable=True),
        sa.Column("tx_packets", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("check_id", "device_id", name=op.f("pk_check_net")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "check_net_faults",
        sa.Column("check_id", _ROW_ID, nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("rx_errors", sa.Integer(), nullable=True),
        sa.Column("tx_errors", sa.Integer(), nullable=True),
        sa.Column("rx_drops", sa.Integer(), nullable=True),
        sa.Column("tx_drops", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("check_id", "device_id", name=op.f("pk_check_net_faults")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "check_disk_io",
        sa.Column("check_id", _ROW_ID, nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("read_bytes", sa.BigInteger(), nullable=True),
        sa.Column("write_bytes", sa.BigInteger(), nullable=True),
        sa.Column("busy_permille", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("check_id", "device_id", name=op.f("pk_check_disk_io")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "check_probes",
        sa.Column("check_id", _ROW_ID, nullable=False),
        sa.Column("probe_id", sa.Integer(), nullable=False),
        sa.Column("up", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("latency_us", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("check_id", "probe_id", name=op.f("pk_check_probes")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("check_probes")
    op.drop_table("check_disk_io")
    op.drop_table("check_net_faults")
    op.drop_table("check_net")
    op.drop_table("probe_names")
    op.drop_table("device_names")
    # SQLite >= 3.35 and PostgreSQL drop a column in place.
    op.execute("ALTER TABLE check_disks DROP COLUMN inodes_permille")
    for name, _ in reversed(_CHECK_COLUMNS):
        op.execute(f"ALTER TABLE checks DROP COLUMN {name}")
