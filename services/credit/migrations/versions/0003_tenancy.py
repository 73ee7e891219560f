"""credit: an authorisation is claimed by the receipt that uses it (C-04), and credit sales refused a
receivable are kept for finance

- `authorizations.receipt_no`: the receipt that claimed the hold at the till (the gateway asks before it records
  a credit sale); another receipt naming the same hold is refused (422 C-04).
- `credit_refusals`: a recorded sale whose credit payment names no authorisation of its store, customer and
  amount books no receivable; it is kept here, with the rule and the reason.

Revision ID: credit_0003
Revises: credit_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "credit_0003"
down_revision = "credit_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("authorizations", sa.Column("receipt_no", sa.Text(), nullable=True))
    op.create_table(
        "credit_refusals",
        sa.Column("sale_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("authorization_id", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("receipt_no", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("sale_id", "customer_id", "authorization_id"),
    )


def downgrade() -> None:
    op.drop_table("credit_refusals")
    op.drop_column("authorizations", "receipt_no")
