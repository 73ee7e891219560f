"""Loyalty tables (its own database). The ledger is append-only (L-02); balances are kept beside it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

stores = sa.Table(
    "stores", metadata,
    sa.Column("store_id", sa.Text, primary_key=True),
    sa.Column("program", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("region_code", sa.Text),
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("program", sa.Text, primary_key=True),
    sa.Column("tier", sa.Text, nullable=False),
    sa.Column("points_balance", sa.BigInteger, nullable=False),
    sa.Column("tier_spend", sa.BigInteger, nullable=False),
    sa.Column("state", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),  # lots, spends (L-14/15)
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

ledger = sa.Table(
    "ledger", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False, index=True),
    sa.Column("program", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # earn | reverse | redeem | expire | adjust | opening (M-19)
    sa.Column("points", sa.BigInteger, nullable=False),
    sa.Column("spend", sa.BigInteger, nullable=False),
    sa.Column("store_id", sa.Text),
    sa.Column("receipt_no", sa.Text),
    sa.Column("cause_event_id", sa.Uuid, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("detail", JSONB),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("cause_event_id", "kind", name="ledger_one_entry_per_cause"),
)

sa.Index("ledger_program_kind_time", ledger.c.program, ledger.c.kind, ledger.c.occurred_at)
sa.Index("ledger_member_entry", ledger.c.member_id, ledger.c.id)  # a member's ledger page, newest first (console)

tier_changes = sa.Table(
    "tier_changes", metadata,  # every tier change with its reason: upgrades (L-04), yearly downgrades (L-05)
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False, index=True),
    sa.Column("program", sa.Text, nullable=False),
    sa.Column("from_tier", sa.Text, nullable=False),
    sa.Column("to_tier", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("cause_event_id", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("cause_event_id", "member_id", "program", name="tier_changes_one_per_cause"),
)

adjustments = sa.Table(
    "adjustments", metadata,  # manual points and back-filled receipts: reason + a second person (L-02, M-18)
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False),
    sa.Column("program", sa.Text, nullable=False),
    sa.Column("points", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("receipt_no", sa.Text),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.Text, nullable=False),  # requested | approved | rejected
)

runs = sa.Table(
    "runs", metadata,  # scheduled jobs done, once per period (L-05, L-08, L-10)
    sa.Column("job", sa.Text, primary_key=True),
    sa.Column("period", sa.Text, primary_key=True),
    sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("result", JSONB, nullable=False),
)

members = sa.Table(
    "members", metadata,  # what loyalty needs of a member file: home store and birthday (L-06, L-10)
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("birthday", sa.Date),
)

sa.Index("members_store_member", members.c.store_id, members.c.member_id)  # a store's desk-claim list (L-09)

stored_value = sa.Table(
    "stored_value", metadata,  # prepaid balance per member and program, fen (L-11)
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("program", sa.Text, primary_key=True),
    sa.Column("balance", sa.BigInteger, nullable=False),
    sa.Column("held", sa.BigInteger, nullable=False, server_default="0",
              comment="fen held by POS terminals for sales on their way (L-11); never above balance"),
    sa.CheckConstraint("held >= 0 AND held <= balance", name="stored_value_held_within_balance"),
)

stored_value_holds = sa.Table(
    "stored_value_holds", metadata,  # one per receipt paid with stored value (L-11)
    sa.Column("store_id", sa.Text, primary_key=True),
    sa.Column("receipt_no", sa.Text, primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False),
    sa.Column("program", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # held | captured | released
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("settled_at", sa.DateTime(timezone=True)),
)

sa.Index("stored_value_holds_open", stored_value_holds.c.expires_at,
         postgresql_where=stored_value_holds.c.status == "held")

stored_value_ledger = sa.Table(
    "stored_value_ledger", metadata,  # append-only like the points ledger (L-11)
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False, index=True),
    sa.Column("program", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # topup | spend | refund (receipt_no: the refunded receipt) | opening
    sa.Column("amount", sa.BigInteger, nullable=False, comment="fen; the bonus included for top-ups"),
    sa.Column("paid", sa.BigInteger, nullable=False, server_default="0", comment="cash paid for a top-up"),
    sa.Column("bonus", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("shortfall", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("store_id", sa.Text),
    sa.Column("receipt_no", sa.Text),
    sa.Column("staff_id", sa.Text),
    sa.Column("cause_id", sa.Uuid, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("detail", JSONB, comment="an opening's cause: reason, import_id, row_no, operator (M-19; loyalty_0006)"),
    sa.UniqueConstraint("cause_id", "kind", name="stored_value_one_entry_per_cause"),
)
