"""members: a blacklist entry can be lifted and the phone listed again (M-16), and a request's decision keeps the
decider's note (M-15). Each listing becomes its own row (`entry_id`): lifting keeps the row (who, when, why) so the
history stays, and records the states the listing moved files out of so lifting restores them; only one listing
per phone is in force at a time. Existing rows keep their content (no states recorded: lifting derives them).

Revision ID: members_0012
Revises: members_0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "members_0012"
down_revision = "members_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("blacklist", sa.Column("entry_id", sa.BigInteger(), sa.Identity(always=False), nullable=False))
    op.drop_constraint("blacklist_pkey", "blacklist", type_="primary")
    op.create_primary_key("blacklist_pkey", "blacklist", ["entry_id"])
    op.add_column("blacklist", sa.Column("prior_states", JSONB(), nullable=True))
    op.add_column("blacklist", sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("blacklist", sa.Column("lifted_by", sa.Text(), nullable=True))
    op.add_column("blacklist", sa.Column("lift_reason", sa.Text(), nullable=True))
    op.create_index("ix_blacklist_mobile_index", "blacklist", ["mobile_index"])
    op.create_index("blacklist_in_force", "blacklist", ["mobile_index"], unique=True,
                    postgresql_where=sa.text("lifted_at IS NULL"))
    op.add_column("requests", sa.Column("decision_note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("requests", "decision_note")
    op.execute("DELETE FROM blacklist WHERE lifted_at IS NOT NULL")  # the earlier schema has one row per phone
    op.drop_index("blacklist_in_force", table_name="blacklist")
    op.drop_index("ix_blacklist_mobile_index", table_name="blacklist")
    for column in ("lift_reason", "lifted_by", "lifted_at", "prior_states"):
        op.drop_column("blacklist", column)
    op.drop_constraint("blacklist_pkey", "blacklist", type_="primary")
    op.create_primary_key("blacklist_pkey", "blacklist", ["mobile_index"])
    op.drop_column("blacklist", "entry_id")
