"""gateway: every card of a member (blocked/expired cards still recognised, M-17) and the blacklist (M-16)

Revision ID: gateway_0002
Revises: gateway_0001
"""
from gateway.adapters.tables import blacklist, member_cards, metadata

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from alembic import op

    # 0001 creates from the live metadata, so on a fresh database these tables may exist already.
    metadata.create_all(op.get_bind(), tables=[member_cards, blacklist], checkfirst=True)
    op.execute("INSERT INTO member_cards (card_no, member_id, card_status) "
               "SELECT card_no, member_id, card_status FROM member_directory ON CONFLICT DO NOTHING")


def downgrade() -> None:
    from alembic import op

    op.drop_table("blacklist")
    op.drop_table("member_cards")
