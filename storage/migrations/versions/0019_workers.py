"""workers: an outbox row's lease (which worker claimed it, until when)

Revision ID: 0019_workers
Revises: 0018_dialogue
Create Date: 2026-12-03 09:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_workers'
down_revision = '0018_dialogue'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('claimed_by')
