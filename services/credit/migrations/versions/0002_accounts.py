"""credit: accounts, limit raises, authorisations, receivable terms, payments, daily runs, write-offs

Revision ID: credit_0002
Revises: credit_0001
"""
from credit.adapters.tables import metadata

revision = "credit_0002"
down_revision = "credit_0001"
branch_labels = None
depends_on = None

# 0001 creates tables from the current metadata, so on a fresh database these already exist; on a database
# migrated at 0001 before this revision they are added here.
NEW_RECEIVABLE_COLUMNS = (
    "cases integer NOT NULL DEFAULT 0", "paid bigint NOT NULL DEFAULT 0", "refunded bigint NOT NULL DEFAULT 0",
    "written_off bigint NOT NULL DEFAULT 0", "due_date date", "responsible_staff_id text",
    "line_leader_staff_id text", "region_code text", "last_reminded_on date",
)


def upgrade() -> None:
    from alembic import op

    for col in NEW_RECEIVABLE_COLUMNS:
        op.execute(f"ALTER TABLE receivables ADD COLUMN IF NOT EXISTS {col}")
    metadata.create_all(op.get_bind())  # checkfirst: only the missing tables


def downgrade() -> None:
    from alembic import op

    for t in ("staff_liabilities", "writeoffs", "daily_runs", "payments", "due_extensions", "authorizations",
              "limit_raises", "credit_accounts", "stores"):
        op.drop_table(t)
    for col in NEW_RECEIVABLE_COLUMNS:
        op.execute(f"ALTER TABLE receivables DROP COLUMN IF EXISTS {col.split()[0]}")
