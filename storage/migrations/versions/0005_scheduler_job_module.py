"""scheduler: stored jobs name the scheduler's new module

The scheduler moved from `bot/jobs.py` to `bot/delivery/scheduler.py`. APScheduler keeps
each cron job (the digests) pickled in `apscheduler_jobs` with the dotted name of the
function it runs; a job that names a module that no longer exists cannot be restored, and
the bot would fail to start. This rewrites that name, nothing else, so a digest missed while
the bot was being upgraded is still sent once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 22:00:00
"""
import pickle

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OLD = "bot.jobs:run_registered"
NEW = "bot.delivery.scheduler:run_registered"
TABLE = "apscheduler_jobs"  # APScheduler's own table, made by its job store when first used


def _rename(old: str, new: str) -> None:
    bind = op.get_bind()
    if not sa.inspect(bind).has_table(TABLE):
        return
    jobs = sa.table(TABLE, sa.column("id", sa.String), sa.column("job_state", sa.LargeBinary))
    for job_id, blob in bind.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        state = pickle.loads(blob)  # written by this bot's own scheduler
        if state.get("func") != old:
            continue
        state["func"] = new
        bind.execute(
            jobs.update().where(jobs.c.id == job_id).values(job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
        )


def upgrade() -> None:
    _rename(OLD, NEW)


def downgrade() -> None:
    _rename(NEW, OLD)
