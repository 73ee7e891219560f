"""Gateway tables: API keys, accepted receipts (idempotency), and read models fed by members.events."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("secret_hash", sa.Text, nullable=False),  # sha256 of a 256-bit random secret
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

sales = sa.Table(
    "sales", metadata,
    sa.Column("store_id", sa.Text, primary_key=True),
    sa.Column("receipt_no", sa.Text, primary_key=True),
    sa.Column("sale_id", sa.Text, nullable=False, unique=True),
    sa.Column("body_hash", sa.Text, nullable=False),
    sa.Column("member_id", sa.Text),
    sa.Column("event_key", sa.Text),  # the sale event's Kafka key: its refunds use it too, so they follow the sale
    sa.Column("lines", JSONB, nullable=False),      # {line_no: {qty, paid, special_price}}
    sa.Column("refunded", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("response", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

sa.Index("sales_created_at", sales.c.created_at)  # today's sales per store (the console's dashboard)

refunds = sa.Table(
    "refunds", metadata,
    sa.Column("store_id", sa.Text, primary_key=True),
    sa.Column("receipt_no", sa.Text, primary_key=True),
    sa.Column("refund_id", sa.Text, nullable=False, unique=True),
    sa.Column("original_receipt_no", sa.Text, nullable=False),
    sa.Column("body_hash", sa.Text, nullable=False),
    sa.Column("response", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

stores = sa.Table(
    "stores", metadata,
    sa.Column("store_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("region_code", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("program", sa.Text, nullable=False),
)

member_directory = sa.Table(
    "member_directory", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("card_no", sa.Text, nullable=False, unique=True),
    sa.Column("mobile_index", sa.Text, nullable=False, index=True),
    sa.Column("name_index", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("card_status", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("birthday", sa.Date),
)

member_cards = sa.Table(  # every card ever issued (M-17): an old, blocked card is still recognised
    "member_cards", metadata,
    sa.Column("card_no", sa.Text, primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False, index=True),
    sa.Column("card_status", sa.Text, nullable=False),
)

blacklist = sa.Table(  # M-16: shared by all stores, keyed by the phone's blind index (members or not)
    "blacklist", metadata,
    sa.Column("mobile_index", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("member_id", sa.Text),
)
