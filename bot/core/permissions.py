"""Permission checks as plain functions, tested without I/O."""

from __future__ import annotations


def can_coordinate(coordinated: list[int], neighbourhood_id: int | None) -> bool:
    return neighbourhood_id is not None and neighbourhood_id in coordinated
