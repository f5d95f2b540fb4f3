"""Sending limits per platform, and a pure limiter that says how long to wait before a send.

The limiter keeps the times of recent sends (sliding windows) and is told the time: it never
reads a clock or sleeps, so it is tested without I/O and the sender can run on a simulated
clock. Telegram's documented soft limits: about 30 messages per second overall, one per
second in a chat, 20 per minute in a group. Matrix has none fixed (the homeserver answers
M_LIMIT_EXCEEDED with `retry_after_ms`, which the adapter waits out itself).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

Window = tuple[int, float]  # at most `count` sends in any `span` seconds
MARGIN = 1e-6  # seconds added to a wait, so rounding never lands a send just inside a window


@dataclass(frozen=True)
class RateLimits:
    overall: Window | None = None
    per_chat: Window | None = None
    per_group: Window | None = None  # in addition to per_chat, for chats of kind "group"

    @property
    def unlimited(self) -> bool:
        return self.overall is None and self.per_chat is None and self.per_group is None


NO_LIMITS = RateLimits()
TELEGRAM_LIMITS = RateLimits(overall=(30, 1.0), per_chat=(1, 1.0), per_group=(20, 60.0))
PLATFORM_LIMITS = {"telegram": TELEGRAM_LIMITS}


def limits_for(platform: str) -> RateLimits:
    return PLATFORM_LIMITS.get(platform, NO_LIMITS)


def _wait_in(window: deque[float], limit: Window, now: float) -> float:
    count, span = limit
    if len(window) < count:
        return 0.0
    free_at = window[-count] + span  # the oldest send that still counts leaves the window
    return free_at - now + MARGIN if free_at > now else 0.0


def _trim(window: deque[float], span: float, now: float) -> None:
    while window and window[0] <= now - span:
        window.popleft()


class RateLimiter:
    """Sliding windows of recent send times: overall, per chat and per group chat."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._overall: deque[float] = deque()
        self._chats: dict[str, deque[float]] = {}
        self._groups: dict[str, deque[float]] = {}
        self._recorded = 0

    def wait(self, chat_id: str, kind: str, now: float) -> float:
        """Seconds to wait before a message to `chat_id` may go; 0.0 when it may go now."""
        lim = self.limits
        waits = [0.0]
        if lim.overall is not None:
            waits.append(_wait_in(self._overall, lim.overall, now))
        if lim.per_chat is not None and chat_id in self._chats:
            waits.append(_wait_in(self._chats[chat_id], lim.per_chat, now))
        if lim.per_group is not None and kind == "group" and chat_id in self._groups:
            waits.append(_wait_in(self._groups[chat_id], lim.per_group, now))
        return max(waits)

    def record(self, chat_id: str, kind: str, now: float) -> None:
        """A message to `chat_id` went out at `now`."""
        lim = self.limits
        if lim.overall is not None:
            self._overall.append(now)
            _trim(self._overall, lim.overall[1], now)
        if lim.per_chat is not None:
            window = self._chats.setdefault(chat_id, deque())
            window.append(now)
            _trim(window, lim.per_chat[1], now)
        if lim.per_group is not None and kind == "group":
            window = self._groups.setdefault(chat_id, deque())
            window.append(now)
            _trim(window, lim.per_group[1], now)
        self._recorded += 1
        if self._recorded % 1000 == 0:
            self._forget(now)

    def _forget(self, now: float) -> None:
        """Drop chats whose sends have all left their window (a broadcast touches many)."""
        for windows, limit in (
            (self._chats, self.limits.per_chat),
            (self._groups, self.limits.per_group),
        ):
            if limit is None:
                continue
            for chat_id in [c for c, w in windows.items() if not w or w[-1] <= now - limit[1]]:
                del windows[chat_id]

    @property
    def tracked_chats(self) -> int:
        return len(self._chats) + len(self._groups)
