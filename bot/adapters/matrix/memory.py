"""What the Matrix adapter remembers of its own messages during one run.

Kept in memory only, and bounded. A reaction on a message from before a restart: the
outbox's copy gives its buttons when the outbox sent it (`Inbound.recall`); otherwise it
is fed as the typed digit, and the core maps that to the buttons it last offered.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.core.events import Button

SIZE = 2000


class SentMessages:
    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._buttons: OrderedDict[str, list[Button]] = OrderedDict()  # ours -> numbered buttons
        self._reactions: dict[str, list[str]] = {}  # ours -> our keycap reaction event ids
        self._pressed: OrderedDict[str, tuple[str, int]] = OrderedDict()  # theirs -> (ours, i)

    def remember(self, event_id: str, buttons: list[Button]) -> None:
        self._buttons[event_id] = list(buttons)
        self._buttons.move_to_end(event_id)
        while len(self._buttons) > self.size:
            old, _buttons = self._buttons.popitem(last=False)
            self._reactions.pop(old, None)

    def knows(self, event_id: str) -> bool:
        return event_id in self._buttons

    def buttons(self, event_id: str) -> list[Button]:
        return self._buttons.get(event_id, [])

    def reactions(self, event_id: str) -> list[str]:
        """Our reactions under our message (the list is updated in place)."""
        return self._reactions.setdefault(event_id, [])

    def pressed(self, reaction_id: str, event_id: str, index: int) -> None:
        self._pressed[reaction_id] = (event_id, index)
        while len(self._pressed) > self.size:
            self._pressed.popitem(last=False)

    def taken_back(self, reaction_id: str) -> tuple[str, int] | None:
        """The press a redacted reaction had made, if it was one (also when a sync is
        processed again: the inbox keeps the second press once)."""
        return self._pressed.get(reaction_id)
