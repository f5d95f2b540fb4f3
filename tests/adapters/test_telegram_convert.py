"""Pure parts of the Telegram adapter: splitting, escaping, deep-link payloads."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from telegram import Update

from bot.adapters.telegram.convert import (
    MAX_MESSAGE,
    as_html,
    split_text,
    start_payload,
    to_incoming,
)
from bot.core.adapter_store import DatabaseAdapterStore


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


def test_token_never_reaches_a_log_line(tmp_path) -> None:
    import io
    import logging

    from bot.adapters.telegram.adapter import TelegramAdapter
    from bot.config import Settings
    from storage.db import Database

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    token = "123456789:AAF-secret-token-value"
    try:
        settings = Settings(data_dir=tmp_path, telegram_token=token)  # type: ignore[arg-type]
        TelegramAdapter(settings, DatabaseAdapterStore(Database(settings.effective_database_url)))
        logging.getLogger("httpx").warning("POST https://api.telegram.org/bot%s/getMe", token)
        logging.getLogger("telegram.ext.Updater").error("failed with %s", token)
    finally:
        root.removeHandler(handler)
    assert token not in stream.getvalue()
    assert stream.getvalue().count("<hidden>") == 2
    assert token not in repr(settings)


def test_keyboards_keep_within_telegrams_limits() -> None:
    """100 buttons a keyboard, 8 a row; long labels cut (a page of a list is far below)."""
    from bot.adapters.telegram.convert import MAX_BUTTONS, MAX_LABEL, MAX_ROW, markup
    from bot.core.events import Button, Reply, keyboard

    many = [Button(f"Steun {i} " + "heel lang " * 10, f"idea:support:{i}") for i in range(150)]
    sent = markup(Reply("Ideeën", keyboard(many[:20], *many[20:])))
    assert sent is not None
    rows = sent.inline_keyboard
    assert sum(len(row) for row in rows) == MAX_BUTTONS
    assert max(len(row) for row in rows) == MAX_ROW and len(rows[0]) == MAX_ROW
    assert all(len(b.text) <= MAX_LABEL for row in rows for b in row)
    assert rows[0][0].text.startswith("Steun 0 heel lang") and rows[0][0].text.endswith("…")
    assert rows[0][0].callback_data == "idea:support:0"


def _joined(from_id: int, members: list[int]) -> Update:
    people = {i: {"id": i, "is_bot": False, "first_name": f"Naam{i}", "last_name": "Achter"}
              for i in {from_id, *members}}  # fmt: skip
    return Update.de_json(
        {
            "update_id": 1,
            "message": {
                "message_id": 5, "date": 0, "chat": {"id": -100, "type": "supergroup", "title": "G"},
                "from": people[from_id], "new_chat_members": [people[i] for i in members],
            },
        },
        None,
    )  # fmt: skip


def test_only_someone_joining_by_themselves_is_a_member_joined_with_a_first_name() -> None:
    event = to_incoming(_joined(7, [7]), "WijkbotTestBot")
    assert event is not None and event.kind == "member_joined"
    assert event.user.id == "7" and event.user.display_name == "Naam7"  # no last name
    assert to_incoming(_joined(7, [8]), "WijkbotTestBot") is None  # added by someone else
    assert to_incoming(_joined(7, [7, 8]), "WijkbotTestBot") is None
