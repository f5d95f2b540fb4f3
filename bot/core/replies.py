"""The answers to a message outlive the worker that handles it.

An incoming message from the inbox is marked handled in the transaction of its effects; its
answers are written to the outbox in that same transaction (storage/repo/outbox_replies.py),
claimed by this worker, and sent by it at once after the commit, as before (no wait for an
outbox pass, no rate-limit queue). Once the platform took an answer its row is deleted: an
answer is stored only while it is on its way. If the worker is killed between the commit and
the send, the answer is still there: the chat's next message takes it over and sends it
first (so the chat reads its answers in order), and any worker's outbox sender sends it
otherwise (bot/delivery/outbox.py: on PostgreSQL once the worker's connection is gone, on
SQLite when the bot starts again). A send that fails is left to the outbox's retries.

Killed after the platform took an answer and before its row was deleted, the answer is sent
again: at least once, like every outbox message; twice at most the answers in flight.

The row form (`to_row`, `from_row`) is shared with the outbox sender: text, buttons,
`extra` = {"reply": true, "edit": message id (replace that message), "numbered": false,
"reply_to": message id, "image": base64 PNG, "document": {"name", "mimetype", "data"}}.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.context import Outgoing
from bot.core.events import ChatRef, Document, MessageRef, Reply, store_keyboard, stored_keyboard
from bot.core.ports import Adapter, Unreachable
from storage.db import Database
from storage.repo import outbox, outbox_replies
from storage.repo.outbox_claim import Outgoing as Row

log = logging.getLogger(__name__)
# How long other workers keep off the answers a worker is sending. A worker killed loses its
# lease at once (PostgreSQL: its connection is gone; SQLite: the next start); a live one may
# take this long over a send (retries after a platform's "too many requests").
LEASE = timedelta(minutes=10)


def to_row(chat: ChatRef, out: Outgoing, now: datetime) -> dict[str, Any]:
    """An answer to `chat` as outbox row parameters (`outbox.new_row`)."""
    reply = out.reply
    if reply.photo or reply.poll or reply.ends or reply.new_room or reply.extra:
        raise ValueError("answers carry text, buttons, an image or a document only")
    extra: dict[str, Any] = {outbox_replies.REPLY: True}
    if (edit := edited(out)) is not None:
        extra["edit"] = edit.id
    if not reply.numbered:
        extra["numbered"] = False
    if reply.reply_to is not None:
        extra["reply_to"] = reply.reply_to.id
    if reply.image is not None:
        extra["image"] = base64.b64encode(reply.image).decode()
    if (doc := reply.document) is not None:
        data = base64.b64encode(doc.data).decode()
        extra["document"] = {"name": doc.name, "mimetype": doc.mimetype, "data": data}
    buttons = store_keyboard(reply.buttons)
    return outbox.new_row(chat.platform, chat.id, chat.kind, reply.text, buttons, extra, now)


def is_answer(row: Row) -> bool:
    return bool(row.extra.get(outbox_replies.REPLY))


def from_row(chat: ChatRef, row: Row) -> tuple[Reply, MessageRef | None]:
    """An answer's row back as what to send, and the message it replaces (an edit)."""
    extra = row.extra
    doc = extra.get("document")
    reply = Reply(
        text=row.text,
        buttons=stored_keyboard(row.buttons),
        reply_to=MessageRef(chat, extra["reply_to"]) if "reply_to" in extra else None,
        image=base64.b64decode(extra["image"]) if "image" in extra else None,
        document=Document(doc["name"], base64.b64decode(doc["data"]), doc["mimetype"])
        if doc
        else None,
        numbered=bool(extra.get("numbered", True)),
    )
    edit = extra.get("edit")
    return reply, MessageRef(chat, str(edit)) if edit is not None else None


def edited(out: Outgoing) -> MessageRef | None:
    """The message an answer replaces, if it is an edit."""
    return out.ref if out.verb == "edit" else None


async def send_one(adapter: Adapter, chat: ChatRef, reply: Reply, edit: MessageRef | None) -> None:
    if edit is not None:
        await adapter.edit(edit, reply)
    else:
        await adapter.send(chat, reply)


@dataclass
class Kept:
    """Answers written in a handling transaction: earlier ones taken over, then the new."""

    earlier: list[Row] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)


class Replies:
    """Keeps a worker's answers in the outbox while it sends them (see the module)."""

    def __init__(self, db: Database, worker: str, lease: timedelta = LEASE) -> None:
        self.db = db
        self.worker = worker  # the outbox sender's name: one worker, one name
        self.lease = lease
        self._unsettled: tuple[list[int], list[int]] = ([], [])  # (sent, failed) to note

    async def keep(
        self, session: AsyncSession, chat: ChatRef, outgoing: Sequence[Outgoing], now: datetime
    ) -> Kept:
        """In the handling transaction: take over this chat's earlier answers nobody sends,
        and write the new ones, all claimed by this worker."""
        until = now + self.lease
        earlier = await outbox_replies.take_over(
            session, chat.platform, chat.id, self.worker, until, now
        )
        rows = [to_row(chat, out, now) for out in outgoing]
        ids = await outbox_replies.keep(session, rows, self.worker, until, now)
        return Kept(earlier, ids, list(outgoing))

    async def send(self, adapter: Adapter, chat: ChatRef, kept: Kept) -> bool:
        """After the commit: send in order; forget what arrived, free what failed for the
        outbox to retry (True then: wake it). An unreachable chat gets nothing more."""
        todo = [(row.id, *from_row(chat, row)) for row in kept.earlier]
        todo += [
            (i, out.reply, edited(out)) for i, out in zip(kept.ids, kept.outgoing, strict=True)
        ]
        done: list[int] = []
        failed: list[int] = []
        for n, (row_id, reply, edit) in enumerate(todo):
            try:
                await send_one(adapter, chat, reply, edit)
            except Unreachable:
                log.info("chat unreachable on %s", adapter.platform)
                done += [i for i, _r, _e in todo[n:]]
                break
            except Exception:
                # This one and the later ones go to the outbox, which keeps their order.
                log.exception(
                    "sending a reply failed on %s; the outbox tries again", adapter.platform
                )
                failed += [i for i, _r, _e in todo[n:]]
                break
            else:
                done.append(row_id)
        # What could not be noted last time (the database was away) is noted with this.
        done, failed = self._unsettled[0] + done, self._unsettled[1] + failed
        try:
            await outbox_replies.settle(self.db, done, failed)
        except Exception:
            # Still held by this worker, which notes it with its next answers; until then no
            # other sender takes them (a worker that dies meanwhile: sent again).
            log.exception("answers sent but not noted yet; they are noted with the next ones")
            self._unsettled = (done, failed)
            return False
        self._unsettled = ([], [])
        return bool(failed)
