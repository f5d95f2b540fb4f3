"""How a chat app lays out a message, by an independent Unicode Bidirectional Algorithm.

python-bidi wraps the Rust `unicode-bidi` crate (UBA 6.3+, with isolates). A message is
laid out as the apps do: each line is a paragraph, its direction taken from the first
strong letter (Telegram's apps, line by line) or from the first strong letter of the whole
message (Element's `dir="auto"` on the message). In both, what the bot filled in (a
reference, an amount, a date, a command) must read exactly as it does on its own.
"""

from __future__ import annotations

import re

from bidi import get_base_level, get_display

# Invisible direction marks: isolates, embeddings, overrides, LRM, RLM, ALM.
_CONTROLS = re.compile("[\u2066-\u2069\u202a-\u202e\u200e\u200f\u061c]")
_ISOLATED = re.compile("\u2068([^\u2068\u2069]*)\u2069")
# What must keep its own order even where nothing isolated it: M-1001, W-1, /melding (on
# Matrix !melding), € 250.
_TOKENS = re.compile(r"\b[A-Z]{1,2}-\d+\b|(?<!\w)[/!][a-z]+|€\s?\d[\d.,]*|\d[\d.,]*\s?€")


def visible(text: str) -> str:
    return _CONTROLS.sub("", text)


def layouts(message: str) -> list[list[str]]:
    """Per line, the line as shown left to right, in each way an app may choose its direction."""
    whole = "R" if get_base_level(message) % 2 else "L"
    shown = []
    for line in message.split("\n"):
        if not line.strip():
            shown.append([line])
            continue
        own = "R" if get_base_level(line) % 2 else "L"
        shown.append([visible(get_display(line, base_dir=d)) for d in sorted({whole, own})])
    return shown


def filled_in(line: str) -> list[str]:
    """The values of a line that must read in their own order, as typed in logical order."""
    spans = [visible(s) for s in _ISOLATED.findall(line)]
    return [s for s in [*spans, *_TOKENS.findall(visible(line))] if s.strip()]


def out_of_order(message: str, values: tuple[str, ...] = ()) -> list[str]:
    """Each value that does not appear as it reads on its own, with the line as shown;
    `values`: more to check where they occur (a date that nothing isolated)."""
    wrong = []
    for line, shown in zip(message.split("\n"), layouts(message), strict=True):
        extra = [v for v in values if v in visible(line)]
        for value in [*filled_in(line), *extra]:
            alone = visible(get_display(value))
            wrong += [f"{value!r} not intact in {s!r}" for s in shown if alone not in s]
    return wrong
