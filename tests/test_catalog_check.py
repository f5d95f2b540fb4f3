"""`tools/i18n.py check` catches translations that would show people broken text."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog

from tests.conftest import ROOT


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "tools" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("i18n_tool", module)
    spec.loader.exec_module(module)
    return module


def _catalog(*pairs: tuple[str | tuple[str, str], str | tuple[str, str]]) -> Catalog:
    catalog = Catalog(locale="nl")
    for msgid, msgstr in pairs:
        catalog.add(msgid, msgstr)
    return catalog


def test_a_placeholder_lost_or_renamed_in_translation_is_found() -> None:
    found = _tool().translation_problems(
        "nl",
        _catalog(
            ("You voted {n} times.", "Je hebt {aantal} keer gestemd."),
            ("Saved as {ref}.", "Opgeslagen."),
            (("{n} vote", "{n} votes"), ("{n} stem", "{n} stemmen")),
            (("{n} point", "{n} points"), ("{n} punt", "{count} punten")),
            ("Hello {name}.", "Hallo {name}."),
        ),
    )
    assert len(found) == 3, found
    assert all("placeholders differ" in f for f in found)
    assert any("You voted" in f and "{aantal}" in f for f in found)
    assert any("Saved as" in f and "{ref}" in f for f in found)
    assert any("{n} point" in f for f in found)


def test_two_translations_glued_together_are_found() -> None:
    glued = (
        "That message is too long ({count} characters). Keep it under {limit} characters.",
        "Dat is lang voor een titel ({count} tekens). Gebruik minder dan {limit} tekens."
        "Dat bericht is te lang ({count} tekens). Gebruik minder dan {limit} tekens.",
    )
    found = _tool().translation_problems("nl", _catalog(glued))
    assert found and "glued" in found[0]


def test_the_real_catalogs_pass() -> None:
    assert _tool().problems() == []


def test_english_shows_english_command_names() -> None:
    """Someone who chose English reads /vote, not /stem; a stale English catalog is caught."""
    tool = _tool()
    assert tool.in_english("Type /stem, or /ideeen; see /wijkbudget.", tool.english_commands()) == (
        "Type /vote, or /ideas; see /budget."
    )
    assert tool.in_english("https://example.org/stem and 1/2", {"stem": "vote"}) == (
        "https://example.org/stem and 1/2"  # a path or a fraction is not a command
    )
    catalog = Catalog(locale="en")
    catalog.add("Send me a direct message with /stem.", "Send me a direct message with /stem.")
    found = tool.translation_problems("en", catalog)
    assert found and "not the English" in found[0]


def test_a_percent_placeholder_lost_in_translation_is_found() -> None:
    found = _tool().translation_problems(
        "pl",
        _catalog(
            ("%(count)s people came.", "Przyszło %(liczba)s osób."),
            ("%(name)s said hi.", "%(name)s się przywitał."),
            ("100% sure.", "Na 100% pewne."),
        ),
    )
    assert len(found) == 1, found
    assert "placeholders differ" in found[0] and "%(liczba)s" in found[0]


def test_a_fuzzy_entry_or_a_missing_plural_form_is_found() -> None:
    catalog = Catalog(locale="pl")  # Polish has three plural forms
    catalog.add("Saved.", "Zapisano.", flags=["fuzzy"])
    catalog.add(("{n} vote", "{n} votes"), ("{n} głos", "{n} głosy"))
    catalog.add(("{n} idea", "{n} ideas"), ("{n} pomysł", "{n} pomysły", "{n} pomysłów"))
    found = _tool().translation_problems("pl", catalog)
    assert len(found) == 2, found
    assert any("untranslated 'Saved.'" in f for f in found)
    assert any("{n} vote" in f and "3 plural forms" in f for f in found)


def test_every_language_in_the_list_needs_a_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    tool = _tool()
    monkeypatch.setattr(tool, "LANGS", (*tool.LANGS, "fy"))  # listed, but no catalog yet
    found = tool.problems()
    assert "fy: no catalog locales/fy/LC_MESSAGES/wijkbot.po" in found


def test_the_language_list_is_the_source_of_truth() -> None:
    from bot.config import LANGUAGES

    assert tuple(LANGUAGES) == _tool().LANGS
    assert {"nl", "en", "tr", "pl"} <= set(LANGUAGES)
