"""The sender's claim finds the oldest waiting messages without reading the sent ones.

Sent rows stay 30 days; a claim that walked past them got slower with every broadcast
(40 ms a claim with 200,000 kept on PostgreSQL: bench/outbox/bench_claim.py). Checked on
the database's own plan, after ANALYZE, with many sent rows and a few waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from bot.app import App
from storage.models import OutboxMessage
from storage.repo import outbox
from storage.repo.outbox_claim import _claim_statement

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SENT, WAITING = 20_000, 5_000  # as after a month of broadcasts, and one going out
TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]


def row(i: int, sent: bool) -> dict[str, object]:
    at = NOW - timedelta(days=20, seconds=-i)
    return {
        "platform": "telegram", "chat_id": str(i), "text": "nieuws", "buttons": [],
        "extra": {}, "created_at": at, "claimed_at": at if sent else None,
        "claimed_by": "w" if sent else None, "sent_at": at if sent else None,
        "chat_kind": "direct", "attempts": 0, "failed": False,
    }  # fmt: skip


async def claim_plan(app: App) -> list[str]:
    dialect = "sqlite" if app.db.is_sqlite else "postgresql"
    async with app.db.session() as s:
        conn = await s.connection()
        compiled = _claim_statement(dialect, False).compile(dialect=conn.dialect)
        params: dict[str, object] = compiled.construct_params({
            "b_platform": "telegram", "b_now": NOW, "b_worker": "me",
            "b_lease": NOW + timedelta(minutes=5), "b_size": 32,
        })  # fmt: skip
        if app.db.is_sqlite:
            positional = tuple(params[k] for k in compiled.positiontup or [])
            rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, positional)
            return [r[3] for r in rows.all()]
        rows = await conn.exec_driver_sql("EXPLAIN " + compiled.string, params)
        return [r[0].strip() for r in rows.all()]


async def test_the_claim_reads_only_waiting_rows_in_id_order(app: App) -> None:
    async with app.db.transaction() as s:
        rows = [row(i, sent=i < SENT) for i in range(SENT + WAITING)]
        await s.exec(insert(TABLE), params=rows)  # type: ignore[call-overload]
    async with app.db.transaction() as s:
        await s.exec(text("ANALYZE"))  # type: ignore[call-overload]
    plan = "\n".join(await claim_plan(app))
    if app.db.is_sqlite:
        # The pending index (platform, sent_at) holds equal keys in rowid order: the
        # waiting rows come in id order, no sort, no scan of the table.
        assert "SEARCH outboxmessage USING INDEX ix_outbox_pending" in plan, plan
        assert "TEMP B-TREE" not in plan and "SCAN outboxmessage" not in plan, plan
    else:  # not the primary key, past every sent row
        assert "Index Scan using ix_outbox_waiting on outboxmessage outboxmessage_1" in plan, plan
    async with app.db.transaction() as s:  # and it claims the oldest waiting ones
        got = await outbox.claim_batch(s, "telegram", NOW, "me", NOW + timedelta(minutes=5), 32)
    assert [m.chat_id for m in got] == [str(i) for i in range(SENT, SENT + 32)]
