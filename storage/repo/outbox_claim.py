"""Claiming outbox rows for a worker: one statement, safe with several workers at once.

Re-exported by storage.repo.outbox (`claim_batch`, `Outgoing`, `WORKER_PREFIX`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Table, and_, bindparam, column, exists, literal, table, union_all
from sqlmodel import or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed outbox row, as plain values (no ORM object on the sending path)."""

    id: int
    chat_id: str
    chat_kind: str
    text: str
    buttons: list[list[dict[str, str]]]
    extra: dict[str, Any]
    attempts: int
    created_at: datetime


# Each worker keeps a connection open named WORKER_PREFIX + its id (bot/delivery/leader.py).
WORKER_PREFIX = "wijkbot:"
_ACTIVITY = table("pg_stat_activity", column("application_name"))
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_OUTGOING = [_OUTBOX.c[name] for name in Outgoing.__slots__]


def alive(worker: Any) -> Any:
    """Whether `worker` has a connection open (PostgreSQL)."""
    return exists(
        select(literal(1)).select_from(_ACTIVITY)
        .where(_ACTIVITY.c.application_name == WORKER_PREFIX + worker)
    )  # fmt: skip


async def claim_batch(
    session: AsyncSession,
    platform: str,
    now: datetime,
    worker: str,
    lease_until: datetime,
    limit: int,
    recent: tuple[datetime, datetime] | None = None,
) -> list[Outgoing]:
    """Claim up to `limit` due messages, oldest first, for `worker` until `lease_until`.

    One statement. On PostgreSQL the rows are locked with SKIP LOCKED, so workers claiming
    at the same time never get the same row. A row another worker claimed is left alone
    until its lease is over (that worker may still be sending it); so is every later row
    to the same chat, which keeps each chat's order. On PostgreSQL a lease ends early when
    its worker has no connection open any more (it died).

    `recent` (every worker sends, bot/delivery/send_budget.py): (direct, group) moments; a
    direct chat another worker sent to after the first, a group after the second, is left
    alone too, so the limits per chat hold across workers.

    The statement is built once per dialect and run on the connection (no ORM): a
    broadcast claims thousands of times.
    """
    conn = await session.connection()
    stmt = claim_statement(conn.dialect.name, recent is not None)
    params = {
        "b_platform": platform, "b_now": now, "b_worker": worker, "b_lease": lease_until,
        "b_size": limit,
    }  # fmt: skip
    if recent is not None:
        params["b_since_direct"], params["b_since_group"] = recent
    rows = (await conn.execute(stmt, params)).all()
    return sorted((Outgoing(*row) for row in rows), key=lambda m: m.id)


_CLAIM: dict[tuple[str, bool], Any] = {}


def claim_statement(dialect: str, recent: bool) -> Any:
    """The claim for a database kind (`recent`: with the arm for chats sent to lately)."""
    stmt = _CLAIM.get((dialect, recent))
    if stmt is not None:
        return stmt
    t = _OUTBOX
    other = t.alias("other")
    platform = bindparam("b_platform", type_=t.c.platform.type)
    now = bindparam("b_now", type_=t.c.claimed_at.type)
    worker = bindparam("b_worker", type_=t.c.claimed_by.type)
    held = [  # chats with a row under another worker's lease (this very row included)
        other.c.platform == platform,
        other.c.sent_at.is_(None),
        other.c.lease_until > now,
        other.c.claimed_by != worker,
    ]
    if dialect == "postgresql":
        # A claimer with no connection open is gone (killed): its lease ends at once.
        held.append(alive(other.c.claimed_by))
    held_chats: Any = select(other.c.chat_id).where(*held)
    if recent:
        held_chats = union_all(held_chats, _recently_sent(platform, worker))
    due = (
        select(t.c.id)
        # NOT IN an uncorrelated subquery: the few held chats are looked up once (a hash),
        # not once per due row, and the rows are read in id order only until `limit`.
        .where(
            t.c.platform == platform,
            t.c.sent_at.is_(None),
            t.c.failed.is_(False),
            or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now),
            # The row itself, again, in the WHERE of the locking select: PostgreSQL checks it
            # once more on the row's newest version when it locks it (a claim committed
            # meanwhile).
            free(t, now, worker, dialect),
            t.c.chat_id.not_in(held_chats),
        )
        .order_by(t.c.id)
        .limit(bindparam("b_size", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    stmt = claiming(due, now, worker)
    _CLAIM[(dialect, recent)] = stmt
    return stmt


def claiming(due: Any, now: Any, worker: Any) -> Any:
    """Claim the rows `due` selects (their ids, locked) for `worker` until `b_lease`,
    returning them as `Outgoing` columns."""
    t = _OUTBOX
    return (
        update(t)
        .where(t.c.id.in_(due.scalar_subquery()))
        .values(claimed_at=now, claimed_by=worker,
                lease_until=bindparam("b_lease", type_=t.c.lease_until.type))
        .returning(*_OUTGOING)
    )  # fmt: skip


def free(t: Any, now: Any, worker: Any, dialect: str) -> Any:
    """Whether a row of `t` is free for `worker` to claim: nobody holds it, its lease is
    over, or its claimer is gone: on PostgreSQL it has no connection open any more (killed),
    on SQLite (one process) it is not this process. Never while `worker` itself holds it: a
    worker's own rows under lease are being sent by it now (a batch, or the answer to a
    message it just handled)."""
    arms = [t.c.lease_until.is_(None), t.c.lease_until <= now]
    if dialect == "postgresql":
        arms.append(and_(~alive(t.c.claimed_by), t.c.claimed_by != worker))
    else:
        arms.append(t.c.claimed_by != worker)
    return or_(*arms)


def _recently_sent(platform: Any, worker: Any) -> Any:
    """Chats another worker sent to lately: its limiter counts those sends, ours does not.

    A row's `sent_at` is written after its send has finished, so it is never earlier than
    the moment the platform counted. Read on the pending index (platform, sent_at): a range
    of the last minute's sends (groups), filtered down to the last second's (direct chats).
    """
    sent = _OUTBOX.alias("sent")
    since_direct = bindparam("b_since_direct", type_=sent.c.sent_at.type)
    since_group = bindparam("b_since_group", type_=sent.c.sent_at.type)
    return select(sent.c.chat_id).where(
        sent.c.platform == platform,
        sent.c.sent_at > since_group,
        sent.c.claimed_by != worker,
        or_(sent.c.chat_kind == "group", sent.c.sent_at > since_direct),
    )
