"""Notify tables: contacts (encrypted mobiles, segment data, consent), stores, templates, messages (one per
cause, template and recipient: N-04) with their status history, campaigns."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("member_id", sa.Text, primary_key=True),
    sa.Column("store_id", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("mobile_enc", sa.Text, nullable=False),
    sa.Column("mobile_hash", sa.Text, index=True),  # keyed hash: find the member of an inbound reply
    sa.Column("language", sa.Text, nullable=False, server_default="zh-CN"),
    sa.Column("marketing_consent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("opted_out_at", sa.DateTime(timezone=True)),
    sa.Column("tier", sa.Text),
    sa.Column("customer_class", sa.Text),
    sa.Column("birthday_month", sa.SmallInteger),
    sa.Column("last_purchase_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
)

stores = sa.Table(
    "stores", metadata,
    sa.Column("store_id", sa.Text, primary_key=True),
    sa.Column("region_code", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
)

templates = sa.Table(
    "templates", metadata,
    sa.Column("brand", sa.Text, primary_key=True),  # '*' = every brand
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("language", sa.Text, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("message_id", sa.Uuid, primary_key=True),
    sa.Column("cause_event_id", sa.Uuid, nullable=False),
    sa.Column("template", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False, server_default="member"),
    sa.Column("member_id", sa.Text),
    # the message's store (the log's store filter): the member's when it was made, else its event's
    sa.Column("store_id", sa.Text),
    sa.Column("mobile_enc", sa.Text),
    sa.Column("sender", sa.Text, nullable=False),
    sa.Column("body", sa.Text),  # purged after the retention period (N-06)
    sa.Column("category", sa.Text, nullable=False, server_default="service"),
    sa.Column("campaign_id", sa.Uuid, index=True),
    # no_contact | held (campaign) -> queued -> sending -> sent -> delivered | undelivered;
    # queued (retry) | parked (N-05); suppressed (N-03, reason in suppressed_reason)
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("suppressed_reason", sa.Text),
    sa.Column("deferred", sa.Text),  # 'quiet_hours' when held to the morning (N-03)
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("provider_message_id", sa.Text, index=True),
    sa.Column("last_error", sa.Text),
    sa.Column("traceparent", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    sa.Column("body_purged_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("cause_event_id", "template", "recipient", name="one_message_per_cause_and_recipient"),
)
sa.Index("messages_due", messages.c.next_attempt_at, postgresql_where=messages.c.status == "queued")
sa.Index("messages_held", messages.c.campaign_id, postgresql_where=messages.c.status == "held")

message_history = sa.Table(
    "message_history", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("message_id", sa.Uuid, nullable=False, index=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

campaigns = sa.Table(
    "campaigns", metadata,
    sa.Column("campaign_id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("brand", sa.Text, nullable=False),
    sa.Column("template_body", sa.Text, nullable=False),
    sa.Column("segment", JSONB, nullable=False),
    sa.Column("rate_per_s", sa.Integer, nullable=False),
    sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
    # scheduled -> running <-> paused -> done
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("recipients", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    # The release allowance (a token bucket of at most rate_per_s messages) as of release_at (the database's
    # clock), kept here so that every notify instance releases from one bucket: the rate is the chain's.
    sa.Column("release_tokens", sa.Float, nullable=False, server_default="0"),
    sa.Column("release_at", sa.DateTime(timezone=True)),
)

operator_actions = sa.Table(
    "operator_actions", metadata,  # who did what through the staff routes: the staff id from the token (O-02)
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("operator", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),  # template.saved, preferences.changed, campaign.created, ...
    sa.Column("subject", sa.Text, nullable=False),  # template key/language, member id, campaign id, message id
    sa.Column("detail", JSONB, nullable=False),
)
sa.Index("operator_actions_subject", operator_actions.c.subject, operator_actions.c.id)
# The message log, newest first, paged by (created_at, message_id): one index per filter the console offers, each
# ending in that key, so a page of any one filter is an index range read however long the log (README "Message log").
# Each carries the status (INCLUDE), so the counts per status read the index alone (an index-only scan).
sa.Index("messages_created", messages.c.created_at, messages.c.message_id, postgresql_include=["status"])
sa.Index("messages_status_created", messages.c.status, messages.c.created_at, messages.c.message_id)
sa.Index("messages_member_created", messages.c.member_id, messages.c.created_at, messages.c.message_id,
         postgresql_include=["status"])
sa.Index("messages_store_created", messages.c.store_id, messages.c.created_at, messages.c.message_id,
         postgresql_include=["status"])
sa.Index("messages_template_created", messages.c.template, messages.c.created_at, messages.c.message_id,
         postgresql_include=["status"])
# the parked queue, oldest first (N-05); small however long the log, so its count reads only this index
sa.Index("messages_parked", messages.c.updated_at, messages.c.message_id,
         postgresql_where=messages.c.status == "parked")
# the hourly body purge (N-06): only bodies not yet erased, so a run reads what is left to purge, not the whole past
sa.Index("messages_body_kept", messages.c.created_at, postgresql_where=messages.c.body.is_not(None))
