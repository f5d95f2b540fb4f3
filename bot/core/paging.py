"""Long lists in pages: a count ("1–8 of 57") and Previous / Next buttons.

A list may grow without bound (a flood of reports, years of ideas), a message may not: so
every list shows one page, says where it is, and nothing is hidden behind the first page.
Eight items and the two page buttons make ten buttons, which keeps within every platform:
Matrix numbers buttons with ten keycap reactions (one message and ten reactions), Telegram
allows 100 buttons in a keyboard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.events import Button
from bot.core.i18n import _, number

PAGE_SIZE = 8


@dataclass(frozen=True)
class Page:
    """Page `index` (from 0) of `total` items, `size` to a page."""

    index: int
    total: int
    size: int = PAGE_SIZE

    @classmethod
    def at(cls, index: int, total: int, size: int = PAGE_SIZE) -> Page:
        """The page asked for, or the last one when the list has shrunk since."""
        last = max(0, (total - 1) // size)
        return cls(min(max(index, 0), last), total, size)

    @property
    def offset(self) -> int:
        return self.index * self.size

    @property
    def has_previous(self) -> bool:
        return self.index > 0

    @property
    def has_next(self) -> bool:
        return self.offset + self.size < self.total

    def counter(self) -> str:
        """ "1–8 of 57": which items this page shows."""
        first = min(self.offset + 1, self.total)
        last = min(self.offset + self.size, self.total)
        return _("{first}–{last} of {total}").format(
            first=number(first), last=number(last), total=number(self.total)
        )

    def buttons(self, data: Callable[[int], str]) -> tuple[Button, ...]:
        """Previous and Next, where there is such a page; `data(index)` is their button data."""
        found = []
        if self.has_previous:
            found.append(Button(_("◀ Previous"), data(self.index - 1)))
        if self.has_next:
            found.append(Button(_("Next ▶"), data(self.index + 1)))
        return tuple(found)
