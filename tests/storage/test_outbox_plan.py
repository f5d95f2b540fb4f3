"""The sender's claim finds the oldest waiting messages without reading the sent ones.

Sent rows stay 30 days; a claim that walked past them got slower with every broadcast
(40 ms a claim with 200,000 kept on PostgreSQL: bench/outbox/bench_claim.py). Checked on
the database's own plan, after ANALYZE, with many sent rows and a few thousand waiting,
for both claims (one sender; every worker sending, with the arm for chats sent to lately).
"""

from __future__ import annotations

import pytest

from bot.app import App
from storage.repo import outbox
from tests.support.outbox_plan import LEASE, NOW, claim_plan, fill

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
