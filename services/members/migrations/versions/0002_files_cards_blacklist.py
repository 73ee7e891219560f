"""members: two-stage files with review (M-03, M-04), staff logins (O-03), card history (M-17),
blacklist (M-16), access log (M-07)

Revision ID: members_0002
Revises: members_0001
"""
from members.adapters.tables import (
    access_log,
    blacklist,
    cards,
    claim_carry,
    handovers,
    import_rejects,
    imports,
    metadata,
    periodic_runs,
    prospects,
    referrer_losses,
    requests,
    revisits,
)

revision = "members_0002"
down_revision = "members_0001"
branch_labels = None
depends_on = None

# 0001 creates from the live metadata: on a fresh database these already exist, hence IF NOT EXISTS.
COLUMNS = (
    "ALTER TABLE staff ADD COLUMN IF NOT EXISTS mobile_index TEXT",
    "ALTER TABLE staff ADD COLUMN IF NOT EXISTS password_hash TEXT",
    "ALTER TABLE staff ADD COLUMN IF NOT EXISTS started_on DATE",
    "CREATE INDEX IF NOT EXISTS ix_staff_mobile_index ON staff (mobile_index)",
    "ALTER TABLE members ALTER COLUMN card_no DROP NOT NULL",
    "ALTER TABLE members ADD COLUMN IF NOT EXISTS details JSONB",
    "ALTER TABLE members ADD COLUMN IF NOT EXISTS id_card_enc TEXT",
    "ALTER TABLE members ADD COLUMN IF NOT EXISTS id_card_index TEXT",
    "ALTER TABLE members ADD COLUMN IF NOT EXISTS stage INTEGER NOT NULL DEFAULT 2",
    "ALTER TABLE members ADD COLUMN IF NOT EXISTS submitted_at TIMESTAMPTZ",
    "ALTER TABLE members ADD COLUMN IF NOT EXISTS reviewed_by TEXT",
    "ALTER TABLE members ADD COLUMN IF NOT EXISTS reviewed_at TIMESTAMPTZ",
    "ALTER TABLE members ADD COLUMN IF NOT EXISTS review_note TEXT",
)


def upgrade() -> None:
    from alembic import op

    for sql in COLUMNS:
        op.execute(sql)
    tables = [cards, blacklist, access_log, periodic_runs, claim_carry, requests, handovers, imports,
              import_rejects, revisits, prospects, referrer_losses]
    metadata.create_all(op.get_bind(), tables=tables,
                        checkfirst=True)
    op.execute("INSERT INTO cards (card_no, member_id, store_id, status) SELECT card_no, member_id, store_id, "
               "card_status FROM members WHERE card_no IS NOT NULL ON CONFLICT DO NOTHING")


def downgrade() -> None:
    from alembic import op

    for t in ("referrer_losses", "prospects", "revisits", "import_rejects", "imports", "handovers", "requests",
              "claim_carry", "periodic_runs", "access_log", "blacklist", "cards"):
        op.drop_table(t)
