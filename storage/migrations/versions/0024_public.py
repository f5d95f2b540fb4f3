"""public: a neighbourhood opts in to a public web page

Revision ID: 0024_public
Revises: 0023_forum
Create Date: 2026-12-03 13:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0024_public'
down_revision = '0023_forum'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('public_page', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        batch_op.drop_column('public_page')
