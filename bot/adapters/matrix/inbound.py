"""One Matrix sync response -> neutral events, in timeline order, each with its event id.

The adapter keeps them in the inbox together with the sync token that follows them, and
only then moves on; the event id is the inbox key, so a sync that comes again (after a
crash or an outage) answers nothing twice.

Invites: direct-chat invites are accepted from anyone, room invites only from the
configured users or servers. A direct chat is one the resident marked direct and that has
just the two of them (`direct.py`); a room that is not, or no longer, is left at once,
saying why, and is never a group. Joining a group room feeds `joined`; being removed from
one feeds `left`.
Encrypted messages whose key is missing: the key is asked from our other devices and from
the sender's devices, and the message is held for a grace period; when the key comes (a
room key, or a forwarded one from our own devices) it is answered as usual, once. If it
never comes, the sender is told in plain words, in their language, at most once an hour,
encrypted for every device of theirs the homeserver knows (asked again just before).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nio import (
    EncryptionError,
    InviteMemberEvent,
    JoinError,
    LocalProtocolError,
    MegolmEvent,
    MessageDirection,
    ReactionEvent,
    RedactionEvent,
    RoomCreateEvent,
    RoomGetEventResponse,
    RoomMemberEvent,
    RoomMessagesResponse,
    SyncResponse,
)

from bot.adapters.matrix.direct import DirectRooms, invited_as_direct
from bot.adapters.matrix.events import PLATFORM, to_incoming
from bot.adapters.matrix.memory import SentMessages
from bot.adapters.matrix.render import keycap_index
from bot.adapters.matrix.session import CONNECTION_ERRORS, MatrixSession
from bot.core.events import Button, ChatRef, Incoming, MessageRef, Reply, UserRef
from bot.core.i18n import _, use_locale
from bot.core.ports import Received, StoreUnavailable

log = logging.getLogger(__name__)

GAP_PAGES = 5  # pages of 100 events fetched back after a long downtime, per room
TELL_EVERY = 3600.0  # seconds between two "I could not read your message" to one resident

Tell = Callable[[ChatRef, Reply], Awaitable[object]]
Recall = Callable[[str, str], Awaitable[list[Button]]]  # (room, our event) -> its buttons


class Inbound:
    def __init__(
        self,
        session: MatrixSession,
        memory: SentMessages,
        tell: Tell,
        allowed_inviters: list[str],
        undecryptable_grace: float,
        recall: Recall | None = None,
    ) -> None:
        self.session = session
        self.recall = recall
        self.memory = memory
        # What syncs brought and the inbox does not hold yet (`kept` clears it), each once.
        self.received: list[Received] = []
        self._received_keys: set[str] = set()
        self.tell = tell
        self.allowed_inviters = allowed_inviters
        self.grace = undecryptable_grace
        self.user_id = session.user_id
        self.gone: set[str] = set()  # rooms we were removed from in this run
        self._invites: dict[str, tuple[str, bool]] = {}  # room -> (inviter, is_direct)
        self._inviters: dict[str, tuple[str, bool]] = {}  # rooms joined, until the join is seen
        self.direct = DirectRooms(session)
        self._pending: list[tuple[Any, str, float]] = []  # (undecryptable event, room, deadline)
        self._told: dict[str, float] = {}  # resident -> when we last said we could not read

    @property
    def client(self) -> Any:
        assert self.session.client is not None
        return self.session.client

    def next_deadline(self) -> float | None:
        return min((d for _e, _r, d in self._pending), default=None)

    async def process(self, resp: SyncResponse, since: str) -> None:
        """Add the events of one sync to `received`, in order. StoreUnavailable when a
        look-up in the database failed: the same sync is then processed again later."""
        await self.direct.retry_leaving()
        await self._retry_undecryptable()
        await self.handle_invites(resp)
        for room_id, info in resp.rooms.join.items():
            if room_id in self.direct.leaving:
                continue
            events = list(info.timeline.events)
            joined_at = self._own_join(events)
            if joined_at is not None:
                before = [*info.state, *events[:joined_at]]
                own, events = events[joined_at], events[joined_at + 1 :]  # not history
                self.gone.discard(room_id)
                # A room we made (an introduction) is not greeted as if someone added us.
                if not self._made_by_us(before) and not await self._joined(room_id, own):
                    continue
            else:
                if not await self._still_private(room_id, [*info.state, *events]):
                    continue  # not even what came before: someone else would see the answers
                if info.timeline.limited and info.timeline.prev_batch:
                    gap = await self._fill_gap(room_id, info.timeline.prev_batch, since)
                    events = gap + events
            for event in events:
                await self._event(room_id, event)
        for room_id, info in resp.rooms.leave.items():
            await self._left(room_id, info)
        await self.direct.save()

    async def first(self, resp: SyncResponse) -> None:
        """The first sync ever: rooms we are in already are checked, invites answered; no
        history is answered."""
        for room_id, info in resp.rooms.join.items():
            await self._still_private(room_id, [*info.state, *info.timeline.events])
        await self.handle_invites(resp)
        await self.direct.save()

    async def _still_private(self, room_id: str, state: list[Any]) -> bool:
        """A room entered as a direct chat stays one only with just the resident and us;
        otherwise we leave it (it never becomes a group). False when leaving."""
        resident = self.direct.resident_of(room_id, state)
        if resident is None:
            return True  # a group room
        if self.direct.just_us(room_id, resident):
            self.direct.mark(room_id, resident)  # already, or entered before the marks
            return True
        await self.direct.leave(room_id, resident, joined_now=False)
        return False

    def kept(self) -> None:
        """The inbox holds what was received."""
        self.received.clear()
        self._received_keys.clear()

    # -- rooms -----------------------------------------------------------------------------

    async def handle_invites(self, resp: SyncResponse) -> None:
        for room_id, info in resp.rooms.invite.items():
            mine = [
                e
                for e in info.invite_state
                if isinstance(e, InviteMemberEvent)
                and e.state_key == self.user_id
                and e.membership == "invite"
            ]
            if mine:
                direct = bool(mine[-1].content.get("is_direct"))
                self._invites[room_id] = (mine[-1].sender, direct)
        for room_id, (inviter, direct) in list(self._invites.items()):
            try:
                await self._answer_invite(room_id, inviter, direct)
            except CONNECTION_ERRORS as exc:  # the invite stays; tried again next sync
                log.warning("matrix: answering the invite to %s failed: %s", room_id, exc)
                continue
            del self._invites[room_id]

    async def _answer_invite(self, room_id: str, inviter: str, direct: bool) -> None:
        if not (direct or self._may_invite(inviter)):
            # A user id often is a person's name; the server says enough.
            server = inviter.partition(":")[2]
            log.info("matrix: declined an invite to %s from someone on %s", room_id, server)
            await self.client.room_leave(room_id)
            return
        result = await self.client.join(room_id)
        if isinstance(result, JoinError):
            log.warning("matrix: joining %s failed: %s", room_id, result.message)
        else:
            self._inviters[room_id] = (inviter, direct)

    def _made_by_us(self, state: list[Any]) -> bool:
        return any(isinstance(e, RoomCreateEvent) and e.sender == self.user_id for e in state)

    async def _joined(self, room_id: str, own: RoomMemberEvent) -> bool:
        """We joined: a direct chat if invited as one and just the two of us are there; a
        group room if not invited as direct; else we leave. True when it stays joined."""
        inviter, direct = self._inviters.pop(room_id, (None, False))
        resident = invited_as_direct(own, inviter) or (inviter if direct else None)
        if resident is None:
            chat = self.chat(room_id)
            joined = Incoming("joined", self._user(room_id, inviter or self.user_id), chat)
            self._deliver(own.event_id, joined)
            return True
        if self.direct.just_us(room_id, resident):
            self.direct.mark(room_id, resident)
            return True
        log.info("matrix: a direct invite to %s, but others are there; leaving", room_id)
        await self.direct.leave(room_id, resident, joined_now=True)
        return False

    def _may_invite(self, inviter: str) -> bool:
        server = inviter.split(":", 1)[1] if ":" in inviter else ""
        return any(a == inviter or a.lstrip(":") == server for a in self.allowed_inviters)

    def _own_join(self, events: list[Any]) -> int | None:
        found = None
        for i, event in enumerate(events):
            if (
                isinstance(event, RoomMemberEvent)
                and event.state_key == self.user_id
                and event.membership == "join"
                and event.prev_membership != "join"
            ):
                found = i
        return found

    async def _fill_gap(self, room_id: str, prev_batch: str, since: str) -> list[Any]:
        """Events the sync left out after a long downtime (its timeline was `limited`)."""
        found: list[Any] = []
        start = prev_batch
        for _page in range(GAP_PAGES):
            try:
                resp = await self.client.room_messages(
                    room_id, start=start, end=since, direction=MessageDirection.back, limit=100
                )
            except CONNECTION_ERRORS as exc:
                log.warning("matrix: paging back in %s failed (%s); some events skipped", room_id, exc)  # fmt: skip
                break
            if not isinstance(resp, RoomMessagesResponse) or not resp.chunk:
                break
            found.extend(resp.chunk)
            if not resp.end or resp.end == start:
                break
            start = resp.end
        else:
            log.warning("matrix: more than %d pages missed in %s; older ones skipped", GAP_PAGES, room_id)  # fmt: skip
        log.info("matrix: fetched %d events the sync left out in %s", len(found), room_id)
        return list(reversed(found))

    async def _left(self, room_id: str, info: Any) -> None:
        """Kicked, banned or left: the core stops sending there (`left` for group rooms)."""
        events = list(info.timeline.events)
        own = [e for e in events if isinstance(e, RoomMemberEvent) and e.state_key == self.user_id]
        if not own or own[-1].membership not in ("leave", "ban"):
            return
        self.gone.add(room_id)
        was_direct = self.direct.resident(room_id) is not None
        self.direct.left(room_id)
        room = self.client.rooms.pop(room_id, None)
        if own[-1].sender == self.user_id:
            return  # we left: an invite declined, or a room that was not private (done then)
        if was_direct:
            try:
                await self.session.store.mark_unreachable(PLATFORM, room_id)
            except Exception:
                log.exception("matrix: could not mark %s unreachable", room_id)
            return
        chat = ChatRef(PLATFORM, room_id, "group", room.display_name if room else None)
        self._deliver(own[-1].event_id, Incoming("left", self._user(room_id, own[-1].sender), chat))

    def chat(self, room_id: str) -> ChatRef:
        if self.direct.is_direct(room_id):
            return ChatRef(PLATFORM, room_id, "direct")
        room = self.client.rooms.get(room_id)
        return ChatRef(PLATFORM, room_id, "group", room.display_name if room else None)

    def _user(self, room_id: str, user_id: str) -> UserRef:
        room = self.client.rooms.get(room_id)
        name = room.user_name(user_id) if room is not None else None
        return UserRef(PLATFORM, user_id, name, None)  # Matrix tells no language

    def _own_names(self, room_id: str) -> list[str]:
        room = self.client.rooms.get(room_id)
        shown = room.user_name(self.user_id) if room is not None else None
        return [self.user_id, self.user_id[1:].split(":", 1)[0], shown or ""]

    # -- events ----------------------------------------------------------------------------

    async def _event(self, room_id: str, event: Any) -> None:
        if getattr(event, "sender", self.user_id) == self.user_id:
            return
        chat = self.chat(room_id)
        user = self._user(room_id, event.sender)
        if isinstance(event, MegolmEvent):
            await self._undecryptable(room_id, event)
        elif isinstance(event, ReactionEvent):
            await self._reaction(chat, user, event)
        elif isinstance(event, RoomMemberEvent):
            joined = _member_joined(event, chat)
            if joined is not None:
                self._deliver(event.event_id, joined)
        elif isinstance(event, RedactionEvent):
            pressed = self.memory.taken_back(event.redacts)
            if pressed is not None:  # a reaction taken back presses the button again
                self._press(event.event_id, chat, user, *pressed)
        else:
            incoming = to_incoming(event, chat, user, self._own_names(room_id))
            if incoming is not None:
                self._deliver(event.event_id, incoming)

    async def _reaction(self, chat: ChatRef, user: UserRef, event: ReactionEvent) -> None:
        index = keycap_index(event.key)
        if index is None:
            return
        if not self.memory.knows(event.reacts_to) and self.recall is not None:
            # Not in this run's memory (a restart, an old poll): the outbox kept its buttons.
            try:
                buttons = await self.recall(chat.id, event.reacts_to)
            except StoreUnavailable:
                raise  # the database is away: this sync is processed again later
            except Exception:  # the reaction still counts as a typed number
                log.exception("matrix: could not look up the buttons of %s", event.reacts_to)
                buttons = []
            if buttons:
                self.memory.remember(event.reacts_to, buttons)
        if self.memory.knows(event.reacts_to):
            self.memory.pressed(event.event_id, event.reacts_to, index)
            self._press(event.event_id, chat, user, event.reacts_to, index)
        elif await self.sent_by_us(chat.id, event.reacts_to):
            # Ours, from before a restart: the digit, as if typed.
            self._deliver(event.event_id, Incoming("text", user, chat, text=str(index + 1)))

    async def sent_by_us(self, room_id: str, event_id: str) -> bool:
        try:
            resp = await self.client.room_get_event(room_id, event_id)
        except CONNECTION_ERRORS:
            return False
        return isinstance(resp, RoomGetEventResponse) and resp.event.sender == self.user_id

    def _press(self, key: str, chat: ChatRef, user: UserRef, message_id: str, index: int) -> None:
        buttons = self.memory.buttons(message_id)
        if index < len(buttons):
            ref = MessageRef(chat, message_id)
            data = buttons[index].data
            self._deliver(key, Incoming("button", user, chat, button_data=data, message=ref))

    async def _undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        """Ask our other devices and the sender's devices for the key, then wait a moment."""
        event.room_id = room_id
        with contextlib.suppress(LocalProtocolError):  # already asked for this session
            await self.client.request_room_key(event)
        with contextlib.suppress(*CONNECTION_ERRORS):
            await self.client.to_device(event.as_key_request(event.sender, self.client.device_id))
        self._pending.append((event, room_id, time.monotonic() + self.grace))

    async def _retry_undecryptable(self) -> None:
        pending, self._pending = self._pending, []
        now = time.monotonic()
        for event, room_id, deadline in pending:
            try:
                decrypted = self.client.decrypt_event(event)
            except EncryptionError:
                if deadline > now:
                    self._pending.append((event, room_id, deadline))
                else:
                    await self._tell_undecryptable(room_id, event)
                continue
            await self._event(room_id, decrypted)

    async def _tell_undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        log.warning("matrix: cannot decrypt %s in %s", event.event_id, room_id)
        now = time.monotonic()
        told = self._told.get(event.sender)
        if told is not None and now - told < TELL_EVERY:
            return  # said it not long ago (several unreadable messages, or rooms, in a row)
        self._told[event.sender] = now
        await self._know_devices(event.sender)
        try:
            locale = await self.session.store.locale_of(PLATFORM, event.sender)
        except StoreUnavailable:
            locale = None
        with use_locale(locale or self.session.settings.default_locale):
            text = _(
                "I could not read your message: it is encrypted and I did not receive its key. "
                "Please send it again."
            )
        try:
            await self.tell(self.chat(room_id), Reply(text))
        except Exception:
            log.exception("matrix: could not tell %s about an unreadable message", room_id)

    async def _know_devices(self, user_id: str) -> None:
        """The resident's devices as the homeserver knows them now (a new phone may be why
        the key is missing), so what we send next is encrypted for each of them too."""
        client = self.client
        try:
            client.olm.users_for_key_query.add(user_id)
            await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
        except Exception as exc:
            log.info("matrix: could not refresh the devices of a resident: %s", exc)

    def _deliver(self, event_id: str, incoming: Incoming) -> None:
        if event_id not in self._received_keys:  # a sync processed again
            self._received_keys.add(event_id)
            self.received.append((event_id, incoming))


def _member_joined(event: RoomMemberEvent, chat: ChatRef) -> Incoming | None:
    """Someone else joined a group room (not a name change): their shown name's first word
    goes with the event, for a welcome they agreed to; it is kept nowhere."""
    if chat.kind != "group" or event.membership != "join" or event.prev_membership == "join":
        return None
    shown = (event.content or {}).get("displayname")
    name = shown.split()[0] if isinstance(shown, str) and shown.split() else None
    return Incoming("member_joined", UserRef(PLATFORM, event.state_key, name, None), chat)
