"""The outbox's hot statements find what they need without reading the sent rows.

Sent rows stay 30 days; a claim that walked past them got slower with every broadcast
(40 ms a claim with 200,000 kept on PostgreSQL: bench/outbox/bench_claim.py). Checked on
the database's own plan, after ANALYZE, with many sent rows and a few thousand waiting,
for both claims (one sender; every worker sending, with the arm for chats sent to lately),
and for the look every handled message takes for earlier answers to its chat.
"""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from bot.app import App
from storage.repo import outbox
from storage.repo.outbox_replies import take_statement
from tests.support.outbox_plan import LEASE, NOW, TABLE, claim_plan, explain, fill, row

SENT, WAITING = 20_000, 5_000  # as after a month of broadcasts, and one going out


@pytest.mark.parametrize("recent", [False, True], ids=["one-sender", "every-worker"])
async def test_the_claim_reads_only_waiting_rows_in_id_order(app: App, recent: bool) -> None:
    await fill(app.db, SENT, WAITING)
    async with app.db.session() as s:
        plan = "\n".join(await claim_plan(await s.connection(), recent))
    if app.db.is_sqlite:
        # The pending index (platform, sent_at) holds equal keys in rowid order: the
        # waiting rows come in id order, no sort, no scan of the table.
        assert "SEARCH outboxmessage USING INDEX ix_outbox_pending" in plan, plan
        assert "TEMP B-TREE" not in plan and "SCAN outboxmessage" not in plan, plan
    else:  # not the primary key, past every sent row
        assert "Index Scan using ix_outbox_waiting on outboxmessage" in plan, plan
    async with app.db.transaction() as s:  # and it claims the oldest waiting ones
        since = (NOW, NOW) if recent else None
        got = await outbox.claim_batch(s, "telegram", NOW, "me", LEASE, 32, since)
    assert [m.chat_id for m in got] == [str(i) for i in range(SENT, SENT + 32)]


async def test_the_look_for_earlier_answers_reads_only_the_chats_unsent_rows(app: App) -> None:
    """A group sent 2,000 messages in a month: the look for answers nobody sent (every
    handled message takes it, bot/core/replies.py) reads none of them."""
    await fill(app.db, SENT, WAITING)
    async with app.db.transaction() as s:
        busy = [row(i, True) | {"chat_id": "group"} for i in range(2_000)]
        await s.exec(insert(TABLE), params=busy)  # type: ignore[call-overload]
        await s.exec(text("ANALYZE"))  # type: ignore[call-overload]
    async with app.db.session() as s:
        conn = await s.connection()
        values = {"b_platform": "telegram", "b_chat": "group", "b_worker": "me",
                  "b_lease": LEASE, "b_now": NOW}  # fmt: skip
        plan = "\n".join(await explain(conn, take_statement(conn.dialect.name), values))
    if app.db.is_sqlite:
        assert "SEARCH outboxmessage USING INDEX ix_outbox_unsent_chat" in plan, plan
        assert "SCAN outboxmessage" not in plan, plan
    else:
        assert "Index Scan using ix_outbox_unsent_chat" in plan, plan
        assert "Seq Scan on outboxmessage" not in plan, plan
