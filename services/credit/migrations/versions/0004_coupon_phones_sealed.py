"""credit: coupon buyers' phones encrypted (C-09, N-06): `phone` becomes `phone_enc`, with a blind index

Phones stored in clear before this revision stay readable (credit reads a clear phone as such) and are encrypted,
with their index filled, by the service's re-encryption pass (started with the service, or
`python -m credit.pii rotate`): the keys are settings, not something a migration holds.

Revision ID: credit_0004
Revises: credit_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "credit_0004"
down_revision = "credit_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("coupon_sales", "phone", new_column_name="phone_enc")
    op.add_column("coupon_sales", sa.Column("phone_index", sa.Text(), nullable=True))
    op.create_index("ix_coupon_sales_phone_index", "coupon_sales", ["phone_index"])


def downgrade() -> None:
    op.drop_index("ix_coupon_sales_phone_index", table_name="coupon_sales")
    op.drop_column("coupon_sales", "phone_index")
    op.alter_column("coupon_sales", "phone_enc", new_column_name="phone")
