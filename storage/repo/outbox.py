"""The durable outbox: messages written in the same transaction as the change they tell."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, func, insert
from sqlmodel import col, delete, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage
from storage.repo.outbox_claim import WORKER_PREFIX as WORKER_PREFIX
from storage.repo.outbox_claim import Outgoing as Outgoing
from storage.repo.outbox_claim import alive
from storage.repo.outbox_claim import claim_batch as claim_batch

# Marks a session that queued messages, so the sender is woken after its commit.
WROTE_OUTBOX = "wijkbot.outbox_written"
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]


async def enqueue(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    text: str,
    buttons: list[list[dict[str, str]]] | None = None,
    chat_kind: str = "direct",
    extra: dict[str, Any] | None = None,
) -> OutboxMessage:
    msg = OutboxMessage(
        platform=platform, chat_id=chat_id, chat_kind=chat_kind, text=text,
        buttons=buttons or [], extra=extra or {},
    )  # fmt: skip
    session.add(msg)
    await session.flush()
    session.info[WROTE_OUTBOX] = True
    return msg


def new_row(
    platform: str,
    chat_id: str,
    chat_kind: str,
    text: str,
    buttons: list[list[dict[str, str]]],
    extra: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    """One outbox row as parameters for `enqueue_many`."""
    return {
        "platform": platform, "chat_id": chat_id, "chat_kind": chat_kind, "text": text,
        "buttons": buttons, "extra": extra or {}, "attempts": 0, "failed": False,
        "created_at": now,
    }  # fmt: skip


async def enqueue_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Many messages (a broadcast, a digest run) in one INSERT statement."""
    if rows:
        await session.exec(insert(OutboxMessage), params=rows)
        session.info[WROTE_OUTBOX] = True


def _due(platform: str, now: datetime) -> list[Any]:
    return [
        col(OutboxMessage.platform) == platform,
        col(OutboxMessage.sent_at).is_(None),
        col(OutboxMessage.failed).is_(False),
        or_(
            col(OutboxMessage.next_attempt_at).is_(None),
            col(OutboxMessage.next_attempt_at) <= now,
        ),
    ]


async def pending(
    session: AsyncSession, platform: str, now: datetime, limit: int = 100, after_id: int = 0
) -> list[OutboxMessage]:
    """Unsent messages that are due (new ones, and failed ones whose backoff is over).

    In the order they were written; `after_id` pages through them (keyset, no OFFSET).
    """
    stmt = (
        select(OutboxMessage)
        .where(*_due(platform, now), col(OutboxMessage.id) > after_id)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def in_doubt(
    session: AsyncSession,
    platform: str | None = None,
    gone_only: bool = False,
    not_of: str | None = None,
) -> list[OutboxMessage]:
    """Claimed but neither sent nor failed: in flight when the process stopped.

    They are sent again (at least once); the recipient may get such a message twice.
    `gone_only` (PostgreSQL): not those of a worker still running (being sent right now);
    `not_of`: not those of this worker (the answers it is sending itself).
    """
    stmt = select(OutboxMessage).where(
        col(OutboxMessage.claimed_at).is_not(None), col(OutboxMessage.sent_at).is_(None)
    )
    if gone_only:
        stmt = stmt.where(~alive(col(OutboxMessage.claimed_by)))
    if not_of is not None:
        stmt = stmt.where(col(OutboxMessage.claimed_by) != not_of)
    if platform is not None:
        stmt = stmt.where(col(OutboxMessage.platform) == platform)
    return list((await session.exec(stmt.order_by(col(OutboxMessage.id)))).all())


async def on_screen(
    session: AsyncSession, platform: str, chat_id: str, after: datetime
) -> tuple[list[list[dict[str, str]]] | None, datetime | None, datetime | None]:
    """What the outbox last showed a chat since `after`: the buttons of the newest message
    with buttons, when that was sent, and when the newest message of all was sent."""
    stmt = select(OutboxMessage).where(
        col(OutboxMessage.platform) == platform,
        col(OutboxMessage.chat_id) == chat_id,
        col(OutboxMessage.sent_at).is_not(None),
        col(OutboxMessage.claimed_at) > after,
    )
    # Rows claimed in one batch share claimed_at: the later written is the newer.
    newest = list(
        await session.exec(
            stmt.order_by(col(OutboxMessage.claimed_at).desc(), col(OutboxMessage.id).desc()).limit(
                10
            )
        )
    )
    last_at = newest[0].claimed_at if newest else None
    with_buttons = next((msg for msg in newest if msg.buttons), None)
    if with_buttons is None:
        return None, None, last_at
    return with_buttons.buttons, with_buttons.claimed_at, last_at


async def release(session: AsyncSession, ids: list[int]) -> None:
    """Claimed but never started (the sender stopped): not in flight, nothing in doubt."""
    if ids:
        t = _OUTBOX
        await session.exec(
            update(t).where(t.c.id.in_(ids), t.c.sent_at.is_(None))
            .values(claimed_at=None, claimed_by=None, lease_until=None)
        )  # fmt: skip


async def release_all(session: AsyncSession, platform: str, worker: str) -> None:
    """One process only (SQLite): rows claimed by a process that stopped are free at once
    (still claimed, so in doubt, until they are sent again). Not those of `worker`, this
    process: the answers it is sending now."""
    t = _OUTBOX
    await session.exec(
        update(t).where(t.c.platform == platform, t.c.sent_at.is_(None),
                        t.c.lease_until.is_not(None), t.c.claimed_by != worker)
        .values(lease_until=None)
    )  # fmt: skip


async def mark_sent_many(
    session: AsyncSession, sent: list[tuple[int, str | None]], at: datetime
) -> None:
    """Step 3 for a batch: the platform took each (id, its message ref); one statement."""
    if sent:
        params = [{"b_id": i, "b_ref": ref[:255] if ref else None, "b_at": at} for i, ref in sent]
        await (await session.connection()).execute(_MARK_SENT, params)


_MARK_SENT = (
    update(_OUTBOX).where(_OUTBOX.c.id == bindparam("b_id"))
    .values(sent_at=bindparam("b_at", type_=_OUTBOX.c.sent_at.type), sent_ref=bindparam("b_ref"))
)  # fmt: skip


async def sent_buttons(
    session: AsyncSession, platform: str, chat_id: str, sent_ref: str
) -> list[list[dict[str, str]]] | None:
    """The buttons of the message we sent to a chat as `sent_ref`, if the outbox sent it."""
    stmt = select(OutboxMessage.buttons).where(
        col(OutboxMessage.platform) == platform,
        col(OutboxMessage.chat_id) == chat_id,
        col(OutboxMessage.sent_ref) == sent_ref,
    )
    found = (await session.exec(stmt.limit(1))).first()
    return list(found) if found is not None else None


async def poll_messages(session: AsyncSession, poll_id: int) -> dict[tuple[str, str], str]:
    """Where poll `poll_id` was sent: (platform, chat id) -> the platform's message id."""
    stmt = select(OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.sent_ref).where(
        col(OutboxMessage.sent_ref).is_not(None),
        OutboxMessage.extra["poll_id"].as_integer() == poll_id,
    )
    return {(p, c): r for p, c, r in (await session.exec(stmt)).all() if r is not None}


async def mentioning(session: AsyncSession, words: str) -> list[OutboxMessage]:
    """Messages (waiting or kept after sending) whose text contains `words` literally."""
    stmt = select(OutboxMessage).where(col(OutboxMessage.text).contains(words, autoescape=True))
    return list((await session.exec(stmt.order_by(col(OutboxMessage.id)))).all())


async def set_text(session: AsyncSession, msg: OutboxMessage, text: str) -> None:
    msg.text = text
    session.add(msg)


async def mark_failed(
    session: AsyncSession,
    msg_id: int,
    attempts: int,
    error: str,
    give_up: bool,
    retry_at: datetime,
) -> None:
    """The attempt is over and failed: nothing is in flight (claimed_at cleared)."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == msg_id)
        .values(attempts=attempts, claimed_at=None, claimed_by=None, lease_until=None,
                last_error=error[:500], failed=give_up, next_attempt_at=retry_at)
        .execution_options(synchronize_session=False)
    )  # fmt: skip


async def purge_sent(session: AsyncSession, before: datetime) -> int:
    """Forget what was sent (or given up on) before `before`: it holds personal messages."""
    result = await session.exec(
        delete(OutboxMessage).where(
            or_(col(OutboxMessage.sent_at) < before, col(OutboxMessage.failed)),
            col(OutboxMessage.created_at) < before,
        )
    )
    return int(result.rowcount or 0)


async def backlog(session: AsyncSession, now: datetime) -> list[tuple[str, int, datetime | None]]:
    """Per platform: how many messages wait (not sent, not given up), and since when the
    longest-waiting due one is due (its retry time, or when it was written; None when all
    wait for a later retry). One grouped query on the pending index, for a scrape."""
    t = _OUTBOX
    due_at = func.coalesce(t.c.next_attempt_at, t.c.created_at)
    stmt = (
        select(t.c.platform, func.count(), func.min(case((due_at <= now, due_at))))
        .where(t.c.sent_at.is_(None), t.c.failed.is_(False))
        .group_by(t.c.platform)
    )
    return [(p, int(n), oldest) for p, n, oldest in (await session.exec(stmt)).all()]
