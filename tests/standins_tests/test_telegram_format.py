"""Entity parsing of the Telegram stand-in (HTML, the parse mode the bot uses; auto-detection)."""

from __future__ import annotations

import html

import pytest

from tests.standins.telegram_format import (
    EntityParseError,
    detect_entities,
    format_text,
    utf16_len,
)


def spans(text: str, mode: str | None) -> tuple[str, list[tuple[str, int, int]]]:
    result = format_text(text, mode)
    return result.text, [(e["type"], e["offset"], e["length"]) for e in result.entities]


def test_html_tags_nesting_and_case() -> None:
    assert spans("<b>vet <i>beide</i></b> <U>o</U>", "HTML") == (
        "vet beide o",
        [("bold", 0, 9), ("italic", 4, 5), ("underline", 10, 1)],
    )


def test_html_entities_like_html_escape_produces() -> None:
    raw = 'Jan\'s <idee> & "plan"'
    assert format_text(html.escape(raw), "HTML").text == raw
    # unknown named entities and a bare '>' stay literal, as in tdlib
    assert format_text("&foo; a > b", "HTML").text == "&foo; a > b"


def test_html_pre_code_language_and_blockquote() -> None:
    pre = format_text('<pre><code class="language-python">x = 1</code></pre>', "HTML")
    assert pre.entities == [{"offset": 0, "length": 5, "type": "pre", "language": "python"}]
    quote = format_text("<blockquote expandable>lang verhaal</blockquote>", "HTML")
    assert quote.entities[0]["type"] == "expandable_blockquote"
    spoiler = format_text('<span class="tg-spoiler">s</span>', "HTML")
    assert spoiler.entities[0]["type"] == "spoiler"


def test_html_links() -> None:
    link = format_text('<a href="https://wijk.example/?a=1&amp;b=2">hier</a>', "HTML")
    assert link.entities == [
        {"offset": 0, "length": 4, "type": "text_link", "url": "https://wijk.example/?a=1&b=2"}
    ]
    users = {7: {"id": 7, "is_bot": False, "first_name": "Bob"}}
    mention = format_text('<a href="tg://user?id=7">Bob</a>', "HTML", users=users)
    assert mention.entities[0]["type"] == "text_mention"
    assert mention.entities[0]["user"]["id"] == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b>x</b></b>", "Unexpected end tag at byte offset 8"),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("ü<script>", 'Unsupported start tag "script" at byte offset 2'),
    ],
)
def test_html_errors(text: str, message: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        format_text(text, "HTML")
    assert str(caught.value) == message


def test_unknown_parse_mode_and_trimming() -> None:
    with pytest.raises(ValueError, match="unsupported parse_mode"):
        format_text("x", "MarkdownV2")  # real Telegram knows it; the bot never uses it
    assert spans("  <b>hoi</b>\n", "HTML") == ("hoi", [("bold", 0, 3)])


def test_detected_entities_and_utf16_offsets() -> None:
    text = "🏠 /start@WijkbotTestBot @buurman #wijkfeest https://wijk.example/a."
    found = [(e["type"], e["offset"], e["length"]) for e in detect_entities(text)]
    assert found == [
        ("bot_command", 3, 21),
        ("mention", 25, 8),
        ("hashtag", 34, 10),
        ("url", 45, 22),
    ]
    assert utf16_len("🏠") == 2
    assert detect_entities("a/b and /x@ab") == []  # no word before '/', bot name >= 3 chars
    # auto-detected entities do not intrude into code
    assert spans("<code>/start</code>", "HTML") == ("/start", [("code", 0, 6)])
