"""The durable outbox: messages written in the same transaction as the change they tell."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, delete, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage, utcnow

# Marks a session that queued messages, so the sender is woken after its commit.
WROTE_OUTBOX = "wijkbot.outbox_written"


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


async def in_doubt(session: AsyncSession, platform: str | None = None) -> list[OutboxMessage]:
    """Claimed but neither sent nor failed: in flight when the process stopped.

    They are sent again (at least once); the recipient may get such a message twice.
    """
    stmt = select(OutboxMessage).where(
        col(OutboxMessage.claimed_at).is_not(None), col(OutboxMessage.sent_at).is_(None)
    )
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
    newest = list(await session.exec(stmt.order_by(col(OutboxMessage.claimed_at).desc()).limit(10)))
    last_at = newest[0].claimed_at if newest else None
    with_buttons = next((msg for msg in newest if msg.buttons), None)
    if with_buttons is None:
        return None, None, last_at
    return with_buttons.buttons, with_buttons.claimed_at, last_at


async def claim(session: AsyncSession, msg_id: int, at: datetime) -> bool:
    """Step 1 of claim → send → mark: committed before the platform is asked to send.

    False when the message is gone (erased meanwhile) or already sent.
    """
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == msg_id, col(OutboxMessage.sent_at).is_(None))
        .values(claimed_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def mark_sent_id(
    session: AsyncSession, msg_id: int, at: datetime | None = None, ref: str | None = None
) -> bool:
    """Step 3: the platform took it (as message `ref`). False when the row is gone."""
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == msg_id)
        .values(sent_at=at or utcnow(), sent_ref=ref[:255] if ref else None)
    )
    return bool(result.rowcount)


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


async def mark_sent(session: AsyncSession, msg: OutboxMessage, at: datetime | None = None) -> None:
    msg.sent_at = at or utcnow()
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
        .values(attempts=attempts, claimed_at=None, last_error=error[:500], failed=give_up,
                next_attempt_at=retry_at)
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
