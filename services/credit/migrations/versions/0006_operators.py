"""credit: who did it, from the staff token, for the actions that did not record it (issue 12)

Suspending or resuming an account, clearing or bouncing a cheque (a payment's or a coupon sale's) and recording a
rebate's collection now keep the operator's staff id (and when); a cheque cleared by the daily run keeps none.

Revision ID: credit_0006
Revises: credit_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "credit_0006"
down_revision = "credit_0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("credit_accounts", sa.Column("suspension_by", sa.Text(), nullable=True))
    op.add_column("credit_accounts", sa.Column("suspension_at", TS, nullable=True))
    op.add_column("payments", sa.Column("settled_by", sa.Text(), nullable=True))
    op.add_column("payments", sa.Column("settled_at", TS, nullable=True))
    op.add_column("coupon_sales", sa.Column("cheque_settled_by", sa.Text(), nullable=True))
    op.add_column("coupon_sales", sa.Column("cheque_settled_at", TS, nullable=True))
    op.add_column("rebates", sa.Column("collection_recorded_by", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("rebates", "collection_recorded_by")
    op.drop_column("coupon_sales", "cheque_settled_at")
    op.drop_column("coupon_sales", "cheque_settled_by")
    op.drop_column("payments", "settled_at")
    op.drop_column("payments", "settled_by")
    op.drop_column("credit_accounts", "suspension_at")
    op.drop_column("credit_accounts", "suspension_by")
