"""Members tables: organisation (O-01), member files, cards (M-17), consumption records."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

stores = sa.Table(
    "stores", metadata,
    sa.Column("store_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("region_code", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("program", sa.Text, nullable=False),
)

staff = sa.Table(
    "staff", metadata,
    sa.Column("staff_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("position", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
)

card_sequences = sa.Table(
    "card_sequences", metadata,
    sa.Column("region_code", sa.Text, primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)

members = sa.Table(
    "members", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("referrer_staff_id", sa.Text),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("name_index", sa.Text, nullable=False),
    sa.Column("mobile_enc", sa.Text, nullable=False),
    sa.Column("mobile_index", sa.Text, nullable=False),
    sa.Column("card_no", sa.Text, nullable=False, unique=True),
    sa.Column("card_status", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("birthday", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("store_id", "mobile_index", name="members_one_file_per_store"),  # M-06
)

consumptions = sa.Table(
    "consumptions", metadata,
    sa.Column("sale_id", sa.Text, primary_key=True),
    sa.Column("member_id", sa.Text, nullable=False, index=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("cashier_staff_id", sa.Text),
    sa.Column("booked_by_staff_id", sa.Text),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
)
