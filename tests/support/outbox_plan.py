"""The outbox claim's query plan, and rows to fill an outbox with (a plan test, a bench).

Sent rows stay 30 days, so a busy bot keeps hundreds of thousands; the claim must find
the oldest waiting rows without reading those (tests/storage/test_outbox_plan.py,
bench/outbox/bench_claim.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from storage.models import OutboxMessage
from storage.repo.outbox_claim import claim_statement

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)
TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]


def row(i: int, sent: bool) -> dict[str, object]:
    """Outbox row `i` (to chat i), sent or waiting; a second apart, a month before NOW."""
    at = NOW - timedelta(days=30) + timedelta(seconds=i)
    return {
        "platform": "telegram", "chat_id": str(i), "chat_kind": "direct",
        "text": f"Nieuws uit de wijk {i}", "buttons": [], "extra": {}, "attempts": 0,
        "created_at": at, "claimed_at": at if sent else None,
        "claimed_by": "w" if sent else None, "sent_at": at if sent else None, "failed": False,
    }  # fmt: skip


async def fill(db: Database, sent: int, waiting: int) -> None:
    """`sent` sent rows, then `waiting` rows to send (newest last); then ANALYZE."""
    for start in range(0, sent + waiting, 10_000):
        rows = [row(i, i < sent) for i in range(start, min(start + 10_000, sent + waiting))]
        async with db.transaction() as s:
            await s.exec(insert(TABLE), params=rows)  # type: ignore[call-overload]
    async with db.transaction() as s:
        await s.exec(text("ANALYZE"))  # type: ignore[call-overload]


def claim_params(size: int, recent: bool) -> dict[str, Any]:
    params: dict[str, Any] = {
        "b_platform": "telegram", "b_now": NOW, "b_worker": "me", "b_lease": LEASE,
        "b_size": size,
    }  # fmt: skip
    if recent:
        params["b_since_direct"] = NOW - timedelta(seconds=1)
        params["b_since_group"] = NOW - timedelta(minutes=1)
    return params


async def claim_plan(conn: AsyncConnection, recent: bool = False) -> list[str]:
    """How the database reads the outbox for one claim (see `explain`)."""
    stmt = claim_statement(conn.dialect.name, recent)
    return await explain(conn, stmt, claim_params(32, recent))


async def explain(conn: AsyncConnection, stmt: Any, values: dict[str, Any]) -> list[str]:
    """How the database reads the outbox for `stmt` (EXPLAIN): one line per table read,
    e.g. `Index Scan using ix_outbox_waiting on outboxmessage …` or `SEARCH outboxmessage
    USING INDEX …`, sorts included (`USE TEMP B-TREE`)."""
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.construct_params(values)
    if conn.dialect.name == "sqlite":
        positional = tuple(params[k] for k in compiled.positiontup or [])
        rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, positional)
        return [r[3] for r in rows.all()]
    rows = await conn.exec_driver_sql("EXPLAIN " + compiled.string, params)
    lines = [str(r[0]).strip().removeprefix("->").strip() for r in rows.all()]
    return [line.split("  (")[0] for line in lines if "Scan" in line or "Sort" in line]
