"""Notify tables: contacts (encrypted mobiles) and messages, one per cause and template (N-04)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("mobile_enc", sa.Text, nullable=False),
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("message_id", sa.Uuid, primary_key=True),
    sa.Column("cause_event_id", sa.Uuid, nullable=False),
    sa.Column("template", sa.Text, nullable=False),
    sa.Column("member_id", sa.Text, index=True),
    sa.Column("mobile_enc", sa.Text),
    sa.Column("sender", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    # no_contact -> queued -> sending -> sent | queued (retry) | parked (N-05)
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("provider_message_id", sa.Text),
    sa.Column("last_error", sa.Text),
    sa.Column("traceparent", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("cause_event_id", "template", name="one_message_per_cause"),
)
sa.Index("messages_due", messages.c.next_attempt_at, postgresql_where=messages.c.status == "queued")
