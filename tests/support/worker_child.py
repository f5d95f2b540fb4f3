"""`wijkbot run --worker` for the failover test, with two test hooks set from the environment.

WIJKBOT_TEST_OUTBOX_PER_SECOND replaces Telegram's 30 messages a second overall (one a
second per chat stays), so a 2,000-message broadcast takes seconds. WIJKBOT_TEST_TICKS names
a file: a scheduled job ("failover-tick", every second) appends "<pid> <monotonic time>" to
it each time it fires, so the test sees which worker fired it and when.

    python -m tests.support.worker_child
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import signal
import sys
import time
from datetime import timedelta

import bot.app
from bot.cli import main
from bot.delivery import limits
from bot.delivery.scheduler import Job

TICK = timedelta(seconds=1)


def stack_dumps() -> None:
    """SIGUSR1: every thread's stack (even with the event loop blocked); SIGUSR2: every
    asyncio task's stack. The failover test asks for both before it fails."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    def tasks(_sig: int, _frame: object) -> None:
        with contextlib.suppress(RuntimeError):
            for task in asyncio.all_tasks(asyncio.get_running_loop()):
                print(f"--- task {task.get_name()}", file=sys.stderr)
                task.print_stack(limit=8, file=sys.stderr)
        sys.stderr.flush()

    signal.signal(signal.SIGUSR2, tasks)


def hooks() -> None:
    per_second = os.environ.get("WIJKBOT_TEST_OUTBOX_PER_SECOND")
    if per_second:
        limits.PLATFORM_LIMITS["telegram"] = limits.RateLimits(
            overall=(int(per_second), 1.0),
            per_chat=limits.TELEGRAM_LIMITS.per_chat,
            per_group=limits.TELEGRAM_LIMITS.per_group,
        )
    ticks = os.environ.get("WIJKBOT_TEST_TICKS")
    if ticks:
        digest_jobs = bot.app.digest_jobs

        async def tick() -> int:
            with open(ticks, "a") as f:  # noqa: ASYNC230 (one short line)
                f.write(f"{os.getpid()} {time.monotonic():.3f}\n")
            return 0

        def with_tick(*args: object) -> list[Job]:
            return [*digest_jobs(*args), Job("failover-tick", TICK, tick)]  # type: ignore[arg-type]

        bot.app.digest_jobs = with_tick  # type: ignore[assignment]


if __name__ == "__main__":
    stack_dumps()
    hooks()
    sys.exit(main(["run", "--worker"]))
