"""Exact amounts: parsing and formatting of the numbers found in Pabulib files.

Costs, budgets and points are kept exact: an ``int`` when the value is whole, otherwise a
``fractions.Fraction``. Floats never enter the data model.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TypeAlias

Number: TypeAlias = int | Fraction
"""An exact amount: a whole number as ``int``, anything else as ``Fraction``."""


def normalise(value: Number) -> Number:
    """Return ``value`` as an ``int`` when it is whole, else as a reduced ``Fraction``."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def parse_amount(text: str) -> Number | None:
    """Parse ``"1500"``, ``"1500.50"``, ``"1500,50"``, ``"3/4"`` or ``"1e3"`` exactly.

    Returns ``None`` when the text is not a finite number (the caller reports the error).
    """
    s = text.strip()
    if s.isascii() and s.isdigit():
        return int(s)
    s = s.replace(",", ".")
    if not s or not s.isascii():
        return None
    try:
        value = Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None
    return normalise(value)


def format_amount(value: Number) -> str:
    """Format an amount so that :func:`parse_amount` reads back the identical value.

    Whole numbers print as integers, terminating fractions as decimals (``"0.25"``), other
    fractions as ``"p/q"``.
    """
    value = normalise(value)
    if isinstance(value, int):
        return str(value)
    num, den = value.numerator, value.denominator
    twos = fives = 0
    rest = den
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return f"{num}/{den}"
    digits = max(twos, fives)
    scaled = abs(num) * 10**digits // den
    sign = "-" if num < 0 else ""
    whole, frac = divmod(scaled, 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"
