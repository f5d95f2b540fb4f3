"""Pure parts of the Telegram adapter: splitting, escaping, deep-link payloads."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.telegram_convert import MAX_MESSAGE, as_html, split_text, start_payload


def test_split_prefers_line_breaks() -> None:
    text = "\n".join(f"regel {i} " + "x" * 90 for i in range(100))
    parts = split_text(text)
    assert len(parts) > 1 and all(len(p) <= MAX_MESSAGE for p in parts)
    assert all(p.startswith("regel") for p in parts)  # no line cut in half
    assert "\n".join(parts) == text


@given(st.text(min_size=1, max_size=12000))
def test_split_keeps_every_word(text: str) -> None:
    parts = split_text(text)
    assert all(len(p) <= MAX_MESSAGE for p in parts)
    # Only white space at the cuts may go; every other character stays, in order.
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_html_escaping() -> None:
    assert as_html("<b>a</b> & b") == "&lt;b&gt;a&lt;/b&gt; &amp; b"


def test_deep_link_payload_is_safe() -> None:
    assert start_payload("melding-schalkwijk") == "melding-schalkwijk"
    assert start_payload("idee indische buurt!") == "idee-indische-buurt-"
    assert len(start_payload("x" * 100)) == 64
