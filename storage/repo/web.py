"""Login links and browser sessions of the web overview, and the report queue's query.

Only hashes of the link and cookie tokens are stored: a copy of the database opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Signal, SignalForward, WebLogin, WebSession


def token_hash(token: str) -> str:
    """SHA-256 is enough here: the tokens are 32 random bytes, not passwords."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_login(
    session: AsyncSession, person_id: int, now: datetime, valid: timedelta
) -> str:
    """A new one-time login token for `person_id`; returned once, stored hashed."""
    token = secrets.token_urlsafe(32)
    session.add(WebLogin(person_id=person_id, token_hash=token_hash(token), expires_at=now + valid))
    await session.flush()
    return token


async def consume_login(session: AsyncSession, token: str, now: datetime) -> int | None:
    """The person a login token belongs to, once: an unknown, used or expired one gives None."""
    login = (
        await session.exec(select(WebLogin).where(col(WebLogin.token_hash) == token_hash(token)))
    ).first()
    if login is None or login.used_at is not None or login.expires_at <= now:
        return None
    login.used_at = now
    session.add(login)
    await session.flush()
    return login.person_id


async def create_session(
    session: AsyncSession, person_id: int, now: datetime, valid: timedelta
) -> tuple[str, WebSession]:
    """A new browser session: the cookie token (returned once) and its row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        person_id=person_id,
        token_hash=token_hash(token),
        csrf=secrets.token_urlsafe(32),
        expires_at=now + valid,
    )
    session.add(row)
    await session.flush()
    return token, row


async def session_for(session: AsyncSession, token: str, now: datetime) -> WebSession | None:
    stmt = select(WebSession).where(col(WebSession.token_hash) == token_hash(token))
    row = (await session.exec(stmt)).first()
    return row if row is not None and row.expires_at > now else None


async def end_session(session: AsyncSession, token: str) -> None:
    stmt = select(WebSession).where(col(WebSession.token_hash) == token_hash(token))
    for row in (await session.exec(stmt)).all():
        await session.delete(row)


async def purge_ended(session: AsyncSession, now: datetime) -> int:
    """Delete login links that were used or expired and sessions that ended (least data)."""
    links = await session.exec(
        delete(WebLogin).where(
            or_(col(WebLogin.used_at).is_not(None), col(WebLogin.expires_at) <= now)
        )
    )
    ended = await session.exec(delete(WebSession).where(col(WebSession.expires_at) <= now))
    return int(links.rowcount or 0) + int(ended.rowcount or 0)


async def held_for(session: AsyncSession, person_id: int) -> int:
    """How many login links and sessions a person has (shown in /mijngegevens)."""
    total = 0
    for table in (WebLogin, WebSession):
        stmt = select(func.count()).select_from(table).where(col(table.person_id) == person_id)
        total += int((await session.exec(stmt)).one())
    return total


async def queue(
    session: AsyncSession,
    neighbourhood_ids: list[int],
    *,
    status: str | None = None,
    category: str | None = None,
    older_than: datetime | None = None,
    forwarded: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Signal], int]:
    """A page of reports of these neighbourhoods (oldest first) and how many match in all.

    `status` "open" means not solved and not closed.
    """
    where: list[ColumnElement[bool]] = [col(Signal.neighbourhood_id).in_(neighbourhood_ids)]
    if status == "open":
        where.append(col(Signal.status).not_in(["resolved", "closed"]))
    elif status:
        where.append(col(Signal.status) == status)
    if category:
        where.append(col(Signal.category) == category)
    if older_than is not None:
        where.append(col(Signal.created_at) < older_than)
    if forwarded is not None:
        sent = select(SignalForward.signal_id)
        where.append(col(Signal.id).in_(sent) if forwarded else col(Signal.id).not_in(sent))
    total = (await session.exec(select(func.count()).select_from(Signal).where(*where))).one()
    stmt = select(Signal).where(*where).order_by(col(Signal.id)).offset(offset).limit(limit)
    return list((await session.exec(stmt)).all()), int(total)
