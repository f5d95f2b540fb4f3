"""Dialog states: named steps declared in a `StatesGroup`, the way aiogram declares them.

They live apart from the router so that dialog storage and the context need not import it.
"""

from __future__ import annotations


class State:
    """A named step of a dialog; declared inside a `StatesGroup` subclass."""

    name: str

    def __init__(self, name: str | None = None) -> None:
        if name:
            self.name = name

    def __set_name__(self, owner: type, attr: str) -> None:
        if not hasattr(self, "name"):
            self.name = f"{owner.__name__}.{attr}"

    def __repr__(self) -> str:
        return f"State({self.name!r})"


class StatesGroup:
    @classmethod
    def states(cls) -> list[State]:
        return [v for v in vars(cls).values() if isinstance(v, State)]
