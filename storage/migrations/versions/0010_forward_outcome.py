"""forward outcome: why a forward failed, in words a coordinator can act on

Revision ID: 0010_forward_outcome
Revises: 0009
Create Date: 2026-12-03 06:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_forward_outcome'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('signalforward', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signalforward', schema=None) as batch_op:
        batch_op.drop_column('reason')
