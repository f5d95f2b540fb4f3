"""Text formatting as the Telegram Bot API applies it to outgoing messages.

Follows tdlib's ``parse_html`` (the code behind the Bot API's ``parse_mode="HTML"``, the
only parse mode Wijkbot uses) closely enough that text the real server rejects is rejected
here with the same ``can't parse entities: ...`` description, and text it accepts comes
back as plain text plus ``MessageEntity`` dicts with UTF-16 offsets. Other parse modes are
refused as unsupported: the stand-in plays what the bot needs, no more.

Also detects the entities Telegram adds by itself (``bot_command``, ``mention``,
``hashtag``, ``url``) in user and bot messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EntityParseError",
    "FormattedText",
    "detect_entities",
    "format_text",
    "parse_html",
    "utf16_len",
]

JSONDict = dict[str, Any]

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_HTML = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
}
# tdlib's MessageEntity::Type names, used in MarkdownV2 error messages.
_TD_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


class EntityParseError(ValueError):
    """Text rejected by the entity parser; ``str(exc)`` is tdlib's message."""


@dataclass
class FormattedText:
    """Plain text plus Bot API ``MessageEntity`` dicts (offsets in UTF-16 code units)."""

    text: str
    entities: list[JSONDict] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of entity offsets."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


_PLAIN_RUN = re.compile(r"[^<&]+")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _sort_entities(entities: list[JSONDict]) -> list[JSONDict]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))


def _checked_link(url: str) -> str | None:
    """Rough equivalent of tdlib's ``LinkManager::get_checked_link``: '' means drop."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    lowered = url.lower()
    if lowered.startswith(("http://", "https://", "tg://", "ton://", "ftp://")):
        return url
    if "://" in url or lowered.startswith(("javascript:", "data:")):
        return None
    if re.match(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+([/?#].*)?$", url):
        return "http://" + url
    return None


def _link_entity(
    offset: int, length: int, url: str, users: Mapping[int, JSONDict] | None
) -> JSONDict | None:
    match = re.fullmatch(r"tg://user\?id=(\d+)", url.strip())
    if match:
        user = (users or {}).get(int(match.group(1)))
        if user is None:
            return None
        return {"offset": offset, "length": length, "type": "text_mention", "user": user}
    checked = _checked_link(url)
    if checked is None:
        return None
    return {"offset": offset, "length": length, "type": "text_link", "url": checked}


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """tdlib's ``decode_html_entity``: only &lt; &gt; &amp; &quot; and numeric references."""
    end = pos + 1
    n = len(text)
    if end < n and text[end] == "#":
        end += 1
        value = 0
        start_digits = end
        if end < n and text[end] == "x":
            end += 1
            start_digits = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                end += 1
            digits = text[start_digits:end]
            value = int(digits, 16) if digits else 0
        else:
            while end < n and text[end].isascii() and text[end].isdigit():
                end += 1
            digits = text[start_digits:end]
            value = int(digits) if digits else 0
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        decoded = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[pos + 1 : end]
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
        if name not in named:
            return None
        decoded = named[name]
    if end < n and text[end] == ";":
        end += 1
    return decoded, end


def parse_html(text: str, users: Mapping[int, JSONDict] | None = None) -> FormattedText:
    """Parse Bot API HTML; raise :class:`EntityParseError` like Telegram does."""
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    def is_space(ch: str) -> bool:
        return ch in " \t\r\n\f\v"

    out: list[str] = []
    utf16 = 0
    entities: list[JSONDict] = []
    # (tag name, attributes, utf16 offset, index into `out`)
    stack: list[tuple[str, dict[str, str], int, int]] = []
    i = 0
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                utf16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if ch != "<":
            # A run of plain text at once (up to the next tag or entity).
            run = _PLAIN_RUN.match(text, i + 1)
            end = run.end() if run is not None else i + 1
            out.append(text[i:end])
            utf16 += utf16_len(text[i:end])
            i = end
            continue
        begin = i
        i += 1
        if at(i) != "/":
            while i < n and not is_space(text[i]) and text[i] != ">":
                i += 1
            if i >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            attrs: dict[str, str] = {}
            while at(i) != ">":
                while i < n and is_space(text[i]):
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while i < n and not is_space(text[i]) and text[i] not in "=>":
                    i += 1
                name = text[attr_begin:i]
                if not name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(text, begin)}"
                    )
                while i < n and is_space(text[i]):
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and name.lower() == "expandable":
                        attrs["expandable"] = ""
                        continue
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {_byte_offset(text, begin)}"
                    )
                i += 1
                while i < n and is_space(text[i]):
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                if text[i] not in "'\"":
                    token_begin = i
                    while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if not is_space(at(i)) and at(i) != ">":
                        raise EntityParseError(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                    )
                attrs[name] = value
            if tag == "span" and attrs.get("class") != "tg-spoiler":
                raise EntityParseError(
                    'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            stack.append((tag, attrs, utf16, len(out)))
            i += 1  # skip '>'
            continue

        # end tag
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        while i < n and not is_space(text[i]) and text[i] != ">":
            i += 1
        end_tag = text[begin + 2 : i].lower()
        while i < n and is_space(text[i]):
            i += 1
        if at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        tag, attrs, start, out_index = stack.pop()
        if end_tag and end_tag != tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{tag}>", found "</{end_tag}>"'
            )
        length = utf16 - start
        if length <= 0:
            continue
        entity: JSONDict | None
        if tag in _SIMPLE_HTML:
            entity = {"offset": start, "length": length, "type": _SIMPLE_HTML[tag]}
        elif tag == "span":
            entity = {"offset": start, "length": length, "type": "spoiler"}
        elif tag == "tg-emoji":
            emoji_id = attrs.get("emoji-id", "")
            if not emoji_id.isdigit() or int(emoji_id) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity = {
                "offset": start,
                "length": length,
                "type": "custom_emoji",
                "custom_emoji_id": emoji_id,
            }
        elif tag == "tg-time":
            unix = attrs.get("unix", "")
            if not unix.isdigit():
                raise EntityParseError("Invalid Unix time specified")
            entity = {
                "offset": start,
                "length": length,
                "type": "date_time",
                "unix_time": int(unix),
            }
            if attrs.get("format"):
                entity["date_time_format"] = attrs["format"]
        elif tag == "a":
            url = attrs.get("href") or "".join(out[out_index:])
            entity = _link_entity(start, length, url, users)
        elif tag == "pre":
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "code"
                and last["offset"] == start
                and last["length"] == length
                and last.get("language")
            ):
                last["type"] = "pre"
                continue
            entity = {"offset": start, "length": length, "type": "pre"}
        elif tag == "code":
            language = attrs.get("class", "")
            language = language[9:] if language.startswith("language-") else ""
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "pre"
                and last["offset"] == start
                and last["length"] == length
                and language
            ):
                last["language"] = language
                continue
            entity = {"offset": start, "length": length, "type": "code"}
            if language:
                entity["language"] = language
        else:  # blockquote
            kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
            entity = {"offset": start, "length": length, "type": kind}
        if entity is not None:
            entities.append(entity)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return FormattedText("".join(out), _sort_entities(entities))


_WORD = r"[^\W]"  # letters, digits and underscore (unicode aware)
_BOT_COMMAND_RE = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>@])")
_MENTION_RE = re.compile(r"(?<!\w)@[A-Za-z0-9_]{5,32}(?!\w)")
_HASHTAG_RE = re.compile(r"(?<![\w#])#(?=\w*[^\W\d_])\w{1,256}(?![\w#])")
_URL_RE = re.compile(r"(?<![\w/@])https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def _u16_offset_map(text: str) -> list[int]:
    offsets = [0] * (len(text) + 1)
    total = 0
    for index, ch in enumerate(text):
        offsets[index] = total
        total += 2 if ord(ch) > 0xFFFF else 1
    offsets[len(text)] = total
    return offsets


def detect_entities(text: str) -> list[JSONDict]:
    """Entities Telegram finds by itself: bot_command, mention, hashtag and url."""
    spans = [
        (kind, match.span())
        for kind, regex in (
            ("bot_command", _BOT_COMMAND_RE),
            ("mention", _MENTION_RE),
            ("hashtag", _HASHTAG_RE),
            ("url", _URL_RE),
        )
        for match in regex.finditer(text)
    ]
    if not spans:
        return []
    u16 = range(len(text) + 1) if text.isascii() else _u16_offset_map(text)
    found: list[JSONDict] = [
        {"offset": u16[start], "length": u16[end] - u16[start], "type": kind}
        for kind, (start, end) in spans
    ]
    # keep only non-intersecting ones, first come first served (like tdlib)
    found = _sort_entities(found)
    kept: list[JSONDict] = []
    last_end = 0
    for entity in found:
        if entity["offset"] >= last_end:
            kept.append(entity)
            last_end = entity["offset"] + entity["length"]
    return kept


_BLOCKING_TYPES = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})


def _trim(formatted: FormattedText) -> FormattedText:
    """Telegram strips leading and trailing whitespace from message texts."""
    stripped = formatted.text.strip(" \t\r\n")
    if stripped == formatted.text:
        return formatted
    lead_chars = len(formatted.text) - len(formatted.text.lstrip(" \t\r\n"))
    lead = utf16_len(formatted.text[:lead_chars])
    total = utf16_len(stripped)
    entities: list[JSONDict] = []
    for entity in formatted.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(stripped, entities)


def format_text(
    text: str,
    parse_mode: str | None = None,
    entities: list[JSONDict] | None = None,
    users: Mapping[int, JSONDict] | None = None,
) -> FormattedText:
    """Apply ``parse_mode`` (or explicit ``entities``), trim, and add detected entities.

    Raises :class:`EntityParseError` (without the ``Bad Request: can't parse entities:``
    prefix) or :class:`ValueError` for an unknown parse mode.
    """
    if entities is not None:
        formatted = FormattedText(text, [dict(e) for e in entities])
    elif parse_mode is None or parse_mode == "":
        formatted = FormattedText(text, [])
    else:
        mode = parse_mode.lower()
        if mode == "html":
            formatted = parse_html(text, users)
        else:
            raise ValueError(f"unsupported parse_mode {parse_mode!r}")
    formatted = _trim(formatted)
    blocking = [e for e in formatted.entities if e["type"] in _BLOCKING_TYPES]
    extra = [
        d
        for d in detect_entities(formatted.text)
        if not any(
            d["offset"] < b["offset"] + b["length"] and b["offset"] < d["offset"] + d["length"]
            for b in blocking
        )
    ]
    formatted.entities = _sort_entities(formatted.entities + extra)
    return formatted
