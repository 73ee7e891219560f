"""members: bulk export of member files as a background job (M-07, issue 12: long work shows live progress)

`member_file_exports` is the job: who started it (staff id from the token), the reason and filters, state,
total/done and a heartbeat (a job whose heartbeat goes stale was interrupted and is marked failed).
`member_file_export_parts` holds the CSV a chunk at a time, each part encrypted with the PII keyring and listing
the member ids it holds (the download is access-logged with them). Index members (created_at, member_id): the
keyset an HQ export walks across every store.

Revision ID: members_0011
Revises: members_0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "members_0011"
down_revision = "members_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_file_exports",
        sa.Column("export_id", sa.Text(), primary_key=True),
        sa.Column("started_by", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("scope_store_id", sa.Text()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filters", JSONB(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("member_file_exports_started", "member_file_exports", ["started_at", "export_id"])
    op.create_index("member_file_exports_running", "member_file_exports", ["heartbeat_at"],
                    postgresql_where="state = 'running'")
    op.create_table(
        "member_file_export_parts",
        sa.Column("export_id", sa.Text(), primary_key=True),
        sa.Column("part_no", sa.Integer(), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("member_ids", ARRAY(sa.Text()), nullable=False),
    )
    op.create_index("members_created_id", "members", ["created_at", "member_id"])


def downgrade() -> None:
    op.drop_index("members_created_id", table_name="members")
    op.drop_table("member_file_export_parts")
    op.drop_index("member_file_exports_running", table_name="member_file_exports")
    op.drop_index("member_file_exports_started", table_name="member_file_exports")
    op.drop_table("member_file_exports")
