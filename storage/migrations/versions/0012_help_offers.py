"""help offers: "I'll help" on an idea, one per person, answered by the initiator

Revision ID: 0012_help_offers
Revises: 0011_signalen
Create Date: 2026-12-03 07:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_help_offers'
down_revision = '0011_signalen'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ideaoffer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('author_notified', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_ideaoffer_idea_id_idea'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_ideaoffer_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ideaoffer')),
    sa.UniqueConstraint('idea_id', 'person_id', name=op.f('uq_ideaoffer_idea_id_person_id'))
    )
    with op.batch_alter_table('ideaoffer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ideaoffer_author_notified'), ['author_notified'], unique=False)
        batch_op.create_index(batch_op.f('ix_ideaoffer_idea_id'), ['idea_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ideaoffer_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ideaoffer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ideaoffer_person_id'))
        batch_op.drop_index(batch_op.f('ix_ideaoffer_idea_id'))
        batch_op.drop_index(batch_op.f('ix_ideaoffer_author_notified'))

    op.drop_table('ideaoffer')
