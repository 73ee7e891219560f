"""credit: staff directory (C-06, C-07), per-zone daily runs, member classes (M-14), non-credit purchases (C-08),
coupon ledger and closed months (C-08), coupons spent by sales (C-09)

Revision ID: credit_0004
Revises: credit_0003
"""
from credit.adapters.tables import metadata

revision = "credit_0004"
down_revision = "credit_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from alembic import op

    op.execute("ALTER TABLE credit_accounts ADD COLUMN IF NOT EXISTS member_id text UNIQUE")
    op.execute("ALTER TABLE coupons ADD COLUMN IF NOT EXISTS redeemed_sale_id text")
    op.execute("ALTER TABLE daily_runs ADD COLUMN IF NOT EXISTS timezone text NOT NULL DEFAULT '*'")
    op.execute("ALTER TABLE daily_runs DROP CONSTRAINT IF EXISTS daily_runs_pkey")
    op.execute("ALTER TABLE daily_runs ADD PRIMARY KEY (run_date, timezone)")
    created = "SELECT to_regclass('coupon_movements') IS NULL"
    fresh = bool(op.get_bind().exec_driver_sql(created).scalar())
    metadata.create_all(op.get_bind())  # checkfirst: only the missing tables
    if fresh:  # the ledger starts from what the coupons table says happened so far
        op.execute("INSERT INTO coupon_movements (coupon_no, kind, face_value, at) "
                   "SELECT coupon_no, 'issued', face_value, drawn_at FROM coupons")
        op.execute("INSERT INTO coupon_movements (coupon_no, kind, face_value, at) "
                   "SELECT coupon_no, CASE WHEN rebate_id IS NULL THEN 'sold' ELSE 'rebate' END, face_value, "
                   "left_stock_at FROM coupons WHERE left_stock_at IS NOT NULL")


def downgrade() -> None:
    from alembic import op

    for t in ("coupon_conflicts", "reconciliation_closes", "coupon_movements", "purchases", "member_classes",
              "staff_directory"):
        op.drop_table(t)
    op.execute("ALTER TABLE daily_runs DROP CONSTRAINT IF EXISTS daily_runs_pkey")
    op.execute("DELETE FROM daily_runs WHERE timezone <> '*'")
    op.execute("ALTER TABLE daily_runs DROP COLUMN timezone")
    op.execute("ALTER TABLE daily_runs ADD PRIMARY KEY (run_date)")
    op.execute("ALTER TABLE coupons DROP COLUMN IF EXISTS redeemed_sale_id")
    op.execute("ALTER TABLE credit_accounts DROP COLUMN IF EXISTS member_id")
