"""/start: welcome, language, neighbourhood, themes to follow; also /taal and /wijk."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from bot.config import LANGUAGES
from bot.core.context import Ctx
from bot.core.drafts import Draft, one_of
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers import contribute
from bot.handlers.common import ask_neighbourhood, guarded, please_choose, read_neighbourhood
from bot.handlers.help import resident_help
from bot.handlers.themes import apply_theme_button, theme_buttons
from storage.models import Neighbourhood
from storage.repo import people

router = Router("start")


class Onboarding(StatesGroup):
    interrupted = N_("You were getting started with me.")
    language = State()
    neighbourhood = State()
    themes = State()


class Welcome(Draft):
    """Getting started: the language picked (if asked), then the neighbourhood chosen."""

    locale: Annotated[str, AfterValidator(one_of(LANGUAGES))] | None = None
    neighbourhood_id: int | None = None


class WelcomeHome(Welcome):
    neighbourhood_id: int


class Settings(StatesGroup):
    interrupted = None
    language = State()
    neighbourhood = State()


@router.command("start")
async def start(ctx: Ctx) -> None:
    if ctx.event.args and await contribute.start_from_link(ctx, ctx.event.args.strip()):
        return
    buttons = language_buttons(ctx, Onboarding.language)
    await ctx.ask(
        _("Hi! I am Wijkbot, the chat helper of your neighbourhood platform.")
        + "\n"
        + _("Which language do you prefer?"),
        Onboarding.language,
        buttons,
    )


def _picked_language(ctx: Ctx) -> str | None:
    if ctx.event.kind == "button" and ctx.event.button_data in LANGUAGES:
        return ctx.event.button_data
    return None


@router.state(Onboarding.language)
async def onboarding_language(ctx: Ctx) -> None:
    code = _picked_language(ctx)
    if code is None:
        await please_choose(ctx, language_buttons(ctx, Onboarding.language))
        return
    ctx.switch_locale(code)
    ctx.dialog.update(locale=code)
    await ask_home(ctx, Onboarding.neighbourhood)


@router.state(Onboarding.neighbourhood)
@guarded("start", Welcome)
async def onboarding_neighbourhood(ctx: Ctx) -> None:
    chosen = await read_home(ctx)
    if chosen is None:
        return
    assert chosen.id is not None
    ctx.dialog.note_saved(N_("Your neighbourhood and themes are kept."))
    ctx.switch_locale(Welcome.of(ctx).locale or ctx.locale)
    text, buttons = await theme_buttons(ctx, Onboarding.themes, chosen.id)
    await ctx.ask(
        _("Welcome to {name}!").format(name=chosen.name)
        + "\n"
        + _("Which themes do you care about? Tap to follow or unfollow, then choose Done.")
        + "\n"
        + text,
        Onboarding.themes,
        [*buttons, ctx.choice(Onboarding.themes, _("Done"), "done")],
        neighbourhood_id=chosen.id,
    )


@router.state(Onboarding.themes)
@guarded("start", WelcomeHome)
async def onboarding_themes(ctx: Ctx) -> None:
    data = ctx.event.button_data if ctx.event.kind == "button" else None
    person = await ctx.ensure_person()
    assert person.id is not None
    if data == "done":
        person.onboarded = True
        ctx.session.add(person)
        ctx.dialog.clear()
        await ctx.edit(_("All set! You can change your themes any time with /themas."))
        await ctx.reply(resident_help())
        return
    hood_id = WelcomeHome.of(ctx).neighbourhood_id
    if data is None or not await apply_theme_button(ctx, data, hood_id):
        await ctx.reply(_("Tap a theme to follow it, or choose Done."))
        return
    text, buttons = await theme_buttons(ctx, Onboarding.themes, hood_id)
    await ctx.edit(
        _("Which themes do you care about? Tap to follow or unfollow, then choose Done.")
        + "\n"
        + text,
        [*buttons, ctx.choice(Onboarding.themes, _("Done"), "done"), ctx.cancel_button()],
    )


@router.command("taal", "language", "lang", while_busy="pause")
async def language(ctx: Ctx) -> None:
    wanted = ctx.event.args.strip().lower()
    if wanted in LANGUAGES:
        await _set_language(ctx, wanted)
        return
    await ctx.ask(
        _("Which language do you prefer?"),
        Settings.language,
        language_buttons(ctx, Settings.language),
    )


@router.state(Settings.language)
async def language_chosen(ctx: Ctx) -> None:
    code = _picked_language(ctx)
    if code is None:
        await please_choose(
            ctx, [ctx.choice(Settings.language, n, c) for c, n in LANGUAGES.items()]
        )
        return
    ctx.dialog.clear()
    await _set_language(ctx, code)


async def _set_language(ctx: Ctx, code: str) -> None:
    await ctx.ensure_person()
    ctx.switch_locale(code)
    await ctx.reply(_("From now on I will write to you in English."))


@router.command("wijk", "buurt", "neighbourhood", while_busy="pause")
async def neighbourhood(ctx: Ctx) -> None:
    await ask_home(ctx, Settings.neighbourhood)


async def ask_home(ctx: Ctx, state: State) -> None:
    question = _("Which neighbourhood do you live in? Choose one, or type its name.")
    await ask_neighbourhood(ctx, state, question)


async def read_home(ctx: Ctx) -> Neighbourhood | None:
    """The neighbourhood picked, made the person's home; None if it was unclear."""
    chosen = await read_neighbourhood(ctx)
    if chosen is None:
        return None
    person = await ctx.ensure_person()
    assert person.id is not None and chosen.id is not None
    await people.set_home(ctx.session, person.id, chosen.id)
    return chosen


@router.state(Settings.neighbourhood)
async def neighbourhood_chosen(ctx: Ctx) -> None:
    chosen = await read_home(ctx)
    if chosen is None:
        return
    ctx.dialog.clear()
    await ctx.reply(_("Your neighbourhood is now {name}.").format(name=chosen.name))


def language_buttons(ctx: Ctx, state: State) -> list[Button]:
    return [ctx.choice(state, name, code) for code, name in LANGUAGES.items()]
