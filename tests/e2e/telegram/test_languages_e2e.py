"""Telegram's command menu in every language of the list, over HTTP against the stand-in."""

from __future__ import annotations

import pytest

from bot.config import LANGUAGES
from bot.core.i18n import translations
from bot.handlers.help import MENU
from tests.e2e.telegram.conftest import RunningBot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("lang", [c for c in LANGUAGES if c not in ("nl", "en")])
async def test_each_language_gets_its_own_menu(tg: RunningBot, lang: str) -> None:
    api = tg.api
    person = api.user(1101, "Zeynep", language_code=lang)
    menu = {
        c["command"]: c["description"]
        for c in api.visible_commands(person, api.private_chat(person))
    }
    assert set(menu) == {e.name for e in MENU}  # the names stay Dutch (English ones work too)
    report = next(e for e in MENU if e.name == "melding")
    assert menu["melding"] == translations(lang).gettext(report.description)
    assert menu["melding"] != report.description  # translated, not the English fallback
    group = api.group(-100600, "Mahalle", creator=person)
    in_group = {c["command"]: c["description"] for c in api.visible_commands(person, group)}
    assert in_group["ideeen"] == menu["ideeen"] and "vergeetmij" not in in_group
