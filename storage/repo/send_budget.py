"""A send budget shared by every worker: one token bucket per platform, in one row.

PostgreSQL only (several workers need it). A worker takes tokens in one statement: the row
is locked (workers take their turn), refilled by the time passed since it was last written
and written back. The time is the database's clock (`clock_timestamp()`, read after the
lock), so the workers' own clocks do not matter; a test passes a simulated moment instead.

Every value read from the row is clamped: tokens below 0 count as 0 and above `burst` as
`burst`, time that runs backwards as none passed, not-a-number as a full bucket, so a row
that was edited by hand (or broken) costs at most one empty bucket, never a burst over the
limit and never a wait without end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Integer, Table, bindparam, cast, func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.outbox_models import SendBudget

_BUDGET: Table = SendBudget.__table__  # type: ignore[attr-defined]


async def take(
    session: AsyncSession,
    platform: str,
    want: int,
    rate: float,
    burst: float,
    at: datetime | None = None,
) -> tuple[int, float]:
    """Take up to `want` whole tokens: (how many were taken, the tokens left, below 1 when
    fewer than wanted were there). The bucket refills `rate` a second up to `burst`."""
    conn = await session.connection()
    if conn.dialect.name != "postgresql":
        raise RuntimeError("the shared send budget needs PostgreSQL")
    params = {"b_platform": platform, "b_want": want, "b_rate": rate, "b_burst": burst, "b_at": at}
    granted, left = (await conn.execute(_STATEMENT, params)).one()
    return int(granted), float(left)


def _statement() -> Any:
    b = _BUDGET
    want = bindparam("b_want", type_=Integer)
    rate = bindparam("b_rate", type_=Float)
    burst = bindparam("b_burst", type_=Float)
    now = func.coalesce(
        cast(bindparam("b_at", type_=DateTime(timezone=True)), DateTime(timezone=True)),
        func.clock_timestamp(),
    )
    # Seconds as numbers, not an interval: an infinite moment in the row gives an infinite
    # difference (clamped below) instead of an error on every take.
    passed = func.greatest(0.0, func.extract("epoch", now) - func.extract("epoch", b.c.at))
    have = func.least(burst, func.greatest(0.0, b.c.tokens) + rate * passed)
    taken = func.least(func.floor(have), want)
    first = func.least(func.floor(burst), want)  # a new row starts full
    stmt = insert(b).values(
        platform=bindparam("b_platform", type_=b.c.platform.type),
        tokens=burst - first, granted=first, at=now,
    )  # fmt: skip
    return stmt.on_conflict_do_update(
        index_elements=[b.c.platform], set_={"tokens": have - taken, "granted": taken, "at": now}
    ).returning(b.c.granted, b.c.tokens)


_STATEMENT = _statement()
