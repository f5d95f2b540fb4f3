"""Telegram's webhook: our own small aiohttp server, as PTB's answers 200 before anything is
stored.

It checks the secret token, hands the update over to be kept, and only then answers 200
(Telegram forgets the update then); while the database is away it answers 503, so Telegram
sends it again later. Nothing is kept for a wrong secret (403, the body unread), a body that
is no update (400), or one over aiohttp's 1 MiB (413). With several workers, each runs this
server behind the operator's load balancer: whichever gets an update keeps it.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial

from aiohttp import web
from telegram import Bot, Update

from bot.config import Settings
from bot.core.ports import StoreUnavailable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram"
Receive = Callable[[Update], Awaitable[None]]  # keeps it; StoreUnavailable if it cannot


@asynccontextmanager
async def listening(settings: Settings, bot: Bot, receive: Receive) -> AsyncIterator[None]:
    """The webhook server takes requests while the block runs."""
    assert settings.telegram_webhook_secret
    secret = settings.telegram_webhook_secret.get_secret_value()
    server = web.Application()
    server.router.add_post(PATH, partial(on_webhook, bot, receive, secret))
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.telegram_webhook_listen, settings.telegram_webhook_port)
        await site.start()
        yield
    finally:
        await runner.cleanup()


async def on_webhook(bot: Bot, receive: Receive, secret: str, request: web.Request) -> web.Response:
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return web.Response(status=403)
    update = parse_update(await request.read(), bot)  # over 1 MiB: aiohttp answers 413
    if update is None:
        return web.Response(status=400)
    try:
        await receive(update)
    except StoreUnavailable as exc:
        log.warning("telegram: the database is away (%s); Telegram sends it again", exc)
        return web.Response(status=503, text="the database is away; try again later")
    return web.Response()


def parse_update(body: bytes, bot: Bot) -> Update | None:
    """The update in a webhook request's body; None if it is not one."""
    try:
        data = json.loads(body)
        update = Update.de_json(data, bot) if isinstance(data, dict) else None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.info("telegram: a webhook request that is no update (%s)", type(exc).__name__)
        return None
    if update is None or type(update.update_id) is not int:
        return None
    return update
