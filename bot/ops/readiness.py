"""`wijkbot check`: is this deployment ready? One plain line per check; exit 1 if not.

- the database answers;
- every leader role (polling, the scheduler, each platform's sending) is held by a live
  worker (PostgreSQL; on SQLite the one running process holds them all);
- no outbox message has waited longer than the threshold since it was due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.core.clock import Clock, SystemClock
from bot.delivery.leader import SCHEDULER, inbound_role, outbox_role
from storage.db import Database
from storage.locks import HOLDERS, key_of, lock_key
from storage.repo import outbox
from storage.repo.outbox import WORKER_PREFIX

OUTBOX_MAX_AGE = timedelta(minutes=15)  # a 10,000-recipient broadcast takes 5.5 minutes
Say = Callable[[str], None]


def roles_for(settings: Settings) -> list[str]:
    names = [SCHEDULER]
    for platform in settings.platforms:
        names += [inbound_role(platform), outbox_role(platform)]
    return names


async def _roles(db: Database, settings: Settings, say: Say) -> bool:
    if db.is_sqlite:
        say("ok    roles: SQLite, one process holds them all")
        return True
    async with db.session() as session:
        found = (await session.exec(text(HOLDERS))).all()  # type: ignore[call-overload]
    holders = {key_of(c, o): str(name or "") for c, o, name in found}
    ready = True
    for role in roles_for(settings):
        holder = holders.get(lock_key(role))
        if holder is None:
            say(f"FAIL  role {role}: held by no worker (is a worker running?)")
            ready = False
        else:
            say(f"ok    role {role}: held by {holder.removeprefix(WORKER_PREFIX)}")
    return ready


async def _outbox(db: Database, now: datetime, max_age: timedelta, say: Say) -> bool:
    try:
        async with db.session() as session:
            found = await outbox.backlog(session, now)
    except SQLAlchemyError as exc:  # the database answers, but has no outbox (yet)
        say(f"FAIL  outbox: cannot read it ({type(exc).__name__}); run `wijkbot db upgrade`?")
        return False
    if not found:
        say("ok    outbox: nothing waiting")
    ready = True
    for platform, count, oldest in found:
        age = now - oldest if oldest is not None else timedelta(0)
        line = (
            f"outbox {platform}: {count} waiting, the oldest due for {int(age.total_seconds())} s "
            f"(at most {int(max_age.total_seconds())} s)"
        )
        ok = age <= max_age
        ready = ready and ok
        say(("ok    " if ok else "FAIL  ") + line)
    return ready


async def readiness(
    settings: Settings,
    say: Say = print,
    max_age: timedelta = OUTBOX_MAX_AGE,
    clock: Clock | None = None,
) -> bool:
    """Run every check, saying each; whether all passed. Raises when the database is away."""
    db = Database(settings.effective_database_url)
    try:
        async with db.session() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        say("ok    database answers")
        roles = await _roles(db, settings, say)
        now = (clock or SystemClock()).now()
        return await _outbox(db, now, max_age, say) and roles
    finally:
        await db.dispose()
