"""send budget: a token bucket per platform that every sending worker takes from

With WIJKBOT_OUTBOX_SENDERS=all every worker sends each platform's outbox; Telegram's
overall limit then holds across them through this table (one row per platform, written on
first use). A new table: older workers running during the upgrade do not see it.

Revision ID: 0026_send_budget
Revises: 0025_outbox_leased
Create Date: 2026-12-04 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0026_send_budget'
down_revision = '0025_outbox_leased'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sendbudget',
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('granted', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', name=op.f('pk_sendbudget'))
    )


def downgrade() -> None:
    op.drop_table('sendbudget')
