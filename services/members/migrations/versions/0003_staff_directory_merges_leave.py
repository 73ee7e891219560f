"""members: staff mobile (encrypted), line leader and leaving (O-01, C-06); merges by agreement (M-06);
per-file hand-over re-check (M-12); reviewer leave and assignment (O-03); card validity per program (M-17)

Revision ID: members_0003
Revises: members_0002
"""
from members.adapters.tables import handover_files, merges, metadata, program_cards, reviewer_leave

revision = "members_0003"
down_revision = "members_0002"
branch_labels = None
depends_on = None

# 0001 creates from the live metadata: on a fresh database these already exist, hence IF NOT EXISTS.
COLUMNS = (
    "ALTER TABLE staff ADD COLUMN IF NOT EXISTS mobile_enc TEXT",
    "ALTER TABLE staff ADD COLUMN IF NOT EXISTS line_leader_staff_id TEXT",
    "ALTER TABLE staff ADD COLUMN IF NOT EXISTS left_at TIMESTAMPTZ",
    "ALTER TABLE members ADD COLUMN IF NOT EXISTS merged_into TEXT",
    "ALTER TABLE requests ADD COLUMN IF NOT EXISTS reviewer TEXT",
)


def upgrade() -> None:
    from alembic import op

    for sql in COLUMNS:
        op.execute(sql)
    metadata.create_all(op.get_bind(), tables=[handover_files, merges, reviewer_leave, program_cards],
                        checkfirst=True)


def downgrade() -> None:
    from alembic import op

    for t in ("program_cards", "reviewer_leave", "merges", "handover_files"):
        op.drop_table(t)
    for sql in ("ALTER TABLE requests DROP COLUMN reviewer", "ALTER TABLE members DROP COLUMN merged_into",
                "ALTER TABLE staff DROP COLUMN left_at", "ALTER TABLE staff DROP COLUMN line_leader_staff_id",
                "ALTER TABLE staff DROP COLUMN mobile_enc"):
        op.execute(sql)
