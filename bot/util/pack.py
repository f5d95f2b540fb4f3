"""Packing a long text into messages: whole blocks together where they fit, else by lines.

A chat message has a limit (`core.text.MAX_TEXT`); an overview that grows with what a
person did (/mijngegevens) is sent as a few messages instead of one cut off.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.text import MAX_TEXT


def pack(blocks: Iterable[str], limit: int = MAX_TEXT, gap: str = "\n\n") -> list[str]:
    """Join blocks with `gap` into messages of at most `limit` characters.

    A block that does not fit in the current message starts the next one; a block longer
    than `limit` is split between lines (a line longer than `limit`, within it).
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _pieces(block, limit):
            joined = current + gap + piece if current else piece
            if len(joined) <= limit:
                current = joined
                continue
            messages.append(current)
            current = piece
    if current:
        messages.append(current)
    return messages


def _pieces(block: str, limit: int) -> list[str]:
    if len(block) <= limit:
        return [block] if block else []
    pieces: list[str] = []
    current = ""
    lines = block.split("\n")
    chunks = [line[i : i + limit] for line in lines for i in range(0, max(len(line), 1), limit)]
    for line in chunks:
        joined = current + "\n" + line if current else line
        if len(joined) <= limit:
            current = joined
            continue
        pieces.append(current)
        current = line
    if current:
        pieces.append(current)
    return pieces
