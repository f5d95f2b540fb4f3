"""outbox: an index of the rows under a lease

The sender's claim looks up the chats another worker holds (rows not sent, under a lease
that runs): with only the pending index it read every waiting row, on every claim.

Revision ID: 0025_outbox_leased
Revises: 0024_public
Create Date: 2026-12-03 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0025_outbox_leased'
down_revision = '0024_public'
branch_labels = None
depends_on = None

WHERE = sa.text("sent_at IS NULL AND lease_until IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.create_index(
            'ix_outbox_leased', ['platform', 'lease_until'], unique=False,
            sqlite_where=WHERE, postgresql_where=WHERE,
        )


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_leased')
