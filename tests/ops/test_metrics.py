"""/metrics over real HTTP: what an operator's Prometheus reads after a chat and a broadcast.

The app's own metrics server listens on a free loopback port; httpx scrapes it. The
counters move by exactly what happened, the outbox gauges follow the app's clock, and
nothing a resident typed or is called (a chat id) ever reaches a label.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.app import App
from bot.core.clock import FrozenClock
from bot.delivery.broadcast import Target, broadcast
from bot.delivery.limits import NO_LIMITS
from bot.delivery.outbox import OutboxSender
from bot.delivery.scheduler import watch_lag
from storage.repo import outbox, places
from tests.signals.forwarding.hoods import configure, report_and_forward, signalen_table
from tests.standins.signalen import SignalenStandIn
from tests.standins.telegram_botapi import BotApiStandIn, FloodLimits
from tests.support.fake import FakeAdapter, MakeChat
from tests.support.telegram_adapter import standin_adapter

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def metrics_client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """The app's metrics server on a free loopback port, and a client for it."""
    app.settings.metrics_port = free_port()
    server = app.metrics_server()
    assert server is not None
    serving = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or serving.done():
            break
        await asyncio.sleep(0.01)
    assert server.started
    base = f"http://127.0.0.1:{app.settings.metrics_port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            yield client
    finally:
        server.should_exit = True
        await serving


@pytest.fixture
async def scrape(app: App, adapter: FakeAdapter) -> AsyncIterator[httpx.AsyncClient]:
    async with metrics_client(app) as client:
        yield client


async def samples(client: httpx.AsyncClient) -> tuple[str, Samples]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    found: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return answer.text, found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def join(make_chat: MakeChat, name: str) -> None:
    resident = make_chat(name, lang="en")
    await resident.say("/wijk")
    await resident.press("Schalkwijk")


async def send_news(app: App) -> int:
    async with app.db.transaction() as session:
        hood = await places.neighbourhood_by_slug(session, "schalkwijk")
        assert hood is not None and hood.id is not None
        reach = await broadcast(session, Target(hood.id), lambda: "Buurtfeest zaterdag!")
    return reach.residents


async def test_counters_and_outbox_gauges_after_a_chat_and_a_broadcast(
    app: App, scrape: httpx.AsyncClient, make_chat: MakeChat, clock: FrozenClock
) -> None:
    _, before = await samples(scrape)
    for name in ("anna", "bob", "carla"):
        await join(make_chat, name)
    await app.flush_outbox()
    _, after_chat = await samples(scrape)
    # Three residents: a command (/wijk) and a button each.
    assert value(after_chat, "wijkbot_updates_handled_total", platform="fake", kind="command") == 3
    assert value(after_chat, "wijkbot_updates_handled_total", platform="fake", kind="button") == 3
    assert value(after_chat, "wijkbot_handler_seconds_count", platform="fake") == 6
    assert value(before, "wijkbot_updates_handled_total", platform="fake", kind="command") == 0

    reached = await send_news(app)
    assert reached == 3
    clock.advance(timedelta(seconds=90))
    _, waiting = await samples(scrape)
    assert value(waiting, "wijkbot_outbox_depth", platform="fake") == 3
    assert value(waiting, "wijkbot_outbox_oldest_unsent_age_seconds", platform="fake") == 90
    clock.advance(timedelta(minutes=10))
    _, later = await samples(scrape)
    assert value(later, "wijkbot_outbox_oldest_unsent_age_seconds", platform="fake") == 690

    ok_before = value(later, "wijkbot_outbox_sends_total", platform="fake", outcome="ok")
    await app.flush_outbox()
    _, flushed = await samples(scrape)
    assert value(flushed, "wijkbot_outbox_depth", platform="fake") == 0
    assert value(flushed, "wijkbot_outbox_oldest_unsent_age_seconds", platform="fake") == 0
    assert value(flushed, "wijkbot_outbox_sends_total", platform="fake", outcome="ok") == (
        ok_before + 3
    )
    assert value(flushed, "wijkbot_outbox_sends_total", platform="fake", outcome="failed") == 0


async def test_a_failed_send_counts_as_failed(
    app: App, scrape: httpx.AsyncClient, make_chat: MakeChat, adapter: FakeAdapter
) -> None:
    await join(make_chat, "anna")
    await app.flush_outbox()

    async def broken(*args: object) -> None:
        raise ConnectionError("the platform is away")

    adapter.send = broken  # type: ignore[method-assign]
    await send_news(app)
    await app.flush_outbox()
    _, found = await samples(scrape)
    assert value(found, "wijkbot_outbox_sends_total", platform="fake", outcome="failed") == 1
    assert value(found, "wijkbot_outbox_depth", platform="fake") == 1  # retried later


INJECTION = 'x"} 1\nwijkbot_evil_total{platform="fake'


async def test_a_chat_id_never_reaches_a_label(
    app: App, scrape: httpx.AsyncClient, make_chat: MakeChat
) -> None:
    """A user whose id tries to close a label and start a metric of its own."""
    evil = make_chat(INJECTION, lang="en")
    await evil.say("/wijk")
    await evil.press("Schalkwijk")
    await evil.say(INJECTION)
    await send_news(app)
    await app.flush_outbox()
    body, found = await samples(scrape)
    assert "evil" not in body and 'x\\"' not in body and INJECTION not in body
    assert not any(name.startswith("wijkbot_evil") for name, _ in found)
    values = {v for _, labels in found for _, v in labels}
    assert values <= {"fake", "command", "button", "text", "ok", "failed"} | {
        v for _, labels in found for k, v in labels if k == "le"
    }


async def test_a_late_job_shows_its_lag(
    app: App, scrape: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """APScheduler runs a job planned 90 s ago (by the app's clock): 90 s late."""
    scheduler = AsyncIOScheduler()
    watch_lag(scheduler, clock, app.metrics)
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    planned = clock.now() - timedelta(seconds=90)
    scheduler.add_job(job, "date", run_date=planned, id="poll-close", misfire_grace_time=None)
    scheduler.start()
    try:
        await asyncio.wait_for(ran.wait(), 5)
    finally:
        scheduler.shutdown(wait=False)
    _, found = await samples(scrape)
    assert value(found, "wijkbot_scheduler_lag_seconds_count", job="poll-close") == 1
    assert value(found, "wijkbot_scheduler_lag_seconds_sum", job="poll-close") == 90


async def test_with_a_token_only_the_bearer_is_answered(app: App, adapter: FakeAdapter) -> None:
    app.settings.metrics_token = SecretStr("s3cret-scrape")
    async with metrics_client(app) as client:
        assert (await client.get("/metrics")).status_code == 403
        wrong = {"Authorization": "Bearer guess"}
        assert (await client.get("/metrics", headers=wrong)).status_code == 403
        right = {"Authorization": "Bearer s3cret-scrape"}
        answer = await client.get("/metrics", headers=right)
        assert answer.status_code == 200 and "wijkbot_outbox_depth" in answer.text
        assert (await client.get("/")).status_code == 404  # no web overview here


TOKEN = "123456789:AAF-wijkbot_metrics_token"


async def test_429_answers_from_telegram_are_counted(app: App, scrape: httpx.AsyncClient) -> None:
    """Two messages to one chat at once, with the sender's own limits lifted: Telegram's
    stand-in answers the second with 429, the adapter waits and sends it again."""
    async with BotApiStandIn(token=TOKEN) as api:
        api.private_chat(api.user(80_001, "Buur", "buur"))
        api.enable_flood_limits(FloodLimits(), clock=asyncio.get_running_loop().time)
        telegram = standin_adapter(app.settings, app.db, api, TOKEN)
        await telegram.bot.initialize()
        app.add(telegram)
        async with app.db.transaction() as s:
            await outbox.enqueue(s, "telegram", "80001", "Hallo buur")
            await outbox.enqueue(s, "telegram", "80001", "Nog iets")
        sender = OutboxSender(
            app.db, {"telegram": telegram}, app.dispatcher.clock,  # type: ignore[dict-item]
            limits={"telegram": NO_LIMITS}, metrics=app.metrics,
        )  # fmt: skip
        try:
            assert await sender.flush() == 2
        finally:
            await telegram.bot.shutdown()
        answered_429 = sum(r.status == 429 for r in api.request_log)
    _, found = await samples(scrape)
    assert answered_429 >= 1
    assert value(found, "wijkbot_rate_limited_total", platform="telegram") == answered_429
    assert value(found, "wijkbot_outbox_sends_total", platform="telegram", outcome="ok") == 2
    assert value(found, "wijkbot_outbox_depth", platform="telegram") == 0


async def test_a_refused_forward_is_counted_once_by_reason(
    app: App, scrape: httpx.AsyncClient, make_chat: MakeChat, tmp_path: Path, clock: FrozenClock
) -> None:
    """The municipality's system refuses a report (HTTP 400): one failure, reason "refused";
    the report's words never reach the metrics."""
    async with SignalenStandIn() as signalen:
        await configure(app, tmp_path, schalkwijk=signalen_table(signalen))
        await report_and_forward(make_chat, "anna", "schalkwijk", "Lantaarnpaal is kapot")
        signalen.fail_next(status=400, body={"text": ["Kapotte lamp: ongeldige tekst"]})
        for _ in range(4):
            clock.advance(timedelta(hours=6))
            await app.run_jobs_now()
    body, found = await samples(scrape)
    assert value(found, "wijkbot_forwarding_failures_total", reason="refused") == 1
    assert "Lantaarnpaal" not in body and "ongeldige" not in body
