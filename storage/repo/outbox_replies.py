"""Answers to incoming messages, kept in the outbox while they are on their way.

The worker that handles a message writes its answers here in the transaction that marks the
message handled, claimed by itself under a lease (`keep`), sends them at once after the
commit, and deletes them once the platform took them (`forget`): an answer (all of a
person's data, for /mijngegevens) is stored only while it is in flight. A worker killed in
between leaves them claimed by a worker that is gone; the next message of that chat takes
them over first (`take_over`), or any worker's outbox sender sends them. `extra["reply"]`
marks such a row (bot/core/replies.py writes and reads them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import OutboxMessage
from storage.repo.outbox_claim import Outgoing, claiming, free

REPLY = "reply"  # the key in `extra` that marks an answer
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_OUTGOING = [_OUTBOX.c[name] for name in Outgoing.__slots__]
# Statements built once (per database kind): every handled message runs them.
_KEEP = (
    insert(_OUTBOX)
    .values(claimed_at=bindparam("b_now"), claimed_by=bindparam("b_worker"),
            lease_until=bindparam("b_lease"))
    .returning(_OUTBOX.c.id)
)  # fmt: skip
_FORGET = delete(_OUTBOX).where(_OUTBOX.c.id.in_(bindparam("b_ids", expanding=True)))
_RELEASE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("b_ids", expanding=True)), _OUTBOX.c.sent_at.is_(None))
    .values(claimed_at=None, claimed_by=None, lease_until=None)
)
_TAKE: dict[str, Any] = {}
TAKE_AT_MOST = 20  # earlier answers taken over per message (the rest by the next, or the outbox)


async def keep(
    session: AsyncSession,
    rows: Sequence[dict[str, Any]],
    worker: str,
    lease_until: datetime,
    now: datetime,
) -> list[int]:
    """Write answers (`new_row` parameters) claimed by `worker` until `lease_until`; their ids,
    in order. Not a wake-up for the outbox senders: `worker` sends them itself."""
    if not rows:
        return []
    conn = await session.connection()
    claimed = {"b_now": now, "b_worker": worker, "b_lease": lease_until}
    # One INSERT each: RETURNING with many rows keeps no order on SQLite (and most
    # messages have one answer).
    return [int((await conn.execute(_KEEP, row | claimed)).scalar_one()) for row in rows]


async def take_over(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    worker: str,
    lease_until: datetime,
    now: datetime,
) -> list[Outgoing]:
    """Earlier answers to this chat nobody is sending (their worker was killed, or a send
    failed and its retry is due), claimed for `worker`, oldest first: sent before the new
    ones, so the chat reads its answers in order."""
    conn = await session.connection()
    params = {
        "b_platform": platform, "b_chat": chat_id, "b_worker": worker, "b_lease": lease_until,
        "b_now": now,
    }  # fmt: skip
    rows = (await conn.execute(take_statement(conn.dialect.name), params)).all()
    return sorted((Outgoing(*row) for row in rows), key=lambda m: m.id)


def take_statement(dialect: str) -> Any:
    """The look-and-claim of `take_over`, for a database kind."""
    stmt = _TAKE.get(dialect)
    if stmt is not None:
        return stmt
    t = _OUTBOX
    now = bindparam("b_now", type_=t.c.claimed_at.type)
    worker = bindparam("b_worker", type_=t.c.claimed_by.type)
    due = (
        select(t.c.id)
        .where(
            t.c.platform == bindparam("b_platform", type_=t.c.platform.type),
            t.c.chat_id == bindparam("b_chat", type_=t.c.chat_id.type),
            t.c.sent_at.is_(None),  # on ix_outbox_unsent: the few unsent rows of the chat
            t.c.failed.is_(False),
            # Also one waiting for its retry: the chat's next message is a fine moment, and
            # the answers keep their order.
            t.c.extra[REPLY].as_boolean().is_(True),
            free(t, now, worker, dialect),
        )
        # The oldest first, in the index's own order; a bound the planner sees: the update
        # then looks its few rows up by id, and never reads the whole table to join them
        # (PostgreSQL, estimating more than none).
        .order_by(t.c.id)
        .limit(TAKE_AT_MOST)
        .with_for_update(skip_locked=True)
    )
    stmt = claiming(due, now, worker)
    _TAKE[dialect] = stmt
    return stmt


async def forget(conn: AsyncConnection, ids: Sequence[int]) -> None:
    """The platform took these answers (or they can never arrive): gone from the database."""
    if ids:
        await conn.execute(_FORGET, {"b_ids": list(ids)})


async def settle(db: Database, sent: Sequence[int], failed: Sequence[int]) -> None:
    """After a worker's sends, in one short transaction: forget what arrived, free what
    failed for the outbox senders to retry. Bookkeeping only: on PostgreSQL the commit does
    not wait for the disk (`synchronous_commit` off; lost in a crash of the database server,
    those answers are sent again, as any in flight)."""
    if not sent and not failed:
        return
    async with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
        await forget(conn, sent)
        if failed:
            await conn.execute(_RELEASE, {"b_ids": list(failed)})
