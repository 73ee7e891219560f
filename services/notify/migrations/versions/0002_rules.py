"""notify: consent, segments, stores, templates, status history, campaigns (N-01..N-06)

Revision ID: notify_0002
Revises: notify_0001
"""
revision = "notify_0002"
down_revision = "notify_0001"
branch_labels = None
depends_on = None

_COLUMNS = [
    ("contacts", "mobile_hash text"), ("contacts", "language text NOT NULL DEFAULT 'zh-CN'"),
    ("contacts", "marketing_consent boolean NOT NULL DEFAULT false"),
    ("contacts", "opted_out_at timestamptz"), ("contacts", "tier text"), ("contacts", "customer_class text"),
    ("contacts", "birthday_month smallint"), ("contacts", "last_purchase_at timestamptz"),
    ("contacts", "status text NOT NULL DEFAULT 'active'"),
    ("messages", "recipient text NOT NULL DEFAULT 'member'"),
    ("messages", "category text NOT NULL DEFAULT 'service'"), ("messages", "campaign_id uuid"),
    ("messages", "suppressed_reason text"), ("messages", "deferred text"),
    ("messages", "delivered_at timestamptz"), ("messages", "body_purged_at timestamptz"),
]


def upgrade() -> None:
    from alembic import op
    from notify.adapters.tables import metadata

    # 0001 builds from the current table definitions, so every statement here tolerates what already exists
    for table, col in _COLUMNS:
        op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {col}")
    op.execute("ALTER TABLE messages ALTER COLUMN body DROP NOT NULL")
    op.execute("ALTER TABLE messages DROP CONSTRAINT IF EXISTS one_message_per_cause")
    op.execute("CREATE INDEX IF NOT EXISTS ix_contacts_mobile_hash ON contacts (mobile_hash)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_messages_campaign_id ON messages (campaign_id)")
    op.execute("CREATE INDEX IF NOT EXISTS messages_held ON messages (campaign_id) WHERE status = 'held'")
    op.execute("CREATE INDEX IF NOT EXISTS ix_messages_provider_message_id ON messages (provider_message_id)")
    op.execute("""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'one_message_per_cause_and_recipient') THEN
            ALTER TABLE messages ADD CONSTRAINT one_message_per_cause_and_recipient
                UNIQUE (cause_event_id, template, recipient);
        END IF; END $$""")
    metadata.create_all(op.get_bind())  # new tables only (checkfirst)


def downgrade() -> None:
    from alembic import op

    for t in ("campaigns", "message_history", "templates", "stores"):
        op.drop_table(t)
