"""Exports for the municipality's area team: `wijkbot export signals|ideas --format csv|json|geojson`
and the web overview's downloads.

Nothing that identifies a resident is exported: no reporter, author or supporter, only
what they reported and proposed, with counts. In CSV a text cell never starts a
spreadsheet formula (`bot.util.spreadsheet`); JSON and GeoJSON keep every text exactly.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.util.spreadsheet import csv_text
from storage.models import (
    Idea,
    IdeaSupport,
    Neighbourhood,
    Signal,
    SignalFollower,
    SignalForward,
    Theme,
)

Kind = Literal["signals", "ideas"]
Format = Literal["csv", "json", "geojson"]


class ExportError(Exception):
    pass


async def _counts(session: AsyncSession, key: Any) -> dict[int, int]:
    """Rows per value of `key` (followers per signal, supporters per idea), in one query."""
    stmt = select(key, func.count()).group_by(col(key))
    return {int(k): int(n) for k, n in (await session.exec(stmt)).all()}


async def signal_rows(
    session: AsyncSession, neighbourhood_ids: int | list[int] | None
) -> list[dict[str, Any]]:
    """The reports of one neighbourhood, of a list of them (one query), or of all (None)."""
    stmt = select(Signal, Neighbourhood.name).join(
        Neighbourhood, col(Neighbourhood.id) == col(Signal.neighbourhood_id)
    )
    if isinstance(neighbourhood_ids, int):
        neighbourhood_ids = [neighbourhood_ids]
    if neighbourhood_ids is not None:
        stmt = stmt.where(col(Signal.neighbourhood_id).in_(neighbourhood_ids))
    followers = await _counts(session, SignalFollower.signal_id)
    forwards = {f.signal_id: f for f in (await session.exec(select(SignalForward))).all()}
    rows = []
    for sig, hood in (await session.exec(stmt.order_by(col(Signal.id)))).all():
        fwd = forwards.get(sig.id or 0)
        rows.append(
            {
                "reference": sig.reference, "neighbourhood": hood, "category": sig.category,
                "status": sig.status, "text": sig.text, "address": sig.address,
                "lat": sig.lat, "lon": sig.lon, "has_photo": bool(sig.photo_file_id),
                "created_at": sig.created_at.isoformat(),
                "updated_at": sig.updated_at.isoformat(),
                "duplicate_of": f"M-{1000 + sig.duplicate_of_id}" if sig.duplicate_of_id else None,
                "followers": int(followers.get(sig.id or 0, 0)),
                "forwarded_to": fwd.kind if fwd else None,
                "external_id": fwd.external_id if fwd else None,
            }
        )  # fmt: skip
    return rows


async def idea_rows(session: AsyncSession, neighbourhood_id: int | None) -> list[dict[str, Any]]:
    stmt = select(Idea, Neighbourhood.name).join(
        Neighbourhood, col(Neighbourhood.id) == col(Idea.neighbourhood_id)
    )
    if neighbourhood_id is not None:
        stmt = stmt.where(col(Idea.neighbourhood_id) == neighbourhood_id)
    supports = await _counts(session, IdeaSupport.idea_id)
    themes = {t.id: t.slug for t in (await session.exec(select(Theme))).all()}
    return [
        {
            "reference": f"I-{idea.id}",
            "neighbourhood": hood,
            "theme": themes.get(idea.theme_id) if idea.theme_id else None,
            "title": idea.title,
            "description": idea.body,
            "status": idea.status,
            "supporters": int(supports.get(idea.id or 0, 0)),
            "created_at": idea.created_at.isoformat(),
        }
        for idea, hood in (await session.exec(stmt.order_by(col(Idea.id)))).all()
    ]


def render(kind: Kind, fmt: Format, rows: list[dict[str, Any]]) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return csv_text(list(rows[0]) if rows else ["reference"], rows)
    if kind != "signals":
        raise ExportError("only signals have a location; use csv or json for ideas")
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
            "properties": {k: v for k, v in r.items() if k not in ("lat", "lon")},
        }
        for r in rows
        if r["lat"] is not None and r["lon"] is not None
    ]
    return (
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False) + "\n"
    )
