"""Every worker sends (WIJKBOT_OUTBOX_SENDERS=all): Telegram's limits hold across workers.

Two OutboxSenders with worker names of their own stand in for two workers on one
PostgreSQL (tests/support/outbox_workers.py). They share one simulated clock: their
limiters, the app's clock (leases, `sent_at`), the shared budget and the Bot API
stand-in's flood limits all run on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.app import App
from bot.config import Settings
from bot.delivery.limits import NO_LIMITS
from bot.delivery.outbox import OutboxSender
from bot.delivery.send_budget import SharedBudget, bucket
from storage.repo import outbox, send_budget
from tests.standins.telegram_botapi import BotApiStandIn, FloodLimits
from tests.support.fake import FakeAdapter
from tests.support.outbox_sim import SharedTime, SimClock
from tests.support.outbox_workers import Log, LoggingAdapter, Workers
from tests.support.telegram_adapter import standin_adapter

pytestmark = pytest.mark.postgres
TOKEN = "123456789:AAF-wijkbot_shared_token"
BASE = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
RATE, BURST = bucket((30, 1.0))


@pytest.fixture
def postgres(app: App) -> App:
    if app.db.is_sqlite:
        pytest.skip("every worker sends only on PostgreSQL (refused there: see the config test)")
    return app


@pytest.fixture
async def stand_in() -> AsyncIterator[BotApiStandIn]:
    async with BotApiStandIn(token=TOKEN) as api:
        yield api


async def telegram(app: App, api: BotApiStandIn) -> TelegramAdapter:
    adapter = standin_adapter(app.settings, app.db, api, TOKEN)
    await adapter.bot.initialize()
    return adapter


async def test_two_senders_share_a_broadcast_within_telegrams_limits(
    postgres: App, stand_in: BotApiStandIn
) -> None:
    n, again = 300, 40  # one message each; these chats get a second and a third
    time = SharedTime(BASE)
    for i in range(n):
        stand_in.private_chat(stand_in.user(70_000 + i, f"Buur {i}", f"buur{i}"))
    stand_in.enable_flood_limits(FloodLimits(), clock=time.now)
    async with postgres.db.transaction() as s:
        for round_ in range(3):
            for i in range(n if round_ == 0 else again):
                await outbox.enqueue(s, "telegram", str(70_000 + i), f"Hallo buur {i}, {round_}")
    adapters = [await telegram(postgres, stand_in) for _ in range(2)]
    try:
        async with Workers(postgres, time, adapters, batch=16) as workers:
            sent = await workers.drain()
    finally:
        for a in adapters:
            await a.bot.shutdown()
    assert [r for r in stand_in.request_log if r.status == 429] == []
    texts = [r.text for r in stand_in.sent]
    assert sorted(Counter(texts).values()) == [1] * (n + 2 * again)  # each exactly once
    for i in range(again):  # each chat's messages in the order they were written
        mine = [t for t in texts if t.startswith(f"Hallo buur {i},")]
        assert mine == [f"Hallo buur {i}, {r}" for r in range(3)]
    assert min(sent) > 0 and sum(sent) == n + 2 * again  # both sent a share
    assert (n + 2 * again) / 30 < time.now() < (n + 2 * again) / RATE + 3


async def test_a_chat_another_sender_just_sent_to_waits_a_second(postgres: App) -> None:
    time = SharedTime(BASE)
    log = Log(time)
    async with postgres.db.transaction() as s:
        for chat in ["1", "1", "2", "3"]:
            await outbox.enqueue(s, "telegram", chat, f"voor {chat}")
    adapters = [LoggingAdapter(platform="telegram", record=log, name=w) for w in "AB"]
    async with Workers(postgres, time, adapters, batch=16) as workers:
        a, b = workers.senders
        async with time.at_work():
            assert await a.flush_some(1) == 1  # A sends chat 1 its first message
        async with time.at_work():
            await b.flush()  # at the same moment: B may not send chat 1 its second
        assert [(chat, who) for _t, chat, _txt, who in log.sends] == [
            ("1", "A"),
            ("2", "B"),
            ("3", "B"),
        ]
        await workers.drain()
    first, second = log.times("1")
    assert second - first >= 1.0


async def test_a_chat_is_never_sent_to_twice_within_a_second_across_senders(
    postgres: App,
) -> None:
    time = SharedTime(BASE)
    log = Log(time)
    async with postgres.db.transaction() as s:
        for i in range(5):  # chat 1 gets five messages, between messages to others
            await outbox.enqueue(s, "telegram", "1", f"voor 1: {i}")
            for j in range(3):
                await outbox.enqueue(s, "telegram", str(100 + 3 * i + j), "hoi")
    adapters = [LoggingAdapter(platform="telegram", record=log, name=w) for w in "AB"]
    async with Workers(postgres, time, adapters, batch=2) as workers:
        sent = await workers.drain()
    assert min(sent) > 0
    mine = [(t, txt, who) for t, chat, txt, who in log.sends if chat == "1"]
    assert [txt for _t, txt, _who in mine] == [f"voor 1: {i}" for i in range(5)]
    gaps = [b[0] - a[0] for a, b in pairwise(mine)]
    assert min(gaps) >= 1.0 - 1e-9, gaps


@pytest.mark.parametrize(
    "tamper",
    [
        "tokens = -1e300", "tokens = 1e300", "tokens = 'NaN'", "tokens = '-Infinity'",
        "tokens = 'Infinity'", "at = 'infinity'", "at = '-infinity'",
        "at = at + interval '10 years'", "at = at - interval '10 years', tokens = 1e300",
    ],
)  # fmt: skip
async def test_a_tampered_budget_allows_no_burst_and_no_endless_wait(
    postgres: App, tamper: str
) -> None:
    n = 120
    time = SharedTime(BASE, until=n / RATE + 2)  # no endless (or long) wait
    log = Log(time)
    async with postgres.db.transaction() as s:
        await send_budget.take(s, "telegram", 1, RATE, BURST, time.moment())
        await s.exec(text(f"UPDATE sendbudget SET {tamper}"))  # type: ignore[call-overload]
        for i in range(n):
            await outbox.enqueue(s, "telegram", str(500 + i), "hoi")
    adapters = [LoggingAdapter(platform="telegram", record=log, name=w) for w in "AB"]
    async with Workers(postgres, time, adapters, batch=16) as workers:
        sent = await workers.drain()
    assert sum(sent) == n
    times = sorted(log.times())
    most = max(sum(1 for u in times if t - 1.0 < u <= t) for t in times)
    assert most <= 30  # as the stand-in counts: any one second


async def test_the_bucket_refills_by_the_moment_given_and_holds_no_more_than_a_burst(
    postgres: App,
) -> None:
    async def take(seconds: float | None) -> tuple[int, float]:
        at = None if seconds is None else BASE + timedelta(seconds=seconds)
        async with postgres.db.transaction() as s:
            return await send_budget.take(s, "telegram", 16, RATE, BURST, at)

    assert await take(0.0) == (BURST, 0.0)  # a new bucket starts full
    taken, left = await take(0.0)
    assert taken == 0 and 0 <= left < 1
    assert (await take(1.01 / RATE))[0] == 1
    assert (await take(3600.0))[0] == BURST
    async with postgres.db.transaction() as s:  # without a moment: the database's clock
        await s.exec(text("DELETE FROM sendbudget"))  # type: ignore[call-overload]
    assert (await take(None))[0] == BURST
    async with postgres.db.session() as s:
        lag = (await s.exec(text("SELECT clock_timestamp() - at FROM sendbudget"))).one()[0]  # type: ignore[call-overload]
    assert timedelta(0) <= lag < timedelta(minutes=1)


async def test_no_budget_statement_when_limits_are_lifted(postgres: App) -> None:
    time = SharedTime(BASE)
    log = Log(time)
    async with postgres.db.transaction() as s:
        for i in range(40):
            await outbox.enqueue(s, "telegram", str(i % 7), "hoi")
    adapters = [LoggingAdapter(platform="telegram", record=log, name=w) for w in "AB"]
    async with Workers(postgres, time, adapters, batch=8, limits=NO_LIMITS) as workers:
        assert sum(await workers.drain()) == 40
    async with postgres.db.session() as s:
        assert (await s.exec(text("SELECT count(*) FROM sendbudget"))).one()[0] == 0  # type: ignore[call-overload]
    assert time.now() == 0.0  # nobody waited


async def test_every_worker_sends_only_on_postgresql(db_url: str, tmp_path: Path) -> None:
    if db_url.startswith("sqlite"):
        with pytest.raises(ValidationError, match="needs PostgreSQL"):
            Settings(database_url=db_url, data_dir=tmp_path, outbox_senders="all")
        return
    for senders, roles in [("one", {"outbox-telegram"}), ("all", set())]:
        app = App(Settings(database_url=db_url, data_dir=tmp_path, outbox_senders=senders))
        app.add(FakeAdapter(platform="telegram"))  # type: ignore[arg-type]
        app.want_roles()
        assert {r for r in app.roles.wanted if r.startswith("outbox")} == roles
        assert (app.outbox.shared is not None) == (senders == "all")
        await app.db.dispose()


async def test_only_a_stopped_workers_messages_are_reported_as_in_doubt(
    postgres: App, caplog: pytest.LogCaptureFixture
) -> None:
    time = SharedTime(BASE)
    async with postgres.db.transaction() as s:
        for chat in ["1", "2", "3"]:
            await outbox.enqueue(s, "telegram", chat, "hoi")
    adapters = [LoggingAdapter(platform="telegram", record=Log(time), name=w) for w in "AB"]
    async with Workers(postgres, time, adapters, batch=16) as workers:
        a, b = workers.senders
        async with postgres.db.transaction() as s:  # A is sending two of them right now
            now = time.moment()
            await outbox.claim_batch(s, "telegram", now, a.worker, now + timedelta(minutes=1), 2)
        async with time.at_work():
            assert await b.flush() == 1
        assert "were being sent" not in caplog.text
        await workers.stop(0)  # A stops (killed): its two are in doubt
        later = OutboxSender(postgres.db, {"telegram": adapters[1]}, SimClock(time),
                             monotonic=time.now, sleep=time.sleep,
                             shared=SharedBudget(postgres.db, at=time.moment))  # fmt: skip
        async with time.at_work():
            assert await later.flush() == 2
    assert "2 telegram message(s) were being sent when the bot stopped" in caplog.text
