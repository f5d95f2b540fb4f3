"""channels: a group link belongs to the room, not to a person

A Matrix room that was someone's direct chat could later be linked to a neighbourhood as a
group, and kept that person's id: erasing them (/vergeetmij) then deleted the link with
them (ON DELETE CASCADE). Groups now have no person; this clears the ones stored before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 02:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    channel = sa.table("channel", sa.column("kind", sa.String), sa.column("person_id", sa.Integer))
    op.execute(channel.update().where(channel.c.kind == "group").values(person_id=None))


def downgrade() -> None:
    pass  # which person a group once had is not worth restoring
