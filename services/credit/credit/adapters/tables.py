"""Credit tables: receivables of group buyers (C-03)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

receivables = sa.Table(
    "receivables", metadata,
    sa.Column("receivable_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False, index=True),
    sa.Column("sale_id", sa.Text, nullable=False),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("receipt_no", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("authorization_id", sa.Text),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("sale_id", "customer_id", "authorization_id", name="receivable_once_per_payment"),
)
