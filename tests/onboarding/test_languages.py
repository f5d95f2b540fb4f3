"""Six languages: /taal offers each named in itself, the platform's hint picks the first one,
and a right-to-left message keeps its references in order (bidi isolation)."""

from __future__ import annotations

import gettext
import io
from datetime import UTC, datetime

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from bot.adapters.matrix.render import bang_commands
from bot.config import LANGUAGES
from bot.core import i18n
from bot.core.i18n import FSI, PDI, translations
from bot.services.budget.text import euros
from tests.support.fake import MakeChat

SWITCHED = "From now on I will write to you in English."
GREETING = "Hi! I am Wijkbot, the chat helper of your neighbourhood platform."


def test_the_language_list_names_each_language_in_itself() -> None:
    assert LANGUAGES["nl"] == "Nederlands" and LANGUAGES["en"] == "English"
    assert LANGUAGES["tr"] == "Türkçe" and LANGUAGES["pl"] == "Polski"


async def test_taal_offers_every_language_and_switches(make_chat: MakeChat) -> None:
    chat = make_chat("anna")
    [question] = await chat.say("/taal")
    assert question.labels[: len(LANGUAGES)] == list(LANGUAGES.values())
    for code, name in reversed(LANGUAGES.items()):
        [reply] = await chat.press(name)
        assert reply.text == translations(code).gettext(SWITCHED)
        if code not in ("nl", "en"):
            assert reply.text != SWITCHED  # really translated, not the English fallback
        await chat.say("/taal")


@pytest.mark.parametrize(
    ("hint", "lang"), [("pl-PL", "pl"), ("tr", "tr"), ("fy", "nl"), (None, "nl")]
)
async def test_the_platform_language_picks_the_first_language(
    make_chat: MakeChat, hint: str | None, lang: str
) -> None:
    chat = make_chat("bram", lang=hint)
    [hello] = await chat.say("/start")
    assert hello.text.startswith(translations(lang).gettext(GREETING))


def _tiny_arabic() -> gettext.GNUTranslations:
    catalog = Catalog(locale="ar")
    catalog.add("Your neighbourhood is now {name}.", "حيّك الآن هو {name}.")
    catalog.add("Your report has number {ref}.", "رقم بلاغك هو {ref}.")
    catalog.add("Budget: {amount}, closes {when}.", "الميزانية: {amount}، تغلق {when}.")
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@pytest.fixture
def arabic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Arabic with a three-message catalog, until the real one lands."""
    tiny, real = _tiny_arabic(), i18n.translations
    monkeypatch.setitem(LANGUAGES, "ar", "العربية")
    monkeypatch.setattr(i18n, "translations", lambda code: tiny if code == "ar" else real(code))


@pytest.mark.usefixtures("arabic")
async def test_right_to_left_messages_isolate_what_they_fill_in(make_chat: MakeChat) -> None:
    chat = make_chat("samira", lang="ar")
    await chat.say("/taal ar")
    await chat.say("/wijk")
    [reply] = await chat.say("Schalkwijk")
    assert reply.text == f"حيّك الآن هو {FSI}Schalkwijk{PDI}."
    with i18n.use_locale("ar"):
        ref = i18n._("Your report has number {ref}.").format(ref="M-1001")
        amount, moment = euros(42000), i18n.when(datetime(2026, 12, 5, 13, tzinfo=UTC))
        money = i18n._("Budget: {amount}, closes {when}.").format(amount=amount, when=moment)
    assert ref == f"رقم بلاغك هو {FSI}M-1001{PDI}."
    assert money == f"الميزانية: {FSI}{amount}{PDI}، تغلق {FSI}{moment}{PDI}."
    assert amount == "42,000\xa0€" and "ديسمبر" in moment  # Babel's Arabic data
    # Left-to-right languages are left exactly as they were.
    with i18n.use_locale("en"):
        assert i18n._("Your report has number {ref}.").format(ref="M-1001") == (
            "Your report has number M-1001."
        )


async def test_a_command_keeps_its_slash_in_right_to_left_text(make_chat: MakeChat) -> None:
    """ "/{command}" in Arabic: the slash is isolated with the name, so it stays in front, and
    Matrix still turns it into "!idee" (it looked for a slash followed by a letter)."""
    chat = make_chat("samira", lang="ar")
    await chat.say("/taal ar")
    await chat.say("/melding")
    [ask] = await chat.say("/idee")  # in the middle of a report: stop it and go to /idee?
    labels = ask.labels
    assert any(f"{FSI}/idee{PDI}" in label for label in labels), labels
    assert not any(f"/{FSI}" in label for label in labels), labels
    on_matrix = bang_commands(next(label for label in labels if "idee" in label))
    assert f"{FSI}!idee{PDI}" in on_matrix


@pytest.mark.parametrize(
    ("lang", "shown"),
    [("nl", "€42.000"), ("en", "€42,000"), ("tr", "€42.000"), ("pl", "42\xa0000\xa0€")],
)
def test_amounts_follow_each_languages_own_habit(lang: str, shown: str) -> None:
    with i18n.use_locale(lang):
        assert euros(42000) == shown


def test_the_default_language_must_be_one_of_the_list() -> None:
    from pydantic import ValidationError

    from bot.config import Settings

    assert Settings(default_locale="pl").default_locale == "pl"
    with pytest.raises(ValidationError, match="choose one of nl, en"):
        Settings(default_locale="fy")
