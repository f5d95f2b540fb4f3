"""Dialog states: named steps declared in a `StatesGroup`, the way aiogram declares them.

They live apart from the router so that dialog storage and the context need not import it.
"""

from __future__ import annotations

from typing import ClassVar

from bot.core.i18n import N_

_owners: dict[str, type] = {}


class State:
    """A named step of a dialog; declared inside a `StatesGroup` subclass."""

    name: str

    def __init__(self, name: str | None = None) -> None:
        if name:
            self.name = name

    def __set_name__(self, owner: type, attr: str) -> None:
        if not hasattr(self, "name"):
            self.name = f"{owner.__name__}.{attr}"
        _owners[self.name] = owner

    def __repr__(self) -> str:
        return f"State({self.name!r})"


class StatesGroup:
    """`interrupted` says, in one sentence, what a person in this dialog was doing; None for
    a dialog that holds nothing worth keeping (choosing a setting)."""

    interrupted: ClassVar[str | None] = N_("You were in the middle of something.")

    @classmethod
    def states(cls) -> list[State]:
        return [v for v in vars(cls).values() if isinstance(v, State)]


def interrupted(state: str) -> str | None:
    """The msgid saying what someone in dialog `state` was doing; None if nothing to lose."""
    owner = _owners.get(state)
    return (
        getattr(owner, "interrupted", StatesGroup.interrupted) if owner else StatesGroup.interrupted
    )
