"""theme groups: a newcomer's yes to a welcome by first name in a theme group

Revision ID: 0016_theme_groups
Revises: 0014_partners
Create Date: 2026-12-03 07:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_theme_groups'
down_revision = '0015_introductions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'groupwelcome',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('person_id', 'channel_id'),
    )
    with op.batch_alter_table('groupwelcome', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_groupwelcome_channel_id'), ['channel_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_groupwelcome_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('groupwelcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupwelcome_person_id'))
        batch_op.drop_index(batch_op.f('ix_groupwelcome_channel_id'))
    op.drop_table('groupwelcome')
