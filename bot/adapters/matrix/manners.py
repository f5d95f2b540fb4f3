"""Matrix manners that need no adapter state: the typing notice."""

from __future__ import annotations

import logging

from nio import AsyncClient

log = logging.getLogger(__name__)

TYPING_AFTER = 1.0  # seconds of handling before the bot shows it is typing
TYPING_FOR_MS = 30_000  # how long one typing notice lasts on the server, unless stopped


async def typing_notice(client: AsyncClient, room_id: str, on: bool) -> bool:
    """A typing notice (on or off); not worth failing anything for."""
    try:
        await client.room_typing(room_id, on, timeout=TYPING_FOR_MS)
    except Exception as exc:
        log.info("matrix: typing notice in %s failed: %s", room_id, exc)
        return False
    return True
