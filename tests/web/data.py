"""Residents and their reports made straight in the database, for the web tests' figures."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database
from storage.forum_models import AgeBand
from storage.models import Membership, Person, Signal


async def people(db: Database, n: int, hood: int, band: str | None = None) -> list[int]:
    """``n`` residents who live in ``hood`` (and shared ``band``)."""
    async with db.transaction() as s:
        made = [Person(locale="en") for _ in range(n)]
        s.add_all(made)
        await s.flush()
        ids = [p.id or 0 for p in made]
        s.add_all(Membership(person_id=i, neighbourhood_id=hood, is_home=True) for i in ids)
        if band:
            s.add_all(AgeBand(person_id=i, age_band=band) for i in ids)
    return ids


async def reports(db: Database, who: list[int], hood: int, at: datetime) -> None:
    async with db.transaction() as s:
        s.add_all(
            Signal(neighbourhood_id=hood, reporter_id=p, category="waste", text="afval",
                   created_at=at, updated_at=at)
            for p in who
        )  # fmt: skip
