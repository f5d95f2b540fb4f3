"""Who is missing: participants by age band against the residents (population figures),
as a chart and one line on the band furthest behind."""

from __future__ import annotations

from bot.core.i18n import _
from bot.services.forum.features import AGE_BANDS, value_label
from bot.util.charts import bar_chart

# Fewer participants who shared an age group than this: no chart and no verdict, since a
# coordinator who knows who took part could read off each person's age group.
MIN_SHOWN = 10


def too_few(participants: dict[str, int]) -> str | None:
    """The kind line instead of the chart when too few people shared; None when enough."""
    n = sum(participants.values())
    if n >= MIN_SHOWN:
        return None
    return _(
        "Too few people have shared their age group yet to show this without giving away "
        "who they are: {n} so far, at least {least} needed."
    ).format(n=n, least=MIN_SHOWN)


def shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.get(b, 0) for b in AGE_BANDS)
    return {b: (100 * counts.get(b, 0) / total if total else 0.0) for b in AGE_BANDS}


def verdict(population: dict[str, int], participants: dict[str, int]) -> str:
    """ "15–24 years: 14 % of residents, 3 % of participants." for the band furthest behind."""
    if not sum(participants.values()):
        return _("Nobody who took part has shared an age group yet.")
    residents, taking_part = shares(population), shares(participants)
    band = max(AGE_BANDS, key=lambda b: residents[b] - taking_part[b])
    return _("{band}: {residents} % of residents, {participants} % of participants.").format(
        band=value_label(band),
        residents=round(residents[band]),
        participants=round(taking_part[band]),
    )


def chart(name: str, population: dict[str, int], participants: dict[str, int]) -> bytes:
    residents, taking_part = shares(population), shares(participants)
    labels, values, marks, highlight = [], [], [], []
    for band in AGE_BANDS:
        for part, value in ((True, taking_part[band]), (False, residents[band])):
            labels.append(value_label(band))
            values.append(value)
            marks.append(f"{round(value)} %")
            highlight.append(part)
    return bar_chart(
        _("Who takes part in {name}, by age").format(name=name),
        labels,
        values,
        marks,
        highlight,
        (_("participants"), _("residents")),
    )
