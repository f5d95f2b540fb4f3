"""signalen: the municipality's number, when it closed, a reopen request on its way

Revision ID: 0011_signalen
Revises: 0009
Create Date: 2026-12-03 06:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_signalen'
down_revision = '0010_forward_outcome'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('signalforward', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reopen_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reopen_due_at', sa.DateTime(timezone=True), nullable=True))
    # Closed before this revision: watched from their last check on.
    op.execute(
        "UPDATE signalforward SET closed_at = checked_at "
        "WHERE external_state IN ('resolved', 'closed')"
    )


def downgrade() -> None:
    with op.batch_alter_table('signalforward', schema=None) as batch_op:
        batch_op.drop_column('reopen_due_at')
        batch_op.drop_column('reopen_note')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('external_number')
