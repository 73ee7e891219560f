"""gateway: service_instances, one heartbeat row per running instance (vipcore.instances)

Each instance of the service writes its readiness checks and its partitions' lag here every few seconds;
GET /ops/status shows every row (up, not_ready, stopped, gone) to the console's ops page.

Revision ID: gateway_0003
Revises: gateway_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_instances",
        sa.Column("instance_id", sa.Text(), nullable=False, comment="host:pid:random, new at every start"),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True,
                  comment="set when the instance stopped cleanly"),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.Column("checks", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment="its readiness checks at last_seen: name -> ok or why not"),
        sa.Column("lag", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment="its consumers' partitions at last_seen: group, topic, partition, offsets, seconds"),
        sa.PrimaryKeyConstraint("instance_id"),
    )


def downgrade() -> None:
    op.drop_table("service_instances")
