"""credit: group-buy coupons (C-09), rebate tiers, rebates and slips (C-08)

Revision ID: credit_0003
Revises: credit_0002
"""
from credit.adapters.tables import metadata

revision = "credit_0003"
down_revision = "credit_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from alembic import op

    metadata.create_all(op.get_bind())  # checkfirst: only what 0001/0002 did not create


def downgrade() -> None:
    from alembic import op

    for t in ("rebates", "rebate_tiers", "coupon_sales", "coupons", "coupon_batches"):
        op.drop_table(t)
    op.execute("DROP SEQUENCE IF EXISTS rebate_slip_no")
