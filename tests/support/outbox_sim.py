"""Simulated time for the outbox sender: a monotonic clock that only moves when slept on."""

from __future__ import annotations

import asyncio


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
