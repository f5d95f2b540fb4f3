"""Digest scheduling: 19:00 Amsterdam time across DST, and a missed run sent once after downtime."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from sqlmodel import select

from bot.app import App
from bot.delivery.scheduler import (
    PERSISTENT,
    build_scheduler,
    cron_trigger,
    run_registered,
    start_scheduler,
)
from bot.services.digests import CRON
from storage.db import sync_url
from storage.migrate import downgrade, upgrade
from storage.models import OutboxMessage
from tests.support.fake import Chat, MakeChat

AMS = ZoneInfo("Europe/Amsterdam")


def _fire_times(line: str, start: datetime, n: int) -> list[datetime]:
    trigger = cron_trigger(line)
    out: list[datetime] = []
    previous, now = None, start
    for _ in range(n):
        nxt = trigger.get_next_fire_time(previous, now)
        assert nxt is not None
        out.append(nxt)
        previous, now = nxt, nxt + timedelta(seconds=1)
    return out


@pytest.mark.parametrize(
    ("start", "utc_hours"),
    [
        (datetime(2027, 3, 26, 20, 0, tzinfo=AMS), [18, 17, 17, 17]),  # spring forward on 28 March
        (datetime(2026, 10, 23, 20, 0, tzinfo=AMS), [17, 18, 18, 18]),  # back on 25 October
    ],
)
def test_daily_digest_stays_at_19_across_dst(start: datetime, utc_hours: list[int]) -> None:
    times = _fire_times(CRON["daily"], start, 4)
    assert [(t.astimezone(AMS).hour, t.astimezone(AMS).minute) for t in times] == [(19, 0)] * 4
    assert [t.astimezone(UTC).hour for t in times] == utc_hours
    assert [t.day for t in times] == [start.day + i for i in range(1, 5)]


def test_weekly_digest_is_monday_19_across_dst() -> None:
    spring = _fire_times(CRON["weekly"], datetime(2027, 3, 20, tzinfo=AMS), 2)
    assert [t.astimezone(UTC) for t in spring] == [
        datetime(2027, 3, 22, 18, 0, tzinfo=UTC),  # CET
        datetime(2027, 3, 29, 17, 0, tzinfo=UTC),  # CEST
    ]
    autumn = _fire_times(CRON["weekly"], datetime(2026, 10, 17, tzinfo=AMS), 2)
    assert [t.astimezone(UTC) for t in autumn] == [
        datetime(2026, 10, 19, 17, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 18, 0, tzinfo=UTC),
    ]
    assert all(t.weekday() == 0 and t.astimezone(AMS).hour == 19 for t in spring + autumn)


async def _digests_for(app: App, chat_id: str) -> list[OutboxMessage]:
    async with app.db.session() as s:
        rows = (await s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id))).all()
    return [m for m in rows if m.text.startswith("Your digest")]


async def test_missed_runs_during_downtime_send_one_digest(app: App, make_chat: MakeChat) -> None:
    anna: Chat = make_chat("anna", lang="en")
    await anna.say("/wijk")
    await anna.press("Schalkwijk")
    bob: Chat = make_chat("bob", lang="en")
    await bob.say("/idee Een buurtbieb in de oude telefooncel")
    await bob.press("Schalkwijk")
    await bob.press("Post")
    jobs = [j for j in app.jobs if j.cron is not None]
    store = sync_url(app.db.url)

    # The bot runs once: the weekly job lands in the database with its next Monday 19:00.
    first = build_scheduler(jobs, app.flush_outbox, store)
    start_scheduler(first, jobs)
    first.pause()
    stored = first.get_job("digest-weekly", PERSISTENT)
    assert stored is not None and stored.next_run_time is not None
    local = stored.next_run_time.astimezone(AMS)
    assert (local.weekday(), local.hour, local.minute) == (0, 19, 0)
    # … then is down for three weeks: three Mondays at 19:00 pass without it.
    three_weeks_ago = stored.next_run_time - timedelta(weeks=3)
    first.modify_job("digest-weekly", PERSISTENT, next_run_time=three_weeks_ago)
    missed = first.get_job("digest-weekly", PERSISTENT)
    assert missed is not None
    # APScheduler's timers run on the wall clock, so missed runs are counted against it.
    assert len(missed._get_run_times(datetime.now(AMS))) == 3  # noqa: TID251
    first.shutdown(wait=False)

    # The restart: the stored job is kept (not replaced), runs once, and moves on.
    second = build_scheduler(jobs, app.flush_outbox, store)
    events: list[JobEvent] = []
    ran = asyncio.Event()

    def seen(event: JobEvent) -> None:
        if event.job_id == "digest-weekly":
            events.append(event)
            ran.set()

    second.add_listener(seen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    start_scheduler(second, jobs)
    try:
        await asyncio.wait_for(ran.wait(), timeout=10)
        await asyncio.sleep(0.5)  # room for a second run, which must not come
        assert [e.code for e in events] == [EVENT_JOB_EXECUTED]
        after = second.get_job("digest-weekly", PERSISTENT)
        # APScheduler's timers run on the wall clock, so its next run is compared with it.
        assert after is not None and after.next_run_time > datetime.now(AMS)  # noqa: TID251
        assert after.next_run_time.astimezone(AMS).hour == 19
    finally:
        second.shutdown(wait=False)
    [digest] = await _digests_for(app, "dm:anna")
    assert "Een buurtbieb" in digest.text and digest.sent_at is not None
    # A double fire of the same period sends nothing more.
    await run_registered("digest-weekly")
    assert len(await _digests_for(app, "dm:anna")) == 1


async def test_a_digest_stored_before_the_scheduler_moved_is_kept(app: App) -> None:
    """Upgrading a running bot: a job stored under the scheduler's old module name must be
    restored with its next run time, not crash the start or be dropped."""
    jobs = [j for j in app.jobs if j.cron is not None]
    store = sync_url(app.db.url)
    first = build_scheduler(jobs, app.flush_outbox, store)
    start_scheduler(first, jobs)
    first.pause()
    due = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # a Monday 19:00 the bot was down for
    first.modify_job("digest-weekly", PERSISTENT, next_run_time=due)
    first.shutdown(wait=False)

    downgrade(app.db.url, "0004")  # the database as the bot before the move left it
    old = build_scheduler(jobs, app.flush_outbox, store)
    old.start(paused=True)
    try:
        with pytest.raises(LookupError):  # `bot.jobs` is gone: APScheduler cannot restore it
            old.get_job("digest-weekly", PERSISTENT)
    finally:
        old.shutdown(wait=False)

    upgrade(app.db.url)
    second = build_scheduler(jobs, app.flush_outbox, store)
    second.start(paused=True)
    try:
        kept = second.get_job("digest-weekly", PERSISTENT)
        assert kept is not None and kept.func is run_registered
        assert kept.next_run_time == due  # the missed digest is still sent once
    finally:
        second.shutdown(wait=False)
