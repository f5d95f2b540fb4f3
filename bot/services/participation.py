"""Who takes part, for a coordinator's charts: people per month and kind of activity, and
"who is missing" (participants by age group against the residents) per neighbourhood.

Counts only, never names. A count of fewer than MIN_SHOWN people (the rule of /wiemister)
is shown as "fewer than 10", without a bar: a coordinator who knows one or two of them
could otherwise tell who the rest are, or that nobody else came. Months are the last twelve
calendar months in the Netherlands by the app's clock, this one included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from babel.dates import format_datetime
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.i18n import N_, TIMEZONE, _, current_locale, number
from bot.services.forum.features import AGE_BANDS, value_label
from bot.services.forum.missing import MIN_SHOWN, shares, too_few, verdict
from storage.repo import forums, missing, participation
from storage.repo.participation import KINDS, WHOLE

MONTHS = 12
KIND_LABELS = {
    "reports": N_("Reports"),
    "ideas": N_("Ideas and support"),
    "polls": N_("Polls"),
    "budget": N_("Budget votes"),
    "conversations": N_("Conversations"),
}
assert tuple(KIND_LABELS) == KINDS


@dataclass(frozen=True)
class Count:
    """One cell: how many people, or hidden when fewer than MIN_SHOWN (but more than 0)."""

    people: int
    width: int = 0  # the bar, in percent of the largest count shown beside it

    @property
    def hidden(self) -> bool:
        return 0 < self.people < MIN_SHOWN

    @property
    def text(self) -> str:
        if self.hidden:
            return _("fewer than {n}").format(n=MIN_SHOWN)
        return number(self.people)


@dataclass(frozen=True)
class HoodParticipation:
    hood_id: int
    name: str
    months: list[tuple[str, list[Count]]]  # (month, one count per kind), oldest first
    whole: list[Count]  # distinct people over the twelve months, per kind


@dataclass(frozen=True)
class AgeRow:
    band: str
    residents: int  # percent
    participants: int  # percent
    residents_width: int
    participants_width: int


@dataclass(frozen=True)
class WhoIsMissing:
    hood_id: int
    name: str
    line: str  # the verdict, or why there is no chart
    rows: list[AgeRow]  # empty: no chart


def month_starts(now: datetime, months: int = MONTHS) -> list[datetime]:
    """The first moments (UTC) of the last ``months`` months in the Netherlands, oldest first."""
    local = now.astimezone(TIMEZONE)
    starts = []
    for back in range(months - 1, -1, -1):
        years, month0 = divmod(local.month - 1 - back, 12)
        start = datetime(local.year + years, month0 + 1, 1, tzinfo=TIMEZONE)
        starts.append(start.astimezone(UTC))
    return starts


def month_label(start: datetime) -> str:
    return format_datetime(start.astimezone(TIMEZONE), "LLLL y", locale=current_locale())


def _row(counts: list[int], most: int) -> list[Count]:
    return [
        Count(n, 0 if 0 < n < MIN_SHOWN else round(100 * n / most) if most else 0) for n in counts
    ]


async def per_month(
    session: AsyncSession, names: dict[int, str], now: datetime
) -> list[HoodParticipation]:
    """For each neighbourhood in ``names`` (id → name), in one query for them all."""
    starts = month_starts(now)
    found = await participation.people_per_month(session, list(names), starts, now)
    charts = []
    for hood_id, name in names.items():
        grid = [[found.get((hood_id, k, m), 0) for k in KINDS] for m in range(len(starts))]
        whole = [found.get((hood_id, k, WHOLE), 0) for k in KINDS]
        most = max((n for row in grid for n in row if n >= MIN_SHOWN), default=0)
        most_whole = max((n for n in whole if n >= MIN_SHOWN), default=0)
        charts.append(
            HoodParticipation(
                hood_id,
                name,
                [(month_label(s), _row(row, most)) for s, row in zip(starts, grid, strict=True)],
                _row(whole, most_whole),
            )
        )
    return charts


def kind_labels() -> list[str]:
    return [_(KIND_LABELS[k]) for k in KINDS]


async def who_is_missing(session: AsyncSession, names: dict[int, str]) -> list[WhoIsMissing]:
    """The data behind /wiemister for each neighbourhood in ``names``, in two queries."""
    populations = await forums.populations(session, list(names))
    taking_part = await missing.participants_by_band_in(session, list(names))
    found = []
    for hood_id, name in names.items():
        population = populations.get(hood_id)
        if not population:
            line = _(
                "There are no population figures for your neighbourhood yet. The operator loads them."
            )
            found.append(WhoIsMissing(hood_id, name, line, []))
            continue
        part = taking_part.get(hood_id, {})
        hidden = too_few(part)
        if hidden is not None:
            found.append(WhoIsMissing(hood_id, name, hidden, []))
            continue
        found.append(
            WhoIsMissing(hood_id, name, verdict(population, part), _rows(population, part))
        )
    return found


def _rows(population: dict[str, int], part: dict[str, int]) -> list[AgeRow]:
    residents, participants = shares(population), shares(part)
    most = max([*residents.values(), *participants.values()]) or 1
    return [
        AgeRow(
            value_label(band),
            round(residents[band]),
            round(participants[band]),
            round(100 * residents[band] / most),
            round(100 * participants[band] / most),
        )
        for band in AGE_BANDS
    ]


def names_in_order(names: dict[int, str], ids: Sequence[int]) -> dict[int, str]:
    """The coordinator's neighbourhoods by name, so the page reads the same every time."""
    return dict(sorted(((i, names[i]) for i in ids if i in names), key=lambda kv: kv[1]))
