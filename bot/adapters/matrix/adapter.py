"""Matrix (matrix-nio): rooms and direct chats, end-to-end encrypted or not.

Restart semantics: the events of a sync are kept in the inbox (bot/core/inbox.py) in the
same transaction as the sync token (`next_batch`) that follows them, and handled from
there; the next start continues from the token, so what arrived while the bot was down is
answered once and older events never again (a `limited` timeline is paged back up to the
stored token). A crash or a database outage in the middle of a batch loses nothing and
answers nothing twice: while the database is away the token does not move (the same sync
comes again, its events are kept once by event id), and what was kept is handled after.
On the very first start there is no token: one sync is made only to get one, so history
is not answered.

Buttons are a numbered list under the text with keycap reactions (1️⃣ … 🔟) the bot
adds itself. A reaction on a message the bot sent with buttons presses that button;
taking the reaction back presses it again (for toggles). A typed number works too.
Link buttons are shown as links. The core's "/help" becomes "!help": Element intercepts
unknown slash commands, and the bot accepts both.

Manners: what was handled gets a read receipt; while handling takes longer than a second
the bot shows it is typing; an answer that closes a question (an edit without choices: a
report number, a vote receipt) comes as a new message, which notifies, not only as an edit;
in a direct chat, questions that were answered lose their number reactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from functools import partial
from typing import Any

from nio import (
    AsyncClient,
    LocalProtocolError,
    SyncError,
    SyncResponse,
)

from bot.adapters.matrix.events import PLATFORM, split_file_id
from bot.adapters.matrix.identity import ensure_identity
from bot.adapters.matrix.inbound import Inbound
from bot.adapters.matrix.manners import TYPING_AFTER, typing_notice
from bot.adapters.matrix.media import download, file_content
from bot.adapters.matrix.memory import SentMessages
from bot.adapters.matrix.render import (
    KEYCAPS,
    POLL_END,
    POLL_START,
    edit_content,
    numbered_buttons,
    poll_content,
    poll_end_content,
    reaction_content,
    render,
)
from bot.adapters.matrix.rooms import create_room, invite
from bot.adapters.matrix.session import (
    CONNECTION_ERRORS,
    TOKEN_KEY,
    MatrixSendError,
    MatrixSession,
    backoff,
    wait_or_stop,
)
from bot.config import Settings
from bot.core.events import Button, ChatRef, Incoming, MessageRef, Reply
from bot.core.inbox import Inbox
from bot.core.ports import AdapterStore, Feed, StoreUnavailable, Unreachable
from bot.util.bounded import Bounded

log = logging.getLogger(__name__)

FIRST_SYNC_FILTER = {"room": {"timeline": {"limit": 1}}}


class MatrixAdapter:
    platform = PLATFORM
    capabilities = frozenset({"edit", "location", "photos", "native_polls", "rooms"})

    def __init__(
        self,
        settings: Settings,
        store: AdapterStore,
        *,
        allowed_inviters: list[str] | None = None,
        poll_timeout_ms: int = 30_000,
        timeline_limit: int = 50,
        undecryptable_grace: float = 30.0,
        typing_after: float = TYPING_AFTER,
    ) -> None:
        """`allowed_inviters`: users ("@coco:example.org") or servers ("example.org")
        whose room invites are accepted; by default the bot's own homeserver."""
        self.store = store
        self.session = MatrixSession(settings, store)
        self.user_id = self.session.user_id
        own_server = self.user_id.split(":", 1)[1]
        self.allowed_inviters = [own_server] if allowed_inviters is None else allowed_inviters
        self.poll_timeout_ms = poll_timeout_ms
        self.sync_filter = {"room": {"timeline": {"limit": timeline_limit}}}
        self.undecryptable_grace = undecryptable_grace
        self.typing_after = typing_after
        self.memory = SentMessages()
        self._unread: dict[str, str] = {}  # room -> the last event handled, for a receipt
        self._questions: dict[str, list[str]] = {}  # room -> our messages with reactions
        self._renewed: set[str] = set()  # questions edited with choices while handling
        self._sent: dict[str, int] = {}  # room -> messages sent (to see if handling answered)
        self._uploaded: Bounded[str, str] = Bounded(16)  # sha256 of an image -> its mxc URL
        self.ready = asyncio.Event()  # set once the first sync is handled
        self._rooms_known = asyncio.Event()  # set once a sync told nio which rooms we are in
        self._inbound: Inbound | None = None
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        self._poll: asyncio.Future[Any] | None = None
        self.identity_uploads: list[str] = []  # what the last start sent (see identity.py)

    @property
    def client(self) -> AsyncClient:
        if self.session.client is None:
            raise RuntimeError("the Matrix adapter is not started")
        return self.session.client

    @property
    def rate_limited(self) -> int:
        """How often the homeserver answered M_LIMIT_EXCEEDED (each one waited out)."""
        return self.session.rate_limited

    def direct_link(self, payload: str) -> str | None:
        """Matrix links cannot carry a start payload; this one opens a chat with the bot."""
        return f"https://matrix.to/#/{self.user_id}"

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, feed: Feed) -> None:
        self._stopping.clear()
        self._finished.clear()
        inbound = Inbound(
            self.session, self.memory, self.send, self.allowed_inviters,
            self.undecryptable_grace, self._recall,
        )  # fmt: skip
        self._inbound = inbound
        inbox = Inbox(self.store, PLATFORM, self._mannered(feed), self._stopping)
        try:
            await self.session.connect(self._stopping)
            self.identity_uploads = await self.session._retry(  # cross-signing
                lambda: ensure_identity(self.session), self._stopping
            )
            await inbound.direct.load(self._stopping)
            since = await self.session.get_cursor(TOKEN_KEY)
            full_state = since is not None  # nio keeps no room state between runs
            if since is None:
                first = await self._sync(None, FIRST_SYNC_FILTER, False, 0)
                if first is None:
                    return
                await self._housekeeping()
                try:  # rooms we are in are checked, invites answered; no history answered
                    await inbound.first(first)
                except StoreUnavailable:
                    return  # nothing kept yet: the next start begins here again
                except Exception:
                    log.exception("matrix: reading the first sync failed; going on")
                since = first.next_batch
                if not await inbox.retrying(
                    lambda: inbox.keep([], (TOKEN_KEY, first.next_batch)), "the first sync token"
                ):
                    return
                self.ready.set()
            while not self._stopping.is_set():
                # The first sync after a start returns at once: it tells nio which rooms we
                # are in, which sending needs (what the inbox kept before is handled next).
                poll_ms = 0 if full_state else self._poll_ms()
                resp = await self._sync(since, self.sync_filter, full_state, poll_ms)
                if resp is None:
                    break
                full_state = False
                if not await self._process(inbound, inbox, resp, since):
                    continue  # the database is away: the same sync again, later
                token = (TOKEN_KEY, resp.next_batch)
                waits = f"{len(inbound.received)} events wait on the homeserver"
                if not await inbox.retrying(partial(inbox.keep, inbound.received, token), waits):
                    break  # stopping: the token did not move, the next start syncs them again
                self._unread.update((i.chat.id, key) for key, i in inbound.received)
                inbound.kept()
                since = resp.next_batch
                self.ready.set()
                if not await inbox.handle_or_stop():
                    break
                await self._send_receipts()
        finally:
            self.ready.clear()
            self._rooms_known.clear()
            self._finished.set()

    async def stop(self) -> None:
        """Finish the event being handled, then close; the device stays logged in."""
        self._stopping.set()
        if self._poll is not None and not self._poll.done():
            self._poll.cancel()
        if self._inbound is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._finished.wait(), 15)
        await self.session.close()

    # -- manners ---------------------------------------------------------------------------

    def _mannered(self, feed: Feed) -> Feed:
        """Handling one event: typing shown when it takes long; questions it answered lose
        their reactions."""

        async def handle(incoming: Incoming) -> None:
            room = incoming.chat.id
            asked = list(self._questions.get(room, ()))
            sent = self._sent.get(room, 0)
            self._renewed.clear()
            typing = asyncio.create_task(self._typing_later(room))
            try:
                await feed(incoming)
            finally:
                typing.cancel()
                [started] = await asyncio.gather(typing, return_exceptions=True)
                if started is True:
                    await typing_notice(self.client, room, False)
            if incoming.chat.kind == "direct" and self._sent.get(room, 0) > sent:
                for question in asked:  # the conversation moved on: answered
                    if question not in self._renewed:
                        await self._clear_reactions(room, question)

        return handle

    async def _typing_later(self, room_id: str) -> bool:
        await asyncio.sleep(self.typing_after)
        return await typing_notice(self.client, room_id, True)

    async def _send_receipts(self) -> None:
        """A read receipt (and the read marker) on the last handled event of each room."""
        unread, self._unread = self._unread, {}
        for room_id, event_id in unread.items():
            if room_id in (self._inbound.gone if self._inbound else ()):
                continue
            try:
                await self.client.room_read_markers(room_id, event_id, event_id)
            except Exception as exc:
                log.info("matrix: read receipt in %s failed: %s", room_id, exc)

    async def _clear_reactions(self, room_id: str, event_id: str) -> None:
        """Our number reactions under a question that was answered are taken away."""
        with contextlib.suppress(ValueError):
            self._questions.get(room_id, []).remove(event_id)
        try:
            await self._set_reactions(room_id, event_id, 0)
        except Exception as exc:
            log.info("matrix: could not take reactions away in %s: %s", room_id, exc)

    def _poll_ms(self) -> int:
        deadline = self._inbound.next_deadline() if self._inbound else None
        if deadline is None:
            return self.poll_timeout_ms
        left_ms = int((deadline - time.monotonic()) * 1000) + 50
        return max(100, min(self.poll_timeout_ms, left_ms))

    async def _sync(
        self, since: str | None, sync_filter: dict[str, Any], full_state: bool, poll_ms: int
    ) -> SyncResponse | None:
        """One sync; connection loss and server errors are retried with backoff, forever.
        None when stopping."""
        attempt = 0
        while not self._stopping.is_set():
            self._poll = asyncio.ensure_future(
                self.client.sync(
                    timeout=poll_ms, sync_filter=sync_filter, since=since,
                    full_state=full_state or None,
                )
            )  # fmt: skip
            try:
                resp = await self._poll
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if self._stopping.is_set() and not (task and task.cancelling()):
                    return None
                raise
            except (*CONNECTION_ERRORS, LocalProtocolError) as exc:
                resp = exc
            finally:
                self._poll = None
            if isinstance(resp, SyncResponse):
                self._rooms_known.set()
                return resp
            if not self.client.logged_in or getattr(resp, "status_code", "") == "M_UNKNOWN_TOKEN":
                await self.session.relogin()
            attempt += 1
            delay = backoff(attempt)
            if isinstance(resp, SyncError) and resp.status_code == "M_LIMIT_EXCEEDED":
                delay = (resp.retry_after_ms or 1000) / 1000
            log.warning("matrix: sync failed (%s); retry in %.1f s", resp, delay)
            if await wait_or_stop(self._stopping, delay):
                return None
        return None

    async def _process(
        self, inbound: Inbound, inbox: Inbox, resp: SyncResponse, since: str
    ) -> bool:
        """Keys first, then the sync's events into `inbound.received`; False (after a pause)
        when the database was away for a look-up. An unexpected error is logged and what was
        read so far goes on."""
        await self._housekeeping()
        try:
            await inbound.process(resp, since)
        except StoreUnavailable as exc:
            log.warning("matrix: the database is away (%s); this sync is read again", exc)
            await inbox.pause.wait()
            return False
        except Exception:
            log.exception("matrix: reading a sync failed; going on with what was read")
        return True

    async def _housekeeping(self) -> None:
        """Keys to upload, query and claim; to-device messages nio queued (key shares)."""
        client = self.client
        try:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()
        except CONNECTION_ERRORS as exc:
            log.warning("matrix: key maintenance failed (%s); the next sync retries", exc)
        except Exception:
            log.exception("matrix: key maintenance failed; the next sync retries")

    # -- outgoing --------------------------------------------------------------------------

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        await self._wait_rooms_known()
        if reply.new_room is not None:  # the text goes into a room made for it
            chat = await create_room(self.client, reply.new_room)
        self._check_private(chat)
        if reply.ends is not None:  # the poll these are the results of: end it first
            await self._end_poll(chat.id, reply.ends.id, reply.text)
        photo = reply.photo
        picture = reply.image
        if photo is not None and photo.platform == PLATFORM and photo.file_id.startswith("mxc://"):
            url, keys = split_file_id(photo.file_id)
            if keys is None:  # a plain file on the server: shown again by its URL
                image = {"msgtype": "m.image", "body": "photo", "url": url}
                await self.session.room_send(chat.id, "m.room.message", image)
            else:  # sent in an encrypted room: decrypted, then uploaded as this room needs
                try:
                    picture = await self.download(photo.file_id)
                except Exception as exc:  # gone from the server: the text goes without it
                    log.warning("matrix: a photo could not be downloaded (%s)", exc)
        if picture is not None:
            await self._send_image(chat.id, picture)
        if (doc := reply.document) is not None:
            await self._send_image(chat.id, doc.data, doc.name, doc.mimetype, "m.file")
        if reply.poll is not None:
            event_type, content = POLL_START, poll_content(reply)
        else:
            event_type, content = "m.room.message", render(reply)
        if reply.reply_to is not None:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply.reply_to.id}}
        event_id = await self.session.room_send(chat.id, event_type, content)
        self._sent[chat.id] = self._sent.get(chat.id, 0) + 1
        buttons = numbered_buttons(reply)
        self.memory.remember(event_id, buttons)
        await self._set_reactions(chat.id, event_id, len(buttons))
        return MessageRef(chat, event_id)

    async def _recall(self, room_id: str, event_id: str) -> list[Button]:
        """The numbered buttons of a message the outbox sent (a poll, a digest)."""
        return await self.store.sent_buttons(PLATFORM, room_id, event_id)

    async def group_invite(
        self, group_id: str, user_id: str, expires: datetime | None = None
    ) -> str | None:
        """The bot invites the person into the room (Matrix invites do not expire)."""
        return await invite(self.client, group_id, user_id)

    async def download(self, file_id: str) -> bytes:
        """A file from the media repository (decrypted when it came in an encrypted room)."""
        return await download(self.client, file_id)

    async def _end_poll(self, room_id: str, start_event_id: str, results: str) -> None:
        """Clients stop taking answers. Not worth failing the results for (they follow)."""
        try:
            await self.session.room_send(
                room_id, POLL_END, poll_end_content(start_event_id, results)
            )
        except Unreachable:
            raise
        except Exception as exc:
            log.warning("matrix: could not end a poll in %s: %s", room_id, exc)

    async def _send_image(
        self,
        room_id: str,
        data: bytes,
        name: str = "chart.png",
        mimetype: str = "image/png",
        msgtype: str = "m.image",
    ) -> None:
        """Upload a PNG we made (a chart) and show it, or a file to download (`m.file`)."""
        content = await file_content(
            self.client, room_id, data, name, mimetype, msgtype, self._uploaded
        )
        await self.session.room_send(room_id, "m.room.message", content)

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        """An `m.replace` edit of our own message; anyone else's gets a new message."""
        await self._wait_rooms_known()
        self._check_private(ref.chat)
        if not await self._is_ours(ref):
            await self.send(ref.chat, reply)
            return
        buttons = numbered_buttons(reply)
        if self.memory.buttons(ref.id) and not buttons:
            # The question is answered for good (a report number, a vote receipt): a new
            # message, which notifies; an edit alone would go unnoticed.
            await self._clear_reactions(ref.chat.id, ref.id)
            await self.send(ref.chat, reply)
            self.memory.remember(ref.id, [])
            return
        content = edit_content(ref.id, render(reply))
        await self.session.room_send(ref.chat.id, "m.room.message", content)
        self.memory.remember(ref.id, buttons)
        self._renewed.add(ref.id)
        await self._set_reactions(ref.chat.id, ref.id, len(buttons))

    def _check_private(self, chat: ChatRef) -> None:
        """Gone rooms are unreachable; so is a "direct" chat that is no longer one (someone
        joined): a private message never goes to a room with anyone else."""
        inbound = self._inbound
        if inbound is None:
            return
        if chat.id in inbound.gone or chat.id in inbound.direct.leaving:
            raise Unreachable(chat.id)
        if chat.kind == "direct" and not inbound.direct.is_direct(chat.id):
            raise Unreachable(f"{chat.id}: not a direct chat (any more)")

    async def _wait_rooms_known(self, within: float = 60) -> None:
        """Sending before the first sync would take every room for one we are not in (the
        outbox starts at the same time as the adapter)."""
        if self._rooms_known.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._rooms_known.wait(), within)
        if not self._rooms_known.is_set():
            raise MatrixSendError("not connected to the homeserver yet")

    async def _is_ours(self, ref: MessageRef) -> bool:
        if self.memory.knows(ref.id):
            return True
        return self._inbound is not None and await self._inbound.sent_by_us(ref.chat.id, ref.id)

    async def _set_reactions(self, room_id: str, event_id: str, count: int) -> None:
        """Our keycap reactions under a message: one per numbered button, at most ten."""
        have = self.memory.reactions(event_id)
        want = min(count, len(KEYCAPS))
        while len(have) > want:
            await self.client.room_redact(room_id, have.pop(), reason="choices changed")
        questions = self._questions.setdefault(room_id, [])
        if want and event_id not in questions:
            questions.append(event_id)
            del questions[: -len(KEYCAPS) * 10]  # bounded: the newest questions
        for i in range(len(have), want):
            content = reaction_content(event_id, KEYCAPS[i])
            try:
                have.append(await self.session.room_send(room_id, "m.reaction", content))
            except MatrixSendError as exc:  # e.g. already there, from before a restart
                log.info("matrix: reaction %s not added: %s", KEYCAPS[i], exc)
                break
