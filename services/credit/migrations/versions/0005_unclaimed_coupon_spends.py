"""credit: coupons spent for a receipt whose sale never reached credit are released (C-09) — the ledger names the
rule and the receipt of a release; indexes for the release run and for a late sale finding its released coupons

Revision ID: credit_0005
Revises: credit_0004
"""

revision = "credit_0005"
down_revision = "credit_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from alembic import op

    for col in ("rule", "store_id", "receipt_no"):  # 0004's create_all may have made them on a fresh database
        op.execute(f"ALTER TABLE coupon_movements ADD COLUMN IF NOT EXISTS {col} text")
    op.execute("CREATE INDEX IF NOT EXISTS coupon_movements_released ON coupon_movements (store_id, receipt_no) "
               "WHERE kind = 'redemption_released'")
    op.execute("CREATE INDEX IF NOT EXISTS coupons_unclaimed_spends ON coupons (redeemed_at) "
               "WHERE status = 'redeemed' AND redeemed_sale_id IS NULL")


def downgrade() -> None:
    from alembic import op

    op.execute("DROP INDEX IF EXISTS coupons_unclaimed_spends")
    op.execute("DROP INDEX IF EXISTS coupon_movements_released")
    for col in ("receipt_no", "store_id", "rule"):
        op.execute(f"ALTER TABLE coupon_movements DROP COLUMN IF EXISTS {col}")
