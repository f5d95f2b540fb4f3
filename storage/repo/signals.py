"""Signals (meldingen) and their status history."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Signal, SignalFollower, SignalUpdate, utcnow
from storage.repo.unique import add_once

STATUSES = ("new", "accepted", "in_progress", "forwarded", "resolved", "closed", "reopened")
CATEGORIES = ("road", "greenery", "waste", "lighting", "safety", "other")
_REF = re.compile(r"^\s*M?-?\s*(\d{4,})\s*$", re.IGNORECASE)
LARGEST_ID = 2**31 - 1  # PostgreSQL's integer: a larger number is no report (and would not bind)


def parse_reference(text: str) -> int | None:
    """'M-1042', 'm1042' or '1042' -> signal id 42."""
    m = _REF.match(text)
    if not m:
        return None
    digits = m.group(1).lstrip("0")[:40]  # longer is no report either; `signal` says so
    number = int(digits or "0")
    return number - 1000 if number > 1000 else None


async def create_signal(
    session: AsyncSession,
    *,
    neighbourhood_id: int,
    reporter_id: int,
    category: str,
    text: str,
    address: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    photo_platform: str | None = None,
    photo_file_id: str | None = None,
) -> Signal:
    signal = Signal(
        neighbourhood_id=neighbourhood_id,
        reporter_id=reporter_id,
        category=category,
        text=text,
        address=address,
        lat=lat,
        lon=lon,
        photo_platform=photo_platform,
        photo_file_id=photo_file_id,
    )
    session.add(signal)
    await session.flush()
    assert signal.id is not None
    session.add(SignalUpdate(signal_id=signal.id, status="new", by_person_id=reporter_id))
    await session.flush()
    return signal


async def signal(session: AsyncSession, signal_id: int) -> Signal | None:
    """The report, or None; also for a number no id can be (it would not even bind)."""
    if not 1 <= signal_id <= LARGEST_ID:
        return None
    return await session.get(Signal, signal_id)


async def signals_by(
    session: AsyncSession,
    person_id: int,
    *,
    newest_first: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Signal]:
    """A person's reports, oldest first (`newest_first`: the other way); a page with `limit`."""
    order = col(Signal.id).desc() if newest_first else col(Signal.id)
    stmt = select(Signal).where(col(Signal.reporter_id) == person_id).order_by(order)
    if limit is not None:
        stmt = stmt.offset(offset).limit(limit)
    return list((await session.exec(stmt)).all())


async def count_by(session: AsyncSession, person_id: int) -> int:
    stmt = select(func.count()).select_from(Signal).where(col(Signal.reporter_id) == person_id)
    return int((await session.exec(stmt)).one())


def _open(neighbourhood_ids: list[int]) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Signal.neighbourhood_id).in_(neighbourhood_ids),
        col(Signal.status).not_in(["resolved", "closed"]),
    )


async def open_signals(
    session: AsyncSession, neighbourhood_ids: list[int], limit: int = 10, offset: int = 0
) -> list[Signal]:
    """Open reports, oldest first (the order a coordinator works through them)."""
    stmt = select(Signal).where(*_open(neighbourhood_ids)).order_by(col(Signal.id))
    return list((await session.exec(stmt.offset(offset).limit(limit))).all())


async def count_open(session: AsyncSession, neighbourhood_ids: list[int]) -> int:
    stmt = select(func.count()).select_from(Signal).where(*_open(neighbourhood_ids))
    return int((await session.exec(stmt)).one())


async def set_status(
    session: AsyncSession,
    sig: Signal,
    status: str,
    note: str,
    by_person_id: int | None,
    kind: str = "status",
) -> SignalUpdate:
    """Change the status; `by_person_id` None when the municipality changed it."""
    assert sig.id is not None
    sig.status = status
    sig.updated_at = utcnow()
    session.add(sig)
    update = SignalUpdate(
        signal_id=sig.id, status=status, note=note, by_person_id=by_person_id, kind=kind
    )
    session.add(update)
    await session.flush()
    return update


async def history(session: AsyncSession, signal_id: int) -> list[SignalUpdate]:
    stmt = (
        select(SignalUpdate)
        .where(col(SignalUpdate.signal_id) == signal_id)
        .order_by(col(SignalUpdate.id))
    )
    return list((await session.exec(stmt)).all())


async def open_in(session: AsyncSession, neighbourhood_id: int, limit: int = 200) -> list[Signal]:
    """The most recent open signals of a neighbourhood (candidates for duplicates)."""
    stmt = (
        select(Signal)
        .where(
            col(Signal.neighbourhood_id) == neighbourhood_id,
            col(Signal.status).not_in(["resolved", "closed"]),
            col(Signal.duplicate_of_id).is_(None),
        )
        .order_by(col(Signal.id).desc())
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def add_follower(session: AsyncSession, signal_id: int, person_id: int) -> bool:
    """Follow a signal once; False if already following (a database constraint)."""
    return await add_once(session, SignalFollower(signal_id=signal_id, person_id=person_id))


async def followers(session: AsyncSession, signal_id: int) -> list[int]:
    stmt = select(SignalFollower.person_id).where(col(SignalFollower.signal_id) == signal_id)
    return list((await session.exec(stmt)).all())


async def followed_by(session: AsyncSession, person_id: int) -> list[Signal]:
    stmt = (
        select(Signal)
        .join(SignalFollower, col(SignalFollower.signal_id) == col(Signal.id))
        .where(col(SignalFollower.person_id) == person_id)
        .order_by(col(Signal.id))
    )
    return list((await session.exec(stmt)).all())


async def add_note(
    session: AsyncSession, sig: Signal, kind: str, note: str, by_person_id: int | None
) -> SignalUpdate:
    """A question, answer or message in the history; the status stays as it is."""
    assert sig.id is not None
    update = SignalUpdate(
        signal_id=sig.id, status=sig.status, kind=kind, note=note, by_person_id=by_person_id
    )
    session.add(update)
    await session.flush()
    return update
