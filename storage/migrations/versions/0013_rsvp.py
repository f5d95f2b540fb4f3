"""rsvp: "I'm coming" to announced events, cancelling an event, the organiser's count

Revision ID: 0013_rsvp
Revises: 0011_signalen
Create Date: 2026-12-03 07:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_rsvp'
down_revision = '0012_help_offers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column('rsvp_told', sa.Integer(), nullable=False, server_default='0')
        )
        batch_op.add_column(sa.Column('rsvp_told_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'eventrsvp',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('announcement_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('reminded', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['announcement_id'], ['announcement.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('announcement_id', 'person_id'),
    )
    with op.batch_alter_table('eventrsvp', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_eventrsvp_announcement_id'), ['announcement_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_eventrsvp_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('eventrsvp', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eventrsvp_person_id'))
        batch_op.drop_index(batch_op.f('ix_eventrsvp_announcement_id'))
    op.drop_table('eventrsvp')
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_column('rsvp_told_at')
        batch_op.drop_column('rsvp_told')
        batch_op.drop_column('cancelled_at')
