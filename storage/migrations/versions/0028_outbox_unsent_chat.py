"""outbox: an index of each chat's unsent rows

Every handled message looks for earlier answers to its chat that nobody is sending (a
worker killed before it sent them: bot/core/replies.py). On ix_outbox_chat that look read
every message the chat was sent in 30 days (3.5 ms on SQLite for a chat with 2,000 kept,
against 0.56 ms with this index); this index holds the unsent rows only, usually none.

Revision ID: 0028_outbox_unsent_chat
Revises: 0027_outbox_waiting
Create Date: 2026-12-04 05:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0028_outbox_unsent_chat'
down_revision = '0027_outbox_waiting'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.create_index(
            'ix_outbox_unsent_chat', ['platform', 'chat_id', 'id'], unique=False,
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unsent_chat')
