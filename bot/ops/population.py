"""`wijkbot admin load-population FILE`: residents per age band per neighbourhood from a CSV
shaped like CBS "Kerncijfers wijken en buurten" (columns `regio`, `a_15_24`, `a_25_44`,
`a_45_64`, `a_65_oo`; `;` or `,` between fields; `.` for an unknown number)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.config import Settings
from bot.core.text import whole_number
from bot.services.forum.features import AGE_BANDS
from storage.db import Database
from storage.repo import forums, places

COLUMNS = dict(zip(AGE_BANDS, ("a_15_24", "a_25_44", "a_45_64", "a_65_oo"), strict=True))
NAME_COLUMNS = ("regio", "wijken_en_buurten", "naam")


class PopulationError(Exception):
    pass


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PopulationError(f"{path}: cannot read: {exc}") from None
    delimiter = (
        ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    )
    rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise PopulationError(f"{path}: no rows")
    header = {h.strip().lower() for h in rows[0]}
    missing = [c for c in COLUMNS.values() if c not in header]
    if missing or not header & set(NAME_COLUMNS):
        raise PopulationError(f"{path}: needs the columns regio, {', '.join(COLUMNS.values())}")
    return [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in rows]


async def load_population(settings: Settings, path: Path) -> str:
    rows = _rows(path)
    db = Database(settings.effective_database_url)
    loaded, skipped = [], []
    try:
        async with db.transaction() as session:
            hoods = {n.name.casefold(): n for n in await places.neighbourhoods(session)}
            hoods |= {n.slug.casefold(): n for n in hoods.values()}
            for line, row in enumerate(rows, start=2):
                name = next((row[c] for c in NAME_COLUMNS if row.get(c)), "")
                hood = hoods.get(name.casefold())
                counts = {b: whole_number(row[c].strip()) for b, c in COLUMNS.items()}
                if hood is None or hood.id is None:
                    skipped.append(f"line {line}: {name or '?'} is not a neighbourhood here")
                    continue
                figures = {b: v for b, v in counts.items() if v is not None}
                if len(figures) < len(counts):  # "²" or "-" is not a number of residents
                    skipped.append(f"line {line}: {name}: a number is missing")
                    continue
                await forums.replace_population(session, hood.id, figures, path.name)
                loaded.append(hood.name)
    finally:
        await db.dispose()
    lines = [
        f"Loaded population figures for {len(loaded)} neighbourhoods: {', '.join(loaded) or 'none'}."
    ]
    return "\n".join(lines + [f"Skipped {s}" for s in skipped])
