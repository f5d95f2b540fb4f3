"""A one-off report from Matrix: a photo from the media repository, then a location."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from nio import UploadResponse
from sqlmodel import select

from bot.adapters.matrix.render import KEYCAPS
from bot.core.clock import FrozenClock
from bot.core.events import Attachment, ChatRef, Reply
from storage.models import ConversationState, Signal
from tests.e2e.matrix.conftest import SQLITE_ONLY, Bot, direct_chat
from tests.e2e.matrix.resident import Resident, body
from tests.e2e.matrix.test_direct import number_of

pytestmark = [pytest.mark.e2e, SQLITE_ONLY]


def tiny_png() -> bytes:
    """A valid 1×1 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def test_one_off_report_with_photo_and_location(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    await bot.start(clock)
    dirk: Resident = await make_resident("dirk")
    room = await direct_chat(dirk, bot, encrypted=False)

    mxc = await dirk.upload_png(tiny_png())
    assert mxc.startswith("mxc://localhost/")
    mark = dirk.mark()
    image = {
        "msgtype": "m.image",
        "body": "stoeptegel.png",
        "url": mxc,
        "info": {"mimetype": "image/png", "w": 1, "h": 1, "size": len(tiny_png())},
    }
    await dirk.send(room, image)
    await dirk.message_from(bot.user_id, room, "Wat is er mis?", mark)

    mark = dirk.mark()
    await dirk.say(room, "Losse stoeptegel bij de bushalte")
    await dirk.message_from(bot.user_id, room, "Waar is het?", mark)

    mark = dirk.mark()
    location = {
        "msgtype": "m.location",
        "body": "Locatie 52.3678, 4.6536",
        "geo_uri": "geo:52.3678,4.6536;u=12",
    }
    await dirk.send(room, location)
    kinds = await dirk.message_from(bot.user_id, room, "Wat voor probleem", mark)

    road = number_of(body(kinds), "Straat")
    mark = dirk.mark()
    await dirk.react(room, kinds.event_id, KEYCAPS[road - 1])
    hood = await dirk.message_from(bot.user_id, room, "Over welke wijk", mark)

    mark = dirk.mark()
    await dirk.say(room, "Schalkwijk")
    await dirk.message_from(bot.user_id, room, "Dank je! Je melding heeft nummer", mark)

    async with bot.app.db.session() as s:
        signal = (await s.exec(select(Signal))).one()
    assert signal.photo_platform == "matrix" and signal.photo_file_id == mxc
    # The photo can be fetched for forwarding to the municipality and to other platforms.
    assert await bot.app.fetch_photo("matrix", mxc) == tiny_png()
    assert (signal.lat, signal.lon) == (52.3678, 4.6536)
    assert signal.category == "road" and "stoeptegel" in signal.text
    assert hood is not None


async def test_a_photo_from_an_encrypted_chat_can_be_fetched_and_shown_again(
    bot: Bot, make_resident: Any, clock: FrozenClock
) -> None:
    """Element encrypts images in encrypted rooms: the bot keeps what decrypts them."""
    await bot.start(clock)
    erik: Resident = await make_resident("erik")
    room = await direct_chat(erik, bot, encrypted=True)
    png = tiny_png()
    resp, keys = await erik.client.upload(
        io.BytesIO(png), content_type="image/png", filename="lamp.png",
        encrypt=True, filesize=len(png),
    )  # fmt: skip
    assert isinstance(resp, UploadResponse) and keys is not None
    mark = erik.mark()
    image = {
        "msgtype": "m.image", "body": "lamp.png", "file": {**keys, "url": resp.content_uri},
        "info": {"mimetype": "image/png", "w": 1, "h": 1, "size": len(png)},
    }  # fmt: skip
    await erik.send(room, image)
    await erik.message_from(bot.user_id, room, "Wat is er mis?", mark)
    mark = erik.mark()
    await erik.say(room, "Kapotte straatlamp")
    await erik.message_from(bot.user_id, room, "Waar is het?", mark)

    # The report in progress holds the photo.
    [file_id] = [d["photo"] for d in await _dialog_data(bot, room) if d.get("photo")]
    assert file_id.startswith(resp.content_uri + "#")
    assert await bot.app.fetch_photo("matrix", file_id) == png  # decrypted
    # Shown again in a chat (as an announcement photo would be): uploaded anew, readable.
    mark = erik.mark()
    await bot.adapter.send(
        ChatRef("matrix", room, "direct"),
        Reply(text="Zo ziet het eruit", photo=Attachment("photo", file_id, "matrix")),
    )

    def shown(r: str, e: Any) -> bool:
        content = getattr(e, "source", {}).get("content", {})  # not typing, not receipts
        return r == room and content.get("msgtype") == "m.image"

    again = await erik.wait_for(shown, "the photo shown again", mark)
    url = again.source["content"].get("file", {}).get("url") or again.source["content"]["url"]
    assert url != resp.content_uri
    # A photo that is gone from the server: the text still arrives, without it.
    gone = "mxc://localhost/gone#" + file_id.partition("#")[2]
    mark = erik.mark()
    await bot.adapter.send(
        ChatRef("matrix", room, "direct"),
        Reply(text="De markt gaat door", photo=Attachment("photo", gone, "matrix")),
    )
    await erik.message_from(bot.user_id, room, "De markt gaat door", mark)


async def _dialog_data(bot: Bot, room: str) -> list[dict[str, Any]]:
    async with bot.app.db.session() as s:
        return [
            c.data for c in (await s.exec(select(ConversationState))).all() if c.chat_id == room
        ]
