"""Requests to the webhook that are not Telegram's, or not updates: one process, both databases.

The webhook port faces the internet (behind the operator's proxy). A user would notice a
forged update answered or stored, an update answered twice because it came twice at once,
or a bot that stops answering after a broken request. Several workers: see
tests/delivery/test_webhook_workers.py.
"""

from __future__ import annotations

import asyncio
import copy
import json

import aiohttp
import pytest
from sqlmodel import func, select

from storage.models import InboxEntry
from tests.e2e.telegram.conftest import RunningBot

pytestmark = pytest.mark.e2e
HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET = "s3cret-for-tests"  # the tg_webhook fixture's


async def kept(tg: RunningBot) -> int:
    assert tg.app is not None
    async with tg.app.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(InboxEntry))).one())


async def post(tg: RunningBot, body: bytes | dict[str, object], secret: str | None) -> int:
    url = f"http://127.0.0.1:{tg.settings.telegram_webhook_port}/telegram"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as http, http.post(url, data=data, headers=headers) as r:
        return r.status


async def test_forged_and_broken_requests_keep_nothing_and_the_bot_goes_on(
    tg_webhook: RunningBot,
) -> None:
    tg, api = tg_webhook, tg_webhook.api
    anna = api.user(1201, "Anna", language_code="en")
    dm = api.private_chat(anna)
    sent = await api.send_text(anna, dm, "/help")
    [answer] = await tg.replies(dm.id)  # delivered by the stand-in, as Telegram does
    before = await kept(tg)
    assert sent.update_id is not None
    message = copy.deepcopy(sent.data) | {"text": "/idee"}
    message["entities"][0]["length"] = 5
    forged = {"update_id": sent.update_id + 1000, "message": message}
    assert await post(tg, forged, "wrong") == 403
    assert await post(tg, forged, None) == 403
    assert await post(tg, forged, SECRET[:-1]) == 403
    huge = b'{"update_id": 9, "x": "' + b"a" * (2 << 20) + b'"}'
    assert await post(tg, huge, "wrong") == 403  # not even read
    assert await post(tg, huge, SECRET) == 413
    for broken in (b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"', b"null", b"{}"):
        assert await post(tg, broken, SECRET) == 400, broken
    assert await post(tg, {"update_id": "9", "message": {}}, SECRET) == 400
    assert await post(tg, {"update_id": 9, "message": {"text": "/idee"}}, SECRET) == 400
    assert await kept(tg) == before
    await asyncio.sleep(0.5)
    assert [r.plain_text for r in api.sent if r.chat_id == dm.id] == [answer.plain_text]
    # The same update twice at the same moment (Telegram retrying while the first runs).
    statuses = await asyncio.gather(post(tg, forged, SECRET), post(tg, forged, SECRET))
    assert statuses == [200, 200]
    await tg.replies(dm.id)
    await asyncio.sleep(1.0)
    assert len([r for r in api.sent if r.chat_id == dm.id]) == 2  # answered once
    assert await kept(tg) == before + 1
    assert tg.running
