"""A resident played by a second nio client: sends like a Matrix app, records what arrives."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    EphemeralEvent,
    Event,
    ReactionEvent,
    RoomCreateResponse,
    RoomKeyRequest,
    RoomMemberEvent,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
)

from tests.support.synapse import Account

Seen = tuple[str, Any]  # (room id, nio event)


def body(event: Any) -> str:
    """The text of a message, as edited last if it is an edit."""
    content = getattr(event, "source", {}).get("content", {})
    return str((content.get("m.new_content") or content).get("body", ""))


def is_edit_of(event: Any) -> str | None:
    rel = getattr(event, "source", {}).get("content", {}).get("m.relates_to") or {}
    return rel.get("event_id") if rel.get("rel_type") == "m.replace" else None


class Resident:
    def __init__(self, homeserver: str, account: Account, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.account = account
        self.user_id = account.user_id
        self.homeserver = homeserver
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
        self.client = AsyncClient(
            homeserver, account.user_id, device_id=account.device_id, store_path=str(store),
            config=config,
        )  # fmt: skip
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.seen: list[Seen] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Resident:
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        await self.client.sync(timeout=0)
        self.client.add_event_callback(self._on_event, Event)
        self.client.add_ephemeral_callback(self._on_ephemeral, EphemeralEvent)  # typing, receipts
        self.client.add_response_callback(self._on_sync, SyncResponse)  # key requests
        self._task = asyncio.create_task(self.client.sync_forever(timeout=1000))
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()

    async def _on_event(self, room: Any, event: Any) -> None:
        self.seen.append((room.room_id, event))
        async with self._changed:
            self._changed.notify_all()

    async def _on_ephemeral(self, room: Any, event: Any) -> None:
        event.source = {}  # as the other events have (tests look at `source`)
        await self._on_event(room, event)

    async def _on_sync(self, response: Any) -> None:
        """Room key requests (nio hides those from other users from its callbacks)."""
        asked = [e for e in response.to_device_events if isinstance(e, RoomKeyRequest)]
        self.seen.extend(("", e) for e in asked)
        if asked:
            async with self._changed:
                self._changed.notify_all()

    # -- waiting ---------------------------------------------------------------------------

    def mark(self) -> int:
        return len(self.seen)

    async def wait_for(
        self,
        match: Callable[[str, Any], bool],
        what: str,
        after: int = 0,
        within: float = 15,
    ) -> Any:
        """The first event after `after` that matches; fails after `within` seconds."""
        deadline = time.monotonic() + within
        checked = after
        while True:
            for room_id, event in self.seen[checked:]:
                if match(room_id, event):
                    return event
            checked = len(self.seen)
            left = deadline - time.monotonic()
            if left <= 0:
                recent = [body(e) for _r, e in self.seen[after:] if isinstance(e, RoomMessageText)]
                raise AssertionError(f"timed out waiting for {what}; messages since: {recent}")
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)

    async def message_from(
        self, sender: str, room_id: str, needle: str, after: int = 0, within: float = 15
    ) -> Any:
        """A message (or an edit) from `sender` in the room whose text contains `needle`."""

        def match(r: str, e: Any) -> bool:
            return (
                r == room_id
                and getattr(e, "sender", None) == sender
                and isinstance(e, RoomMessageText)
                and needle in body(e)
            )

        return await self.wait_for(match, f"{needle!r} from {sender}", after, within)

    def messages_from(self, sender: str, room_id: str, needle: str = "") -> list[Any]:
        return [
            e
            for r, e in self.seen
            if r == room_id
            and getattr(e, "sender", None) == sender
            and isinstance(e, RoomMessageText)
            and needle in body(e)
        ]

    async def reaction_from(
        self, sender: str, event_id: str, key: str, after: int = 0, within: float = 15
    ) -> Any:
        def match(_r: str, e: Any) -> bool:
            return (
                isinstance(e, ReactionEvent)
                and e.sender == sender
                and e.reacts_to == event_id
                and e.key == key
            )

        return await self.wait_for(match, f"reaction {key} from {sender}", after, within)

    async def member(
        self, room_id: str, user_id: str, membership: str = "join", within: float = 15
    ) -> Any:
        def match(r: str, e: Any) -> bool:
            return (
                r == room_id
                and isinstance(e, RoomMemberEvent)
                and e.state_key == user_id
                and e.membership == membership
            )

        return await self.wait_for(match, f"{user_id} {membership} {room_id}", 0, within)

    # -- acting ----------------------------------------------------------------------------

    async def create_room(
        self, invite: list[str], direct: bool, encrypted: bool, name: str | None = None
    ) -> str:
        state = []
        if encrypted:
            state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        preset = RoomPreset.trusted_private_chat if direct else RoomPreset.private_chat
        resp = await self.client.room_create(
            name=name, invite=invite, is_direct=direct, initial_state=state, preset=preset
        )
        assert isinstance(resp, RoomCreateResponse), resp
        return str(resp.room_id)

    async def join(self, room_id: str) -> None:
        await self.client.join(room_id)
        await self.member(room_id, self.user_id)

    async def send(self, room_id: str, content: dict[str, Any], event_type: str = "m.room.message") -> str:  # fmt: skip
        resp = await self.client.room_send(
            room_id, event_type, content, ignore_unverified_devices=True
        )
        assert isinstance(resp, RoomSendResponse), resp
        return str(resp.event_id)

    async def say(self, room_id: str, text: str) -> str:
        return await self.send(room_id, {"msgtype": "m.text", "body": text})

    async def react(self, room_id: str, event_id: str, key: str, encrypted: bool = False) -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        if not encrypted:
            return await self.send(room_id, content, "m.reaction")
        # As Element does in encrypted rooms; nio itself sends reactions in the clear.
        event_type, sealed = self.client.encrypt(room_id, "m.reaction", content)
        return await self.put_raw(room_id, event_type, sealed)

    async def put_raw(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """An event exactly as given (no encryption by nio)."""
        url = f"{self.homeserver}/_matrix/client/v3/rooms/{room_id}/send/{event_type}/{uuid4().hex}"
        headers = {"Authorization": f"Bearer {self.account.access_token}"}
        async with (
            aiohttp.ClientSession() as http,
            http.put(url, json=content, headers=headers) as resp,
        ):
            data = await resp.json()
            assert resp.status == 200, data
            return str(data["event_id"])

    async def upload_png(self, data: bytes, name: str = "stoeptegel.png") -> str:
        resp, _keys = await self.client.upload(
            io.BytesIO(data), content_type="image/png", filename=name, filesize=len(data)
        )
        assert isinstance(resp, UploadResponse), resp
        return str(resp.content_uri)
