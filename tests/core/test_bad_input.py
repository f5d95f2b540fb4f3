"""Bad input gets a clear, kind reply and loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from storage.models import Idea, Signal
from tests.support.fake import Chat, MakeChat

ROOT = Path(__file__).resolve().parents[2]


async def test_right_to_left_and_markup_are_kept_as_written(app: App, make_chat: MakeChat) -> None:
    chat: Chat = make_chat("samira", lang="en")
    await chat.say("/wijk")
    await chat.press("Schalkwijk")
    await chat.say("/idee حديقة للجيران في الحي")
    [done] = await chat.press("Post")
    assert "I-1" in done.text
    await chat.say("/melding")
    await chat.say("<b>Gat</b> in de weg & *heel* diep_ [link](x)")
    await chat.say("Amsterdamstraat \u202eevil")  # a bidi override is dropped, the text kept
    await chat.press("Skip")
    await chat.press("Street or pavement")
    async with app.db.session() as s:
        idea = (await s.exec(select(Idea))).one()
        assert idea.title == "حديقة للجيران في الحي"
        sig = (await s.exec(select(Signal))).one()
        assert sig.text == "<b>Gat</b> in de weg & *heel* diep_ [link](x)"
        assert sig.address == "Amsterdamstraat evil"


async def test_number_where_a_choice_is_expected(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/melding")
    await chat.say("Kapotte bank")
    await chat.say("Reinaldapark")
    await chat.press("Skip")
    [reply] = await chat.say("42")  # there are only 7 buttons
    assert "choose one of the buttons" in reply.text and "Street or pavement" in reply.labels
    [text_instead] = await chat.say("weet ik niet")
    assert "choose one of the buttons" in text_instead.text


async def test_text_where_a_photo_is_expected_and_photo_where_text(make_chat: MakeChat) -> None:
    chat: Chat = make_chat("anna", lang="en")
    await chat.say("/idee")
    [photo] = await chat.photo()
    assert "type your answer as text" in photo.text
    await chat.say("/stop")  # /melding now would ask first whether to stop the idea
    await chat.say("/melding")
    await chat.say("Afval naast de container")
    await chat.say("Europaweg")
    [not_photo] = await chat.say("hier is geen foto")
    assert "Send a photo, or choose Skip" in not_photo.text


def test_run_without_platforms_opens_the_console(tmp_path: Path) -> None:
    env = {**os.environ, "WIJKBOT_DATA_DIR": str(tmp_path)}
    for k in (
        "WIJKBOT_DATABASE_URL",
        "WIJKBOT_TELEGRAM_TOKEN",
        "WIJKBOT_MATRIX_HOMESERVER",
        "WIJKBOT_CONFIG",
    ):
        env.pop(k, None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"], input="/help\n", capture_output=True, text=True,
        env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "No platform is configured: opening the console chat" in done.stdout
    assert "/idee" in done.stdout  # the help text, in Dutch by default
    assert (tmp_path / "wijkbot.db").exists()


@pytest.mark.parametrize("typed", ["²", "¹", "٣", "1" * 5000, "00000000000000000001"])
async def test_numbers_that_are_not_plain_digits_get_a_kind_answer(
    make_chat: MakeChat, typed: str
) -> None:
    """ "²".isdigit() is true, yet int("²") fails; a typed number must never crash a step."""
    chat = make_chat("anna", lang="en")
    await chat.say("/start")
    replies = await chat.say(typed)
    assert replies and all("something went wrong" not in r.text for r in replies)
    again = await chat.say("/help")  # help, then (if still started): go on with it?
    # "٣" is a real 3 to an Arabic keyboard: it may choose the third language (Türkçe), whose
    # help names the Dutch commands; every other typing leaves Anna in English.
    assert ("/idee" if typed == "٣" else "/idea") in again[0].text
