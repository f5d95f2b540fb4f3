"""The durable outbox: messages written in the same transaction as the change they tell."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage, utcnow


async def enqueue(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    text: str,
    buttons: list[list[dict[str, str]]] | None = None,
) -> OutboxMessage:
    msg = OutboxMessage(platform=platform, chat_id=chat_id, text=text, buttons=buttons or [])
    session.add(msg)
    await session.flush()
    session.info["outbox_written"] = True
    return msg


async def pending(
    session: AsyncSession, platform: str, now: datetime, limit: int = 100
) -> list[OutboxMessage]:
    """Unsent messages that are due (new ones, and failed ones whose backoff is over)."""
    stmt = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.platform) == platform,
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.failed).is_(False),
            or_(
                col(OutboxMessage.next_attempt_at).is_(None),
                col(OutboxMessage.next_attempt_at) <= now,
            ),
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def mark_sent(session: AsyncSession, msg: OutboxMessage, at: datetime | None = None) -> None:
    msg.sent_at = at or utcnow()
    session.add(msg)


async def mark_failed(
    session: AsyncSession, msg: OutboxMessage, error: str, give_up: bool, retry_at: datetime
) -> None:
    msg.attempts += 1
    msg.last_error = error[:500]
    msg.failed = give_up
    msg.next_attempt_at = retry_at
    session.add(msg)


async def purge_sent(session: AsyncSession, before: datetime) -> int:
    """Forget what was sent (or given up on) before `before`: it holds personal messages."""
    result = await session.exec(
        delete(OutboxMessage).where(
            or_(col(OutboxMessage.sent_at) < before, col(OutboxMessage.failed)),
            col(OutboxMessage.created_at) < before,
        )
    )
    return int(result.rowcount or 0)
