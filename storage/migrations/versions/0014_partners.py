"""partners: organisations that hear about ideas and reports, and answer "we can help"

Revision ID: 0014_partners
Revises: 0011_signalen
Create Date: 2026-12-03 07:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_partners'
down_revision = '0013_rsvp'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'partner',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
        sa.Column('organisation', sa.String(length=120), nullable=False),
        sa.Column('theme_ids', sa.JSON(), nullable=False),
        sa.Column('categories', sa.JSON(), nullable=False),
        sa.Column('may_announce', sa.Boolean(), nullable=False),
        sa.Column('told_idea_id', sa.Integer(), nullable=False),
        sa.Column('told_signal_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhood.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('person_id', 'neighbourhood_id'),
    )
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_person_id'), ['person_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_partner_neighbourhood_id'), ['neighbourhood_id'], unique=False
        )
    op.create_table(
        'partnerresponse',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('idea_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idea_id', 'partner_id'),
    )
    with op.batch_alter_table('partnerresponse', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnerresponse_idea_id'), ['idea_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_partnerresponse_partner_id'), ['partner_id'], unique=False
        )


def downgrade() -> None:
    op.drop_table('partnerresponse')
    op.drop_table('partner')
