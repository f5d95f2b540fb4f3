"""Which Matrix rooms are direct chats, where private things may be said.

A room is direct when the resident marked it so (the `is_direct` flag on their invite, as
Element sets it) and only while the bot and that resident are its only members, joined or
invited. Two members alone never make a room direct. The marks are the bot's own
`m.direct` account data, as every Matrix client keeps them: the homeserver holds them
across restarts, and Element logged in as the bot shows the same direct chats.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from nio import (
    Api,
    DirectRoomsErrorResponse,
    DirectRoomsResponse,
    ErrorResponse,
    MatrixRoom,
    RoomMemberEvent,
)
from nio.responses import EmptyResponse

from bot.adapters.matrix.events import PLATFORM
from bot.adapters.matrix.render import render
from bot.adapters.matrix.session import CONNECTION_ERRORS, MatrixSession, backoff, wait_or_stop
from bot.core.events import Reply
from bot.core.i18n import _, use_locale

log = logging.getLogger(__name__)


def only_members(room: MatrixRoom | None, own_id: str, other: str) -> bool:
    """Just the bot and `other` in the room, both joined, nobody else invited."""
    if room is None or set(room.users) != {own_id, other}:
        return False
    return not any(user.invited for user in room.users.values())


def invited_as_direct(event: RoomMemberEvent, fallback: str | None) -> str | None:
    """Who invited us with `is_direct`, read from our own join (its previous content);
    None when that invite was not direct or the join replaced something else."""
    before = event.prev_content or {}
    if before.get("membership") != "invite" or not before.get("is_direct"):
        return None
    unsigned = event.source.get("unsigned") or {}
    sender = unsigned.get("prev_sender")
    return sender if isinstance(sender, str) else fallback


class DirectRooms:
    def __init__(self, session: MatrixSession) -> None:
        self.session = session
        self.user_id = session.user_id
        self._with: dict[str, str] = {}  # room -> the resident it is a direct chat with
        self._unsaved = False
        self.leaving: set[str] = set()  # rooms we are leaving: nothing more is read or sent
        self._not_left: set[str] = set()  # of those, the ones the homeserver did not hear yet

    def resident(self, room_id: str) -> str | None:
        """Whom the room was marked direct with (whether or not it still is direct)."""
        return self._with.get(room_id)

    def is_direct(self, room_id: str) -> bool:
        other = self._with.get(room_id)
        return other is not None and self.just_us(room_id, other)

    def mark(self, room_id: str, resident: str) -> None:
        if self._with.get(room_id) != resident:
            self._with[room_id] = resident
            self._unsaved = True

    def forget(self, room_id: str) -> None:
        if self._with.pop(room_id, None) is not None:
            self._unsaved = True

    def resident_of(self, room_id: str, state: list[Any]) -> str | None:
        """Whom the room is marked direct with; if it is not marked, whoever invited us to
        it as a direct chat, read from our join among `state` (a room joined before the bot
        kept marks, or a mark not saved). None: not entered as a direct chat."""
        if room_id in self._with:
            return self._with[room_id]
        own = [
            e
            for e in state
            if isinstance(e, RoomMemberEvent)
            and e.state_key == self.user_id
            and e.membership == "join"
        ]
        return invited_as_direct(own[-1], None) if own else None

    def just_us(self, room_id: str, resident: str) -> bool:
        client = self.session.client
        return client is not None and only_members(
            client.rooms.get(room_id), self.user_id, resident
        )

    async def load(self, stopping: asyncio.Event) -> None:
        """The marks as the homeserver keeps them (none yet: none). Retried until read:
        saving after a failed read would overwrite the marks with the few seen since."""
        client = self.session.client
        assert client is not None
        attempt = 0
        while True:
            try:
                resp = await client.list_direct_rooms()
            except CONNECTION_ERRORS as exc:
                resp = exc
            if isinstance(resp, DirectRoomsResponse):
                marks: dict[str, Any] = resp.rooms
                break
            if isinstance(resp, DirectRoomsErrorResponse) and resp.status_code == "M_NOT_FOUND":
                marks = {}
                break
            attempt += 1
            log.warning("matrix: reading the direct chats failed (%s); retrying", resp)
            if await wait_or_stop(stopping, backoff(attempt)):
                return
        self._with = {
            room: user
            for user, rooms in marks.items()
            if isinstance(rooms, list)
            for room in rooms
            if isinstance(room, str)
        }

    async def save(self) -> None:
        """Store changed marks; a failure is logged and the next sync tries again."""
        client = self.session.client
        if not self._unsaved or client is None:
            return
        content: dict[str, list[str]] = {}
        for room, user in self._with.items():
            content.setdefault(user, []).append(room)
        # nio reads `m.direct` (list_direct_rooms) but has no call to write it.
        path = Api._build_path(["user", self.user_id, "account_data", "m.direct"])
        try:
            resp = await client._send(EmptyResponse, "PUT", path, json.dumps(content))
        except CONNECTION_ERRORS as exc:
            log.warning("matrix: storing the direct chats failed (%s); retried later", exc)
            return
        if isinstance(resp, EmptyResponse):
            self._unsaved = False
        else:
            log.warning("matrix: storing the direct chats failed: %s", resp)

    async def leave(self, room_id: str, resident: str | None, joined_now: bool) -> None:
        """Not (or no longer) a direct chat: say so to the resident if they are still
        there, then leave. Nothing private was or will be sent in it."""
        self.leaving.add(room_id)
        self._not_left.add(room_id)
        self.forget(room_id)
        await self.save()  # unmarked before we leave: whoever sees us go sees no mark
        try:
            await self.session.store.mark_unreachable(PLATFORM, room_id)
        except Exception:
            log.exception("matrix: could not mark %s unreachable", room_id)
        client = self.session.client
        room = client.rooms.get(room_id) if client is not None else None
        if resident is not None and room is not None and resident in room.users:
            await self._say_why(room_id, resident, joined_now)
        await self.retry_leaving()

    async def _say_why(self, room_id: str, resident: str, joined_now: bool) -> None:
        locale = await self.session.store.locale_of(PLATFORM, resident)
        with use_locale(locale or self.session.settings.default_locale):
            if joined_now:
                why = _(
                    "I was invited to a private chat, but other people are here too. "
                    "I only talk privately when it is just you and me."
                )
            else:
                why = _(
                    "Someone else was added to this chat, so it is no longer private. "
                    "I will not send anything personal here."
                )
            text = (
                why
                + " "
                + _("I am leaving this chat. To talk with me, start a new direct chat with me.")
            )
        try:
            await self.session.room_send(room_id, "m.room.message", render(Reply(text)))
        except Exception as exc:  # leaving matters more than saying why
            log.warning("matrix: could not say why I leave %s: %s", room_id, exc)

    async def retry_leaving(self) -> None:
        """Leave the rooms we decided to leave; when the homeserver cannot be reached, the
        next sync tries again (their events are skipped meanwhile)."""
        client = self.session.client
        for room_id in list(self._not_left):
            try:
                resp = await client.room_leave(room_id) if client is not None else None
            except CONNECTION_ERRORS as exc:
                log.warning("matrix: leaving %s failed (%s); retried later", room_id, exc)
                continue
            if isinstance(resp, ErrorResponse):
                log.warning("matrix: leaving %s failed: %s", room_id, resp)
            self._not_left.discard(room_id)

    def left(self, room_id: str) -> None:
        """The homeserver confirmed we are out."""
        self.leaving.discard(room_id)
        self._not_left.discard(room_id)
        self.forget(room_id)
