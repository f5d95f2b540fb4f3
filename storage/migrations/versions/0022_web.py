"""web: one-time login links and browser sessions for the coordinators' web overview

Revision ID: 0022_web
Revises: 0019_workers
Create Date: 2026-12-03 10:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0022_web'
down_revision = '0019_workers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('weblogin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_weblogin_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weblogin'))
    )
    with op.batch_alter_table('weblogin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weblogin_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_weblogin_token_hash'), ['token_hash'], unique=True)

    op.create_table('websession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('csrf', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_websession_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_websession'))
    )
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websession_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_websession_token_hash'), ['token_hash'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_websession_token_hash'))
        batch_op.drop_index(batch_op.f('ix_websession_person_id'))
    op.drop_table('websession')
    with op.batch_alter_table('weblogin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weblogin_token_hash'))
        batch_op.drop_index(batch_op.f('ix_weblogin_person_id'))
    op.drop_table('weblogin')
