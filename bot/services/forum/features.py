"""What a forum may balance, and the words for it. Age bands follow CBS "Kerncijfers wijken
en buurten" (15–24, 25–44, 45–64, 65+), so population figures fit as quotas."""

from __future__ import annotations

import math

from bot.core.i18n import N_, _
from bot.core.text import whole_number

AGE, AREA, GENDER, YEARS = "age", "area", "gender", "years"
AGE_BANDS = ("15-24", "25-44", "45-64", "65+")
GENDERS = ("woman", "man", "other")
YEARS_HERE = ("0-2", "2-10", "10+")
FIXED: dict[str, tuple[str, ...]] = {AGE: AGE_BANDS, GENDER: GENDERS, YEARS: YEARS_HERE}
ORDER = (AGE, AREA, GENDER, YEARS)

_NAMES = {
    AGE: N_("age"),
    AREA: N_("part of the neighbourhood"),
    GENDER: N_("gender"),
    YEARS: N_("years living here"),
}
_VALUES = {
    "15-24": N_("15–24 years"),
    "25-44": N_("25–44 years"),
    "45-64": N_("45–64 years"),
    "65+": N_("65 or older"),
    "woman": N_("woman"),
    "man": N_("man"),
    "other": N_("other / rather not say"),
    "0-2": N_("less than 2 years"),
    "2-10": N_("2 to 10 years"),
    "10+": N_("more than 10 years"),
}

# {feature: {value: [min, max]}} as stored on a forum
Quotas = dict[str, dict[str, list[int]]]


def feature_name(feature: str) -> str:
    return _(_NAMES[feature]) if feature in _NAMES else feature


def value_label(value: str) -> str:
    """An age band, gender or duration in words; an area is its own name."""
    return _(_VALUES[value]) if value in _VALUES else value


def features_of(quotas: Quotas) -> list[str]:
    return [f for f in ORDER if f in quotas]


def quota_problem(quotas: Quotas, seats: int) -> str | None:
    """Why these quotas cannot work for this many seats, in words; None when they can."""
    for feature in features_of(quotas):
        values = quotas[feature]
        if any(lo < 0 or hi < lo for lo, hi in values.values()):
            return _("For {feature}, a minimum is more than its maximum.").format(
                feature=feature_name(feature)
            )
        low = sum(lo for lo, _hi in values.values())
        high = sum(hi for _lo, hi in values.values())
        if not low <= seats <= high:
            return _(
                "For {feature}, the minimums add up to {low} and the maximums to {high}, "
                "but the forum has {seats} seats."
            ).format(feature=feature_name(feature), low=low, high=high, seats=seats)
    return None


def even_quotas(values: list[str], seats: int) -> dict[str, list[int]]:
    """A starting point for the quotas: an even share per value, with some room each way."""
    share = seats / len(values)
    room = max(1, round(share / 2))
    lo, hi = max(0, round(share) - room), round(share) + room
    return {v: [lo, min(hi, seats)] for v in values}


QUOTA_MOST = 200  # no quota above the most seats a forum may have


def parse_quota(text: str, quotas: Quotas) -> tuple[str, str, int, int] | None:
    """ "65+ 4-8" or "Noord 5-7": (feature, value, min, max) for a value these quotas
    have (its key or its words, any case); None when it does not read."""
    words = text.replace("–", "-").rsplit(None, 1)
    if len(words) != 2:
        return None
    name, span = words[0].strip().casefold(), words[1]
    low, sep, high = span.partition("-")
    lo, hi = whole_number(low, at_most=QUOTA_MOST), whole_number(high, at_most=QUOTA_MOST)
    if not sep or lo is None or hi is None:  # "²" looks like a digit to isdigit, not here
        return None
    for feature in features_of(quotas):
        for value in quotas[feature]:
            if name in (value.casefold(), value_label(value).casefold()):
                return feature, value, lo, hi
    return None


def population_quotas(counts: dict[str, int], seats: int) -> dict[str, list[int]] | None:
    """Age quotas in proportion to the residents per band (one seat of room each way);
    None without figures for every band."""
    if any(counts.get(b, 0) <= 0 for b in AGE_BANDS):
        return None
    total = sum(counts[b] for b in AGE_BANDS)
    quotas = {}
    for band in AGE_BANDS:
        share = seats * counts[band] / total
        quotas[band] = [max(0, math.floor(share) - 1), min(seats, math.ceil(share) + 1)]
    return quotas


def shares_line(counts: dict[str, int]) -> str:
    """ "15–24 years 14 %, …": each band's share of the residents of 15 and older."""
    total = sum(counts.get(b, 0) for b in AGE_BANDS) or 1
    return ", ".join(
        f"{value_label(b)} {round(100 * counts.get(b, 0) / total)} %" for b in AGE_BANDS
    )
