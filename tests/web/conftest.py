"""The web overview in tests: an httpx client on the ASGI app, in the test's own event loop
(the database engine lives there), and a coordinator who got a link from /dashboard."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import App
from bot.ops.admin import grant_coordinator
from bot.web.app import create_app
from tests.support.fake import Chat, MakeChat

LINK = re.compile(r"(https?://\S+/login/[A-Za-z0-9_\-]+)")


def link_in(replies: list) -> str:  # type: ignore[type-arg]
    [found] = [m for r in replies if (m := LINK.search(r.text))]
    return found.group(1)


@pytest.fixture
async def web(app: App) -> AsyncIterator[httpx.AsyncClient]:
    app.settings.web_port = 8089
    site = create_app(app.db, app.settings, app.dispatcher.clock, app.flush_outbox)
    transport = httpx.ASGITransport(app=site)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8089") as c:
        yield c


async def coordinator(app: App, make_chat: MakeChat, name: str = "coco") -> Chat:
    await grant_coordinator(app.settings, "fake", name, "schalkwijk")
    coco: Chat = make_chat(name, lang="en")
    await coco.say("/taal en")
    return coco


async def resident_report(
    make_chat: MakeChat,
    name: str,
    hood: str,
    text: str,
    lat: float = 52.37,
    category: str = "Street lighting",
    lon: float = 4.65,
) -> Chat:
    c: Chat = make_chat(name, lang="en")
    await c.say("/wijk")
    await c.press(hood)
    await c.say("/melding")
    await c.say(text)
    await c.location(lat, lon)
    await c.press("Skip")
    replies = await c.press(category)
    if any("reported this already" in r.text for r in replies):
        await c.press("No, this is something else")
    return c


async def log_in(web: httpx.AsyncClient, link: str) -> httpx.Response:
    return await web.get(link.split("8089", 1)[1])


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)
