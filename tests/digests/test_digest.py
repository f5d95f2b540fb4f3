"""Digests: what is in them, for whom, how often, in which language, and never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import func, select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.delivery.scheduler import cron_trigger
from bot.services.digests import CRON, send_digests, slot
from storage.models import (
    Channel,
    OutboxMessage,
    Poll,
    PollVote,
    Preference,
)
from storage.repo import places, signals
from tests.support.fake import Chat, FakeAdapter, MakeChat

AMS = ZoneInfo("Europe/Amsterdam")


async def _resident(
    make_chat: MakeChat, name: str, hood: str = "Schalkwijk", lang: str = "en"
) -> Chat:
    chat: Chat = make_chat(name, lang=lang)
    await chat.say("/wijk")
    await chat.press(hood)
    return chat


async def _idea(chat: Chat, title: str, theme: str | None = None) -> None:
    await chat.say("/idee")
    await chat.say(title)
    await chat.press("Skip")
    await chat.press(theme or "No theme")
    await chat.press("Post")


async def _digests(app: App, clock: FrozenClock, cadence: str = "weekly", **kw: bool) -> int:
    sent = await send_digests(app.db, clock, cadence, group_locale="en", **kw)
    await app.flush_outbox()
    return sent


def _digest_of(chat: Chat) -> list[str]:
    return [s.text for s in chat.mine() if s.text.startswith(("Your digest", "This week in"))]


async def _outbox_count(app: App) -> int:
    async with app.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(OutboxMessage))).one())


async def test_nothing_new_sends_nothing_but_marks_the_period(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna")
    before = await _outbox_count(app)
    assert await _digests(app, clock) == 0
    assert await _outbox_count(app) == before
    assert _digest_of(anna) == []
    async with app.db.session() as s:
        pref = await s.get(Preference, 1)
        assert pref is not None and pref.digest == "weekly" and pref.last_digest_at is not None


async def test_items_from_followed_themes_in_my_neighbourhood_with_a_support_button(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna")
    await anna.say("/volg vergroening")
    bob = await _resident(make_chat, "bob")
    await _idea(bob, "Geveltuinen in de Amsterdamstraat", "Greening")
    await _idea(bob, "Voetbalkooi opknappen", "Youth")  # a theme anna does not follow
    await _idea(bob, "Bankjes bij de vijver")  # no theme: everyone in Schalkwijk
    await _idea(anna, "Mijn eigen idee", "Greening")  # her own: not news to her
    dirk = await _resident(make_chat, "dirk", hood="Delftwijk")
    await _idea(dirk, "Boomspiegels in Delftwijk", "Greening")  # another neighbourhood
    clock.advance(timedelta(hours=1))

    assert await _digests(app, clock) >= 1
    [digest] = _digest_of(anna)
    assert "Your digest for this week" in digest
    assert "I-1 Geveltuinen in de Amsterdamstraat (Greening) – 0 supporters" in digest
    assert "I-3 Bankjes bij de vijver" in digest
    assert "Voetbalkooi" not in digest and "Mijn eigen idee" not in digest
    assert "Delftwijk" not in digest and "/digest" in digest
    assert "Support I-1" in anna.last().labels and "Support I-4" not in anna.last().labels
    # The button acts in place: anna supports I-1 straight from her digest.
    [ok] = await anna.press("Support I-1")
    assert "You now support I-1" in ok.text and "1 supporter." in ok.text

    # A second fire in the same week sends nothing, even with something new.
    await _idea(bob, "Nog een groen idee", "Greening")
    assert await _digests(app, clock) == 0
    assert len(_digest_of(anna)) == 1


async def test_daily_weekly_never(app: App, make_chat: MakeChat, clock: FrozenClock) -> None:
    daily = await _resident(make_chat, "daan")
    [menu] = await daily.say("/overzicht")
    assert "every Monday at 19:00" in menu.text and "✓ Every week" in menu.labels
    [saved] = await daily.press("Every day")
    assert "every day at 19:00" in saved.text and "✓ Every day" in saved.labels
    never = await _resident(make_chat, "nina")
    await never.say("/digest")
    await never.press("Never")
    weekly = await _resident(make_chat, "wim")
    author = await _resident(make_chat, "anna")
    await _idea(author, "Buurtbarbecue")
    clock.advance(timedelta(hours=1))

    await _digests(app, clock, "daily")
    assert len(_digest_of(daily)) == 1 and "Your digest for today" in _digest_of(daily)[0]
    assert _digest_of(weekly) == [] and _digest_of(never) == []
    await _digests(app, clock, "weekly")
    assert len(_digest_of(weekly)) == 1 and len(_digest_of(daily)) == 1
    assert _digest_of(never) == []

    # The next day: only what is new since the last digest.
    clock.advance(timedelta(days=1))
    await _digests(app, clock, "daily")
    assert len(_digest_of(daily)) == 1  # nothing new
    clock.advance(timedelta(minutes=1))
    await _idea(author, "Rommelmarkt")
    clock.advance(timedelta(days=1))
    await _digests(app, clock, "daily")
    [_first, second] = _digest_of(daily)
    assert "Rommelmarkt" in second and "Buurtbarbecue" not in second


async def test_broadcasts_setting(app: App, make_chat: MakeChat) -> None:
    anna = await _resident(make_chat, "anna")
    [menu] = await anna.say("/overzicht")
    assert "come by message" in menu.text
    [off] = await anna.press("No polls and announcements by message")
    assert "do not come by message" in off.text
    async with app.db.session() as s:
        pref = await s.get(Preference, 1)
        assert pref is not None and pref.broadcasts is False and pref.digest == "weekly"
    [on] = await anna.press("Send polls and announcements by message")
    assert "come by message" in on.text


async def test_digest_in_my_language(app: App, make_chat: MakeChat, clock: FrozenClock) -> None:
    nl = await _resident(make_chat, "noor", lang="nl")
    en = await _resident(make_chat, "emma", lang="en")
    bob = await _resident(make_chat, "bob")
    await _idea(bob, "Speeltuin")
    clock.advance(timedelta(hours=1))
    await _digests(app, clock)
    assert "Steun I-1" in nl.last().labels and "1 keer gesteund" not in nl.last().text
    assert "0 keer gesteund" in nl.last().text
    assert "Support I-1" in en.last().labels and "0 supporters" in en.last().text


async def test_report_changes_mine_and_my_neighbourhood(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna")
    async with app.db.transaction() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        assert hood is not None and hood.id is not None
        await signals.create_signal(
            s, neighbourhood_id=hood.id, reporter_id=1, category="road",
            text="Losse stoeptegel bij de bakker", address="Amsterdamstraat 10",
        )  # fmt: skip
    bob = await _resident(make_chat, "bob")
    dirk = await _resident(make_chat, "dirk", hood="Delftwijk")
    clock.advance(timedelta(hours=1))
    async with app.db.transaction() as s:
        sig = await signals.signal(s, 1)
        assert sig is not None
        await signals.set_status(s, sig, "accepted", "We komen dinsdag.", None)
    clock.advance(timedelta(hours=1))

    await _digests(app, clock)
    [mine] = _digest_of(anna)
    assert "News about your reports:" in mine and "M-1001 is now: accepted" in mine
    assert "dinsdag" not in mine  # a note is for the reporter's own message, not a digest
    [theirs] = _digest_of(bob)
    assert "Reports in the neighbourhood:" in theirs and "M-1001 is now: accepted" in theirs
    assert _digest_of(dirk) == []
    [shown] = await bob.press("Open M-1001")
    assert "Status: accepted" in shown.text and "Follow M-1001" in shown.labels
    [followed] = await bob.press("Follow M-1001")
    assert "You now follow M-1001" in followed.text
    async with app.db.session() as s:
        assert await signals.followers(s, 1) == [2]


async def test_polls_closing_soon_and_results(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna")
    voted = await _resident(make_chat, "vera")
    quiet = await _resident(make_chat, "quinten")
    await quiet.say("/overzicht")
    await quiet.press("No polls and announcements by message")
    now = clock.now()
    async with app.db.transaction() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        assert hood is not None and hood.id is not None
        soon = Poll(neighbourhood_id=hood.id, question="Meer bankjes?", options=["Ja", "Nee"],
                    closes_at=now + timedelta(days=1), sent_at=now - timedelta(days=5))  # fmt: skip
        later = Poll(neighbourhood_id=hood.id, question="Later?", options=["Ja", "Nee"],
                     closes_at=now + timedelta(days=5), sent_at=now)  # fmt: skip
        done = Poll(neighbourhood_id=hood.id, question="Welke dag?", options=["Za", "Zo"],
                    closes_at=now - timedelta(hours=2), closed_at=now - timedelta(hours=2),
                    sent_at=now - timedelta(days=6))  # fmt: skip
        for p in (soon, later, done):
            s.add(p)
        await s.flush()
        assert soon.id and done.id
        s.add(PollVote(poll_id=soon.id, person_id=2, option=0))
        s.add(PollVote(poll_id=done.id, person_id=2, option=1))
        s.add(PollVote(poll_id=done.id, person_id=3, option=1))
    await _digests(app, clock)

    [digest] = _digest_of(anna)
    assert "Polls that close soon:" in digest and "“Meer bankjes?” closes on" in digest
    assert "Later?" not in digest
    assert "Welke dag?" not in digest  # anna had the results by message already
    _sent, button = anna.button("Vote: Meer bankjes?")
    assert button.data == f"poll:{soon.id}"
    assert _digest_of(voted) == []  # voted already, nothing else new
    [q] = _digest_of(quiet)
    assert "Poll results:" in q and "“Welke dag?”: most votes for “Zo”. 2 people voted." in q
    assert quiet.button("Results: Welke dag?")[1].data == f"poll:{done.id}"
    # The buttons work: Vote shows the poll with its answers, Results shows the results.
    [poll] = await anna.press("Vote: Meer bankjes?")
    assert "Meer bankjes?" in poll.text and poll.labels[:2] == ["Ja", "Nee"]
    [voted_now] = await anna.press("Ja")
    assert "Ja" in voted_now.text
    async with app.db.session() as s:
        votes = (await s.exec(select(PollVote).where(PollVote.poll_id == soon.id))).all()
    assert len(votes) == 2
    [results] = await quiet.press("Results: Welke dag?")
    assert "Zo: 2" in results.text


async def test_group_gets_a_weekly_digest_of_its_neighbourhood(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, clock: FrozenClock
) -> None:
    bob = await _resident(make_chat, "bob")
    await _idea(bob, "Geveltuinen", "Greening")
    await _idea(bob, "Voetbalkooi", "Youth")
    dirk = await _resident(make_chat, "dirk", hood="Delftwijk")
    await _idea(dirk, "Elders")
    async with app.db.transaction() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        green = next(t for t in await places.themes_for(s, None) if t.slug == "vergroening")
        assert hood is not None
        s.add(Channel(platform="fake", chat_id="g:buurt", kind="group", neighbourhood_id=hood.id))
        s.add(Channel(platform="fake", chat_id="g:groen", kind="group", neighbourhood_id=hood.id,
                      theme_id=green.id))  # fmt: skip
    clock.advance(timedelta(hours=1))

    await _digests(app, clock, "daily")
    assert adapter.in_chat("g:buurt") == []  # groups: weekly only
    await _digests(app, clock, "weekly")
    [whole] = [s.text for s in adapter.in_chat("g:buurt")]
    assert whole.startswith("This week in Schalkwijk")
    assert "Geveltuinen" in whole and "Voetbalkooi" in whole and "Elders" not in whole
    [green_only] = adapter.in_chat("g:groen")
    assert green_only.text.startswith("This week in Schalkwijk, Greening")
    assert "Geveltuinen" in green_only.text and "Voetbalkooi" not in green_only.text
    assert "Support I-1" in green_only.labels
    await _digests(app, clock, "weekly")
    assert len(adapter.in_chat("g:buurt")) == 1  # once a week


async def test_console_jobs_serve_everyone_but_only_with_news(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna")
    bob = await _resident(make_chat, "bob")
    await _idea(bob, "Buurtbieb")
    clock.advance(timedelta(minutes=5))
    await app.run_jobs_now()
    assert len(_digest_of(anna)) == 1
    await app.run_jobs_now()  # nothing new since
    assert len(_digest_of(anna)) == 1
    clock.advance(timedelta(minutes=5))
    await _idea(bob, "Repaircafé")
    clock.advance(timedelta(minutes=5))
    await app.run_jobs_now()  # `:jobs` does not wait for the next week
    assert len(_digest_of(anna)) == 2 and "Buurtbieb" not in _digest_of(anna)[1]


async def test_forget_me_removes_the_preference(app: App, make_chat: MakeChat) -> None:
    anna = await _resident(make_chat, "anna")
    await anna.say("/overzicht")
    await anna.press("Every day")
    async with app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Preference))).one() == 1
    await anna.say("/vergeetmij")
    await anna.press("Yes, erase my data")
    async with app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Preference))).one() == 0


async def test_a_late_digest_does_not_make_the_next_one_skip(
    app: App, make_chat: MakeChat, clock: FrozenClock
) -> None:
    anna = await _resident(make_chat, "anna")
    author = await _resident(make_chat, "bram")
    monday = datetime(2026, 11, 30, 19, 0, tzinfo=AMS)
    clock.advance(monday - clock.now())
    await _idea(author, "Buurtbarbecue")
    await _digests(app, clock)
    assert len(_digest_of(anna)) == 1
    # The bot is down on the next Monday; it comes back on Saturday and catches up …
    clock.advance(timedelta(days=12))
    await _idea(author, "Rommelmarkt")
    await _digests(app, clock)
    assert len(_digest_of(anna)) == 2 and "Rommelmarkt" in _digest_of(anna)[1]
    await _digests(app, clock)  # a double fire sends nothing more
    assert len(_digest_of(anna)) == 2
    # … and two days later the Monday digest still comes, with what is new since Saturday.
    clock.advance(datetime(2026, 12, 14, 19, 0, 20, tzinfo=AMS) - clock.now())
    await _idea(author, "Kerstmarkt")
    clock.advance(timedelta(seconds=5))
    await _digests(app, clock)
    assert len(_digest_of(anna)) == 3
    assert "Kerstmarkt" in _digest_of(anna)[2] and "Rommelmarkt" not in _digest_of(anna)[2]


def test_the_digest_slot_is_the_latest_scheduled_time() -> None:
    for cadence in ("daily", "weekly"):
        trigger = cron_trigger(CRON[cadence])
        for start in (datetime(2027, 3, 20, tzinfo=AMS), datetime(2026, 10, 17, tzinfo=AMS)):
            for hour in range(0, 24 * 21, 5):  # three weeks around a DST change
                now = (start + timedelta(hours=hour)).astimezone(UTC)
                at = slot(cadence, now)
                assert trigger.get_next_fire_time(None, at) == at  # a scheduled time …
                after = trigger.get_next_fire_time(at, at + timedelta(seconds=1))
                assert at <= now < after  # … the latest one
    # A run firing a few seconds early still counts for its own time.
    monday = datetime(2026, 11, 30, 19, 0, tzinfo=AMS)
    assert slot("weekly", monday - timedelta(seconds=3)) == monday
