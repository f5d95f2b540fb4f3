"""Commands: recognising them in typed text (for adapters without native commands), and the
menu entries the help text and the platforms' command menus are built from."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.core.i18n import _, current_locale

_COMMAND = re.compile(
    r"^[/!]([A-Za-z0-9_\u00C0-\u024F]{1,32})(?:@([A-Za-z0-9_]+))?(?=$|[\s:,.;!?])[:,.;!?]*\s*(.*)$",
    re.DOTALL,
)


def parse_command(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """'/idee Meer bankjes' -> ('idee', 'Meer bankjes'); None if not a command for us.

    A command addressed to another bot (`/start@OtherBot`) is not ours.
    """
    m = _COMMAND.match(text.strip())
    if not m:
        return None
    name, target, args = m.group(1), m.group(2), m.group(3) or ""  # "/melding: glas" works too
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    return name.lower(), args.strip()


def addressed_elsewhere(text: str, bot_username: str | None) -> bool:
    """`/start@OtherBot`: a command for another bot in the same group."""
    m = _COMMAND.match(text.strip())
    return bool(m and m.group(2) and bot_username and m.group(2).lower() != bot_username.lower())


@dataclass(frozen=True)
class MenuEntry:
    name: str
    description: str  # a msgid
    audience: Literal["resident", "coordinator"] = "resident"
    in_groups: bool = False
    usage: str = ""  # a msgid with example arguments
    english: str = ""  # the English name, shown to people who chose English (both work)
    values: Callable[[], Mapping[str, object]] | None = None  # fills {…} in the description

    def what(self) -> str:
        """The description in the current language, its placeholders filled."""
        text = _(self.description)
        return text.format(**self.values()) if self.values is not None else text

    def shown(self) -> str:
        """The command's name in the current language: /idee for Dutch, /idea for English."""
        return self.english if self.english and current_locale() == "en" else self.name
