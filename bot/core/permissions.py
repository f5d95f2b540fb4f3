"""Permission checks as plain functions and values, tested without I/O.

`Actor` is who presses a button or types a command, as the services' checks need it:
whoever presses controls the button's data, so each kind of object has one place that
answers "may this actor act on it now?" (`bot.services.polls.may_take_part`,
`bot.services.signals.access`, `bot.services.budget.access`, …).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.events import ChatRef


def can_coordinate(coordinated: list[int], neighbourhood_id: int | None) -> bool:
    return neighbourhood_id is not None and neighbourhood_id in coordinated


@dataclass(frozen=True)
class Actor:
    """A person (None: nobody we know yet), what they coordinate, and the chat they act in."""

    person_id: int | None
    coordinator_of: tuple[int, ...]
    chat: ChatRef

    @property
    def in_group(self) -> bool:
        return self.chat.kind == "group"

    def coordinates(self, neighbourhood_id: int | None) -> bool:
        return can_coordinate(list(self.coordinator_of), neighbourhood_id)
