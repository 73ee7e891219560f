"""Loyalty tables (its own database). The ledger is append-only (L-02); balances are kept beside it."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

stores = sa.Table(
    "stores", metadata,
    sa.Column("store_id", sa.Text, primary_key=True),
    sa.Column("program", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("program", sa.Text, primary_key=True),
    sa.Column("tier", sa.Text, nullable=False),
    sa.Column("points_balance", sa.BigInteger, nullable=False),
    sa.Column("tier_spend", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

ledger = sa.Table(
    "ledger", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False, index=True),
    sa.Column("program", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # earn | reverse
    sa.Column("points", sa.BigInteger, nullable=False),
    sa.Column("spend", sa.BigInteger, nullable=False),
    sa.Column("store_id", sa.Text),
    sa.Column("receipt_no", sa.Text),
    sa.Column("cause_event_id", sa.Uuid, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("cause_event_id", "kind", name="ledger_one_entry_per_cause"),
)
