"""introductions: an initiator and an accepted helper, introduced only when both said yes

Revision ID: 0015_introductions
Revises: 0014_partners
Create Date: 2026-12-03 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_introductions'
down_revision = '0014_partners'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'introduction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('idea_id', sa.Integer(), nullable=False),
        sa.Column('offer_id', sa.Integer(), nullable=True),
        sa.Column('initiator_id', sa.Integer(), nullable=True),
        sa.Column('helper_id', sa.Integer(), nullable=True),
        sa.Column('initiator_yes', sa.Boolean(), nullable=False),
        sa.Column('helper_yes', sa.Boolean(), nullable=False),
        sa.Column('initiator_platform', sa.String(length=20), nullable=True),
        sa.Column('initiator_handle', sa.String(length=255), nullable=True),
        sa.Column('helper_platform', sa.String(length=20), nullable=True),
        sa.Column('helper_handle', sa.String(length=255), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['offer_id'], ['ideaoffer.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['initiator_id'], ['person.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['helper_id'], ['person.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('introduction', schema=None) as batch_op:
        for column in ('idea_id', 'offer_id', 'initiator_id', 'helper_id'):
            batch_op.create_index(batch_op.f(f'ix_introduction_{column}'), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('introduction', schema=None) as batch_op:
        for column in ('idea_id', 'offer_id', 'initiator_id', 'helper_id'):
            batch_op.drop_index(batch_op.f(f'ix_introduction_{column}'))
    op.drop_table('introduction')
