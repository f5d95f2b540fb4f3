"""initiatives: an idea with helpers becomes an initiative (a linked group chat), then done

Revision ID: 0017_initiatives
Revises: 0016_theme_groups
Create Date: 2026-12-03 09:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017_initiatives'
down_revision = '0016_theme_groups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'initiative',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('idea_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('platform', sa.String(length=20), nullable=True),
        sa.Column('chat_id', sa.String(length=255), nullable=True),
        sa.Column('done_text', sa.Text(), nullable=False),
        sa.Column('photo_platform', sa.String(length=20), nullable=True),
        sa.Column('photo_file_id', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idea_id'),
        sa.UniqueConstraint('platform', 'chat_id'),
    )


def downgrade() -> None:
    op.drop_table('initiative')
