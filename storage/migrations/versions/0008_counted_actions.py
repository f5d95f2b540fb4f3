"""counted actions: what counts towards a person's per-hour limits

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('countedaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_countedaction_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_countedaction'))
    )
    with op.batch_alter_table('countedaction', schema=None) as batch_op:
        batch_op.create_index('ix_countedaction_person_action', ['person_id', 'action', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('countedaction', schema=None) as batch_op:
        batch_op.drop_index('ix_countedaction_person_action')
    op.drop_table('countedaction')
