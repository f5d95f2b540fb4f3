"""forum: lottery-drawn neighbourhood forums, pools, letter codes, population figures, shared age bands

Revision ID: 0023_forum
Revises: 0022_web
Create Date: 2026-12-03 11:44:44.576236
"""
from alembic import op
import sqlalchemy as sa


revision = '0023_forum'
down_revision = '0022_web'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('ageband',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('age_band', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_ageband_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ageband'))
    )
    with op.batch_alter_table('ageband', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ageband_person_id'), ['person_id'], unique=True)

    op.create_table('forum',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=300), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('quotas', sa.JSON(), nullable=False),
    sa.Column('pool_closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirm_days', sa.Integer(), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=True),
    sa.Column('probabilities', sa.JSON(), nullable=False),
    sa.Column('composition', sa.JSON(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_forum_created_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhood.id'], name=op.f('fk_forum_neighbourhood_id_neighbourhood'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum'))
    )
    with op.batch_alter_table('forum', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_neighbourhood_id'), ['neighbourhood_id'], unique=False)

    op.create_table('population',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('age_band', sa.String(length=8), nullable=False),
    sa.Column('residents', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhood.id'], name=op.f('fk_population_neighbourhood_id_neighbourhood'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population')),
    sa.UniqueConstraint('neighbourhood_id', 'age_band', name=op.f('uq_population_neighbourhood_id_age_band'))
    )
    with op.batch_alter_table('population', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_neighbourhood_id'), ['neighbourhood_id'], unique=False)

    op.create_table('forumcode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('forum_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['forum_id'], ['forum.id'], name=op.f('fk_forumcode_forum_id_forum'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forumcode')),
    sa.UniqueConstraint('forum_id', 'code_hash', name=op.f('uq_forumcode_forum_id_code_hash'))
    )
    with op.batch_alter_table('forumcode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forumcode_forum_id'), ['forum_id'], unique=False)

    op.create_table('forummember',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('forum_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['forum_id'], ['forum.id'], name=op.f('fk_forummember_forum_id_forum'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_forummember_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forummember')),
    sa.UniqueConstraint('forum_id', 'number', name=op.f('uq_forummember_forum_id_number')),
    sa.UniqueConstraint('forum_id', 'person_id', name=op.f('uq_forummember_forum_id_person_id'))
    )
    with op.batch_alter_table('forummember', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forummember_forum_id'), ['forum_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forummember_person_id'), ['person_id'], unique=False)



def downgrade() -> None:

    with op.batch_alter_table('forummember', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forummember_person_id'))
        batch_op.drop_index(batch_op.f('ix_forummember_forum_id'))

    op.drop_table('forummember')
    with op.batch_alter_table('forumcode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forumcode_forum_id'))

    op.drop_table('forumcode')
    with op.batch_alter_table('population', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_neighbourhood_id'))

    op.drop_table('population')
    with op.batch_alter_table('forum', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_neighbourhood_id'))
        batch_op.drop_index(batch_op.f('ix_forum_ends_at'))

    op.drop_table('forum')
    with op.batch_alter_table('ageband', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ageband_person_id'))

    op.drop_table('ageband')
