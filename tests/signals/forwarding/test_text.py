"""Property tests for the text helpers: any input gives a valid description or text."""

from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.signals.channels.base import compose, trim
from bot.services.signals.channels.email import message_id
from bot.services.signals.channels.open311 import DESCRIPTION_LIMIT, description, plain_text
from tests.signals.forwarding.conftest import SAMPLE

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
html_like = st.lists(
    st.one_of(
        st.text(),
        st.sampled_from(["<b>", "</b>", "<p>", "<br/>", "<script>x</script>", "&amp;", "&lt;",
                         "<!-- c -->", "<a href='x'>", "<", ">", "&#60;", "\r\n", "\x00"]),
    ),
    max_size=30,
).map("".join)  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(text=html_like, address=st.none() | html_like, repeat=st.integers(1, 300))
def test_any_text_gives_a_valid_open311_description(
    text: str, address: str | None, repeat: int
) -> None:
    signal = replace(SAMPLE, text=text * repeat, address=address)
    for with_address in (True, False):
        result = description(signal, with_address=with_address)
        assert 0 < len(result) <= DESCRIPTION_LIMIT
        assert "<" not in result and ">" not in result
        assert not CONTROL.search(result) and "\r" not in result
        assert result.endswith("melding M-1042.")


@given(st.text())
def test_plain_text_has_no_tags(text: str) -> None:
    result = plain_text(text)
    assert "<" not in result and ">" not in result


@given(text=st.text(), limit=st.integers(0, 200))
def test_trim_respects_the_limit(text: str, limit: int) -> None:
    result = trim(text, limit)
    assert len(result) <= limit
    if len(text) <= limit:
        assert result == text


@given(body=st.text(), suffix=st.text(max_size=50), limit=st.integers(60, 500))
def test_compose_keeps_the_suffix(body: str, suffix: str, limit: int) -> None:
    result = compose(body, suffix, limit)
    assert len(result) <= limit
    assert result.endswith(suffix.rstrip())


@given(st.text(min_size=1))
def test_message_ids_are_well_formed(key: str) -> None:
    value = message_id(key, "wijkbot@wijk.example.nl")
    assert re.fullmatch(r"<wijkbot\.[A-Za-z0-9][A-Za-z0-9._-]*@wijk\.example\.nl>", value)
    assert ".." not in value and ".@" not in value
