"""host check counts follow the fold

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # hosts.checks_count now counts the checks folded into rollups (id <= the host's watermark);
    # the fold adds to it, and /api/v2/hosts adds the checks not folded yet.
    op.execute(
        "UPDATE hosts SET checks_count = (SELECT count(*) FROM checks WHERE checks.host_id = hosts.id"
        " AND checks.id <= COALESCE((SELECT last_check_id FROM rollup_progress"
        " WHERE rollup_progress.host_id = hosts.id), 0))"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE hosts SET checks_count = (SELECT count(*) FROM checks WHERE checks.host_id = hosts.id)"
    )
