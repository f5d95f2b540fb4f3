"""The limiter on its own: pure, told the time, agrees with the stand-in's flood limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.limits import NO_LIMITS, TELEGRAM_LIMITS, RateLimiter, RateLimits, limits_for
from tests.standins.telegram_records import FloodLimiter, FloodLimits


def send_all(limiter: RateLimiter, chats: list[tuple[str, str]], start: float = 0.0) -> list[float]:
    """Send each (chat, kind) as early as the limiter allows; the send times."""
    now, times = start, []
    for chat, kind in chats:
        now += limiter.wait(chat, kind, now)
        assert limiter.wait(chat, kind, now) == 0.0
        limiter.record(chat, kind, now)
        times.append(now)
    return times


def test_limits_by_platform() -> None:
    assert limits_for("telegram") == TELEGRAM_LIMITS
    expected = RateLimits(overall=(30, 1.0), per_chat=(1, 1.0), per_group=(20, 60.0))
    assert expected == TELEGRAM_LIMITS
    assert limits_for("matrix") is NO_LIMITS and limits_for("console") is NO_LIMITS
    assert NO_LIMITS.unlimited and not TELEGRAM_LIMITS.unlimited


def test_no_limits_never_wait() -> None:
    limiter = RateLimiter(NO_LIMITS)
    assert send_all(limiter, [("1", "group")] * 1000) == [0.0] * 1000


def test_thirty_a_second_overall() -> None:
    times = send_all(RateLimiter(TELEGRAM_LIMITS), [(str(i), "direct") for i in range(95)])
    assert times[:30] == [0.0] * 30
    assert all(1.0 < t < 1.001 for t in times[30:60])
    assert all(3.0 < t < 3.001 for t in times[90:])


def test_one_a_second_per_chat() -> None:
    limiter = RateLimiter(TELEGRAM_LIMITS)
    times = send_all(limiter, [("7", "direct"), ("8", "direct"), ("7", "direct")])
    assert times[:2] == [0.0, 0.0] and 1.0 < times[2] < 1.001
    assert limiter.wait("7", "direct", 1.5) > 0.49 and limiter.wait("9", "direct", 1.5) == 0.0


def test_twenty_a_minute_per_group_but_not_per_direct_chat() -> None:
    group = send_all(RateLimiter(TELEGRAM_LIMITS), [("-100", "group")] * 41)
    assert 19.0 < group[19] < 19.001  # one a second in the chat
    assert 60.0 < group[20] < 60.001  # the 21st waits for the first to leave the minute
    assert 120.0 < group[40] < 120.01
    direct = send_all(RateLimiter(TELEGRAM_LIMITS), [("5", "direct")] * 41)
    assert 40.0 < direct[40] < 40.01


def test_broadcast_to_ten_thousand_takes_the_floor() -> None:
    limiter = RateLimiter(TELEGRAM_LIMITS)
    times = send_all(limiter, [(str(i), "direct") for i in range(10_000)])
    assert 333.0 <= times[-1] < 333.0 * 1.001  # 10,000 / 30 per second: bursts at 0, 1 … 333
    assert limiter.tracked_chats <= 1100  # chats whose window is over are forgotten


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["1", "2", "3", "-10", "-11"]), st.integers(0, 3)),
        min_size=1,
        max_size=120,
    )
)
def test_the_stand_in_never_answers_429_to_what_the_limiter_allows(
    sends: list[tuple[str, int]],
) -> None:
    """Each message sent as early as allowed (or a little later) passes Telegram's check."""
    now = 0.0
    flood = FloodLimiter(FloodLimits(), clock=lambda: now)
    limiter = RateLimiter(TELEGRAM_LIMITS)
    for chat, late in sends:
        kind = "group" if chat.startswith("-") else "direct"
        now += limiter.wait(chat, kind, now) + late * 0.25
        limiter.record(chat, kind, now)
        assert flood.check(int(chat), kind == "group") is None
