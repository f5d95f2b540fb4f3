"""Replies as Matrix message content, and the small parsers the Matrix adapter needs.

Pure functions, no I/O: a reply becomes a plain `body` plus sanitised HTML; buttons
become a numbered list the bot decorates with keycap reactions (1️⃣ … 🔟).
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot.core.events import Button, Location, Reply

HTML_FORMAT = "org.matrix.custom.html"
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
_KEYCAP_INDEX = {k.replace("\ufe0f", ""): i for i, k in enumerate(KEYCAPS)}
_SAFE_SCHEMES = ("https://", "http://", "mailto:")
# "/help" in the core's texts: Element intercepts unknown slash commands, so on Matrix we
# tell people to type "!help". Only a whole word after a space or an opening bracket.
# A command may stand in right-to-left isolation (U+2068 … U+2069, bot/core/i18n.py).
_SLASH_COMMAND = re.compile(
    r"(?<![^\s(\"'“‘«\u2068])/([a-z][a-z0-9_]{1,31})(?=$|[\s.,;:!?)\"'”’»\u2069])"
)
_GEO = re.compile(r"^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)(?:,-?\d+(?:\.\d+)?)?(?:;.*)?$")


def bang_commands(text: str) -> str:
    """'/help' -> '!help' in text for people (URLs and paths are left alone)."""
    return _SLASH_COMMAND.sub(r"!\1", text)


def numbered_buttons(reply: Reply) -> list[Button]:
    """The buttons people choose by number or reaction (link buttons are shown as links)."""
    return [b for b in reply.flat_buttons() if b.url is None]


def render(reply: Reply) -> dict[str, Any]:
    """`m.text` content with a plain body and HTML; buttons as a numbered list."""
    text = bang_commands(reply.text)
    choices = numbered_buttons(reply)
    links = [b for b in reply.flat_buttons() if b.url is not None]
    plain = [text]
    rich = _html_text(text)
    if choices:  # in a step that expects text, "1" is text: the buttons are not numbered
        lines = [
            f"{f'{i}.' if reply.numbered else '-'} {bang_commands(b.label)}"
            for i, b in enumerate(choices, 1)
        ]
        plain.append("\n".join(lines))
        items = "".join(f"<li>{_html_text(bang_commands(b.label))}</li>" for b in choices)
        rich += f"<ol>{items}</ol>" if reply.numbered else f"<ul>{items}</ul>"
    for b in links:
        assert b.url is not None
        plain.append(f"{b.label}: {b.url}")
        if b.url.startswith(_SAFE_SCHEMES):
            href = html.escape(b.url, quote=True)
            rich += f'<br><a href="{href}">{_html_text(b.label)}</a>'
        else:
            rich += "<br>" + _html_text(f"{b.label}: {b.url}")
    body = "\n\n".join(p for p in plain if p)
    return {"msgtype": "m.text", "body": body, "format": HTML_FORMAT, "formatted_body": rich}


POLL_START = "org.matrix.msc3381.poll.start"
POLL_END = "org.matrix.msc3381.poll.end"
_TEXT = "org.matrix.msc1767.text"


def poll_content(reply: Reply) -> dict[str, Any]:
    """An MSC3381 poll start event; the rendered reply is the fallback for other clients.

    Answer ids are the buttons' data, so a poll answer names the same choice as a button.
    """
    poll = reply.poll
    assert poll is not None
    fallback = render(reply)
    kind = "disclosed" if poll.disclosed else "undisclosed"
    return {
        POLL_START: {
            "question": {_TEXT: poll.question, "body": poll.question, "msgtype": "m.text"},
            "kind": f"org.matrix.msc3381.poll.{kind}",
            "max_selections": len(poll.options) if poll.multiple else 1,
            "answers": [
                {"id": answer_id, _TEXT: label}
                for answer_id, label in zip(poll.answer_ids, poll.options, strict=True)
            ],
        },
        _TEXT: fallback["body"],
        "body": fallback["body"],
    }


def poll_end_content(start_event_id: str, results: str) -> dict[str, Any]:
    """An MSC3381 poll end event: clients stop taking answers. Its text fallback is the first
    line of our results (the full results, counted over every chat, follow as a message)."""
    first = results.split("\n", 1)[0]
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
        POLL_END: {},
        _TEXT: first,
        "body": first,
    }


def edit_content(event_id: str, new: dict[str, Any]) -> dict[str, Any]:
    """An `m.replace` edit; the outer body is the fallback for clients without edits."""
    return {
        "msgtype": new["msgtype"],
        "body": "* " + new["body"],
        "format": HTML_FORMAT,
        "formatted_body": "* " + new["formatted_body"],
        "m.new_content": new,
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
    }


def reaction_content(event_id: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}


def _html_text(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br>")


def keycap_index(key: str) -> int | None:
    """0 for 1️⃣ … 9 for 🔟, with or without the emoji variation selector; else None."""
    return _KEYCAP_INDEX.get(key.strip().replace("\ufe0f", ""))


def parse_geo_uri(uri: str) -> Location | None:
    """'geo:52.381,4.637;u=35' -> Location(52.381, 4.637); None when unusable."""
    m = _GEO.match(uri.strip())
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return Location(lat, lon)


def strip_reply_fallback(body: str) -> str:
    """Drop the '> <@user> quoted text' lines clients put before a reply's own text."""
    lines = body.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    if i == 0:
        return body
    while i < len(lines) and not lines[i].strip():
        i += 1
    return "\n".join(lines[i:])


def strip_mention(text: str, names: list[str]) -> str:
    """'Wijkbot: !koppel Schalkwijk' -> '!koppel Schalkwijk' (a mention of the bot first)."""
    stripped = text.lstrip()
    lowered = stripped.lower()
    for name in sorted((n for n in names if n), key=len, reverse=True):
        if lowered.startswith(name.lower()):
            rest = stripped[len(name) :]
            if rest[:1] in (":", ",") or (rest[:1].isspace() and rest.lstrip()[:1] in "!/"):
                return rest[1:].lstrip() if rest[:1] in (":", ",") else rest.lstrip()
    return text
