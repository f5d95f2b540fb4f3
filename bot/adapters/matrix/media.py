"""Files to and from the media repository: charts and documents the bot sends (encrypted
where the room is), and photos residents sent (decrypted when they came encrypted)."""

from __future__ import annotations

import asyncio
import hashlib
import io
from typing import Any

from nio import AsyncClient
from nio.crypto import decrypt_attachment

from bot.adapters.matrix.events import split_file_id
from bot.adapters.matrix.session import MatrixSendError

DOWNLOAD_TIMEOUT = 60.0  # seconds for one media download (a stuck one would hold a send slot)


async def file_content(
    client: AsyncClient,
    room_id: str,
    data: bytes,
    name: str,
    mimetype: str,
    msgtype: str,
    uploaded: dict[str, str],
) -> dict[str, Any]:
    """Upload `data` and give the message content that shows it; `uploaded` remembers plain
    uploads by their hash, so a chart going to many plain rooms is uploaded once."""
    room = client.rooms.get(room_id)
    encrypt = bool(room is not None and room.encrypted)
    digest = hashlib.sha256(data).hexdigest()
    url = None if encrypt else uploaded.get(digest)
    keys: dict[str, Any] | None = None
    if url is None:
        resp, keys = await client.upload(
            lambda *_args: io.BytesIO(data), content_type=mimetype,
            filename=name, encrypt=encrypt, filesize=len(data),
        )  # fmt: skip
        url = getattr(resp, "content_uri", None)
        if url is None:
            raise MatrixSendError(f"upload failed: {getattr(resp, 'message', resp)}")
        if not encrypt:
            uploaded[digest] = url
    content: dict[str, Any] = {
        "msgtype": msgtype, "body": name,
        "info": {"mimetype": mimetype, "size": len(data)},
    }  # fmt: skip
    if encrypt and keys:
        content["file"] = {**keys, "url": url}
    else:
        content["url"] = url
    return content


async def download(client: AsyncClient, file_id: str) -> bytes:
    """A file from the media repository, decrypted when it came in an encrypted room."""
    url, keys = split_file_id(file_id)
    resp = await asyncio.wait_for(client.download(mxc=url), DOWNLOAD_TIMEOUT)
    body = getattr(resp, "body", None)
    if not isinstance(body, bytes):
        raise MatrixSendError(f"download failed: {getattr(resp, 'message', resp)}")
    if keys is None:
        return body
    return bytes(decrypt_attachment(body, keys["k"], keys["sha256"], keys["iv"]))
