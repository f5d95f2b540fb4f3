"""inbox: what a platform handed us, kept until handled

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inboxentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('chat_id', sa.String(length=255), nullable=False),
    sa.Column('event', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inboxentry')),
    sa.UniqueConstraint('source', 'key', name=op.f('uq_inboxentry_source_key'))
    )
    with op.batch_alter_table('inboxentry', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_waiting', ['source', 'handled_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inboxentry', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_waiting')

    op.drop_table('inboxentry')
