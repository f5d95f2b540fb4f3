"""Rooms the bot makes (an introduction, an initiative) and invitations into group rooms."""

from __future__ import annotations

import hashlib
import logging

from nio import (
    AsyncClient,
    LocalProtocolError,
    MatrixRoom,
    RoomCreateResponse,
    RoomInviteError,
    RoomPreset,
)

from bot.adapters.matrix.events import PLATFORM
from bot.adapters.matrix.session import CONNECTION_ERRORS, MatrixSendError
from bot.core.events import ChatRef, NewRoom

log = logging.getLogger(__name__)


async def create_room(client: AsyncClient, spec: NewRoom) -> ChatRef:
    """A private room with a name and topic, the people invited; not a direct chat, and
    not greeted like a group someone added us to. A spec with a key gets a room alias made
    from it: sent again after a crash (the outbox sends at least once), the alias is taken
    and the room made the first time is used, not a second one."""
    alias = room_alias(client.user_id, spec.key) if spec.key else None
    resp = await client.room_create(
        name=spec.name, topic=spec.topic, invite=list(spec.invite),
        preset=RoomPreset.private_chat, alias=alias,
    )  # fmt: skip
    room_id = getattr(resp, "room_id", None) if isinstance(resp, RoomCreateResponse) else None
    if (
        room_id is None
        and alias is not None
        and getattr(resp, "status_code", "") == "M_ROOM_IN_USE"
    ):
        server = client.user_id.partition(":")[2]
        found = await client.room_resolve_alias(f"#{alias}:{server}")
        room_id = getattr(found, "room_id", None)
    if room_id is None:
        raise MatrixSendError(f"creating a room failed: {getattr(resp, 'message', resp)}")
    if room_id not in client.rooms:  # nio sends only into rooms it knows; this may run
        # inside the sync that would bring it, so it is known now (unencrypted)
        client.rooms[room_id] = MatrixRoom(room_id, client.user_id)
    return ChatRef(PLATFORM, room_id, "group", spec.name)


def room_alias(user_id: str, key: str) -> str:
    """An alias no person would pick, the same for the same bot and key; it does not say
    what the room is for (the room stays invite-only)."""
    digest = hashlib.sha256(f"{user_id}|{key}".encode()).hexdigest()[:24]
    return f"wijkbot-{digest}"


async def invite(client: AsyncClient, group_id: str, user_id: str) -> str | None:
    """The bot invites the person into the room; the link opens it in their client (by its
    alias when it has one). None when the bot may not invite there."""
    try:
        resp = await client.room_invite(group_id, user_id)
    except (*CONNECTION_ERRORS, LocalProtocolError) as exc:
        log.info("matrix: could not invite into a group room: %s", exc)
        return None
    if isinstance(resp, RoomInviteError) and "already in the room" not in resp.message:
        log.info("matrix: could not invite into a group room: %s", resp.message)
        return None
    room = client.rooms.get(group_id)
    alias = room.canonical_alias if room is not None else None
    return f"https://matrix.to/#/{alias or group_id}"
