"""members: member-present proof for spending (L-07, L-11) — PINs (scrypt hash), one-time SMS codes (keyed hash,
expiry, use), the per-member failure counter and lock, and the audit of every attempt

Revision ID: members_0003
Revises: members_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "members_0003"
down_revision = "members_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_pins",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("pin_hash", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "proof_challenges",
        sa.Column("challenge_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.Text(), nullable=False),
        sa.Column("store_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_for", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("challenge_id"),
    )
    op.create_index("proof_challenges_member", "proof_challenges", ["member_id", "created_at"])
    op.create_table(
        "proof_guard",
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "proof_audit",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("card_no", sa.Text(), nullable=True),
        sa.Column("store_id", sa.Text(), nullable=True),
        sa.Column("cashier_staff_id", sa.Text(), nullable=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("ref", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("proof_audit_member", "proof_audit", ["member_id", "id"])


def downgrade() -> None:
    op.drop_index("proof_audit_member", table_name="proof_audit")
    op.drop_table("proof_audit")
    op.drop_table("proof_guard")
    op.drop_index("proof_challenges_member", table_name="proof_challenges")
    op.drop_table("proof_challenges")
    op.drop_table("member_pins")
