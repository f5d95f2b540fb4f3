"""Simulated time for the outbox sender: a monotonic clock that only moves when slept on."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta


class SimTime:
    """`now()` for the limiter (and the Bot API stand-in's flood limits), `sleep()` to wait."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start
        self.slept = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.t += seconds
            self.slept += seconds
        await asyncio.sleep(0)  # let others run, as a real sleep would


class SharedTime(SimTime):
    """Simulated time for several senders in one process (each a worker of its own).

    Time moves only when every sender that is at work (`at_work`) sleeps: then to the
    earliest end of their sleeps, waking those that end then. A request a sender has on
    its way thus reaches the stand-in at the moment it was sent, whatever another sender
    waits for meanwhile, as on a real clock. `moment()` is the same time as a date, for the
    app's clock and the shared send budget.
    """

    def __init__(self, base: datetime, until: float = 3600.0) -> None:
        super().__init__()
        self.base = base
        self.until = until  # a test that waits longer than this fails (no endless wait)
        self.working = 0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @contextlib.asynccontextmanager
    async def at_work(self) -> AsyncIterator[None]:
        self.working += 1
        try:
            yield
        finally:
            self.working -= 1
            self._move()

    async def sleep(self, seconds: float) -> None:
        if self.t + seconds > self.until:
            raise AssertionError(f"waited past {self.until} s of simulated time")
        woken = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + max(0.0, seconds), next(self._order), woken))
        self._move()
        await woken

    def _move(self) -> None:
        if not self._sleepers or len(self._sleepers) < self.working:
            return  # a sender is still at work: its time has not passed yet
        end = self._sleepers[0][0]
        if end > self.t:
            self.slept += end - self.t
            self.t = end
        while self._sleepers and self._sleepers[0][0] <= self.t:
            heapq.heappop(self._sleepers)[2].set_result(None)

    def moment(self) -> datetime:
        return self.base + timedelta(seconds=self.t)


class SimClock:
    """The app's clock (a Clock) on simulated time: leases and `sent_at` move with it."""

    def __init__(self, time: SharedTime) -> None:
        self.time = time

    def now(self) -> datetime:
        return self.time.moment()
