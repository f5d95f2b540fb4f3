"""Telegram's side of a webhook: pending updates are POSTed to the bot until it says 2xx.

Telegram sends each update to the registered HTTPS URL with the secret token in the
``X-Telegram-Bot-Api-Secret-Token`` header, and forgets it only after a 2xx answer; any
other answer (or no answer) means it tries again later. With ``max_connections`` 1 it sends
one update at a time, in order. The registered URL of a test is not reachable
(``https://….invalid``), so the test names where the bot really listens.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from .telegram_records import JSONDict, json_copy

if TYPE_CHECKING:
    from .telegram_state import TelegramWorld

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class Delivery:
    update_id: int
    status: int  # the HTTP status the bot answered; 0: no answer (refused, timed out)


class WebhookSender:
    """Delivers the world's pending updates to `target` while a webhook is set."""

    def __init__(self, world: TelegramWorld, target: str, retry_after: float) -> None:
        self.world = world
        self.target = target
        self.retry_after = retry_after
        self.deliveries: list[Delivery] = []
        self._delivered: dict[int, JSONDict] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def statuses(self, update_id: int) -> list[int]:
        """The bot's answers to each attempt to deliver this update."""
        return [d.status for d in self.deliveries if d.update_id == update_id]

    def resend(self, update_id: int) -> None:
        """Send a delivered update again, as Telegram does when the bot's 200 did not reach it
        (the bot answered too late, or the connection broke)."""
        self.world._updates.append(json_copy(self._delivered[update_id]))
        self.world._updates_changed.set()
        self.world._updates_changed = asyncio.Event()

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                hook = self.world._webhook
                if hook is None or not self.world._updates:
                    changed = self.world._updates_changed
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), self.retry_after)
                    continue
                update = self.world._updates[0]
                status = await self._post(http, update, hook.get("secret_token"))
                self.deliveries.append(Delivery(int(update["update_id"]), status))
                if 200 <= status < 300:
                    self._delivered[int(update["update_id"])] = update
                    self.world._updates = [
                        u for u in self.world._updates if u["update_id"] != update["update_id"]
                    ]
                else:
                    await asyncio.sleep(self.retry_after)

    async def _post(self, http: aiohttp.ClientSession, update: JSONDict, secret: object) -> int:
        headers = {SECRET_HEADER: str(secret)} if secret else {}
        try:
            async with http.post(self.target, json=update, headers=headers) as resp:
                await resp.read()
                return resp.status
        except (aiohttp.ClientError, OSError, TimeoutError):
            return 0
