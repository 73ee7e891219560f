"""credit: rebate tiers kept as versions, each effective from a date and naming who set it (C-08, issue 12)

- `rebate_tier_versions`: every change of the rebate tiers is a new version (tiers as JSON, `effective_from` a
  business date of HQ's zone, `set_by` / `set_at` the operator from the staff token); a period is rebated under
  the version in force on its last day, so a change never alters periods already over. The tiers of
  `rebate_tiers` (one set, replaced in place) become version 1, in force from 2000-01-01 (no operator known).
- `rebates.tier_version`: the version a rebate was computed with (none for rebates computed before).
- `rebate_tiers` is dropped.

Revision ID: credit_0007
Revises: credit_0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "credit_0007"
down_revision = "credit_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rebate_tier_versions",
        sa.Column("version", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("tiers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_index("rebate_tier_versions_effective", "rebate_tier_versions", ["effective_from", "version"])
    op.execute("INSERT INTO rebate_tier_versions (effective_from, tiers, set_by, set_at) "
               "SELECT DATE '2000-01-01', jsonb_agg(jsonb_build_object('min_purchases', min_purchases, "
               "'rate_bp', rate_bp) ORDER BY min_purchases), NULL, now() FROM rebate_tiers HAVING count(*) > 0")
    op.drop_table("rebate_tiers")
    op.add_column("rebates", sa.Column("tier_version", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("rebates", "tier_version")
    op.create_table(
        "rebate_tiers",
        sa.Column("min_purchases", sa.BigInteger(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("min_purchases"),
    )
    op.execute("INSERT INTO rebate_tiers (min_purchases, rate_bp) SELECT (t->>'min_purchases')::bigint, "
               "(t->>'rate_bp')::int FROM (SELECT tiers FROM rebate_tier_versions "
               "ORDER BY effective_from DESC, version DESC LIMIT 1) v, jsonb_array_elements(v.tiers) t")
    op.drop_index("rebate_tier_versions_effective", table_name="rebate_tier_versions")
    op.drop_table("rebate_tier_versions")
