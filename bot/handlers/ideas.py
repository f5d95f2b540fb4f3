"""Ideas: a short dialog or `/idee <text>`; recent ideas with a support button."""

from __future__ import annotations

from pydantic import Field

from bot.core.callbacks import CallbackData
from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.events import Button, keyboard
from bot.core.i18n import N_, _, ngettext, when
from bot.core.paging import Page
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import MAX_TITLE, clean, first_line, has_words, whole_number
from bot.handlers.common import (
    ask_neighbourhood,
    free_at,
    group_neighbourhood,
    guarded,
    home_of,
    please_choose,
    read_neighbourhood,
    read_text,
)
from bot.services.ideas import SupportIdea, idea_ref
from bot.services.initiatives import status_text
from bot.services.offers import help_button
from bot.services.partners import helping_line
from bot.services.quotas import PER_HOUR
from storage.models import Neighbourhood, Theme
from storage.repo import ideas, initiatives, partners, places

router = Router("ideas")
IDEAS_PAGE = 4  # recent ideas first (two buttons each: ten at most); the rest a page further


class IdeaDraft(Draft):
    """An idea being written: a title first, then a description and a theme."""

    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = ""  # its length is checked where it is typed
    theme_id: int | None = None
    neighbourhood_id: int | None = None


class ReadyIdea(IdeaDraft):
    """An idea that knows its neighbourhood: ready to post."""

    neighbourhood_id: int


class IdeaForm(StatesGroup):
    interrupted = N_("You were sharing an idea.")
    title = State()
    body = State()
    theme = State()
    neighbourhood = State()
    confirm = State()
    browse = State()


class IdeasPage(CallbackData, prefix="idp", hint=N_("Type /ideeen to see the ideas again.")):
    """Previous / Next under the ideas of a neighbourhood."""

    hood: int
    page: int


def _too_many() -> str:
    most = PER_HOUR["idea"]
    return (
        ngettext(
            "You have shared {n} idea in the past hour.",
            "You have shared {n} ideas in the past hour.",
            most,
        ).format(n=most)
        + " "
        + _("That is the most for one hour.")
    )


@router.command("idee", "idea", "initiatief")
async def new_idea(ctx: Ctx) -> None:
    text = clean(ctx.event.args)
    if not text and (free := await free_at(ctx, "idea")) is not None:
        await ctx.reply(
            _too_many()
            + " "
            + _("You can share a new idea from {moment}: type /idee then.").format(
                moment=when(free)
            )
        )
        return
    if text:
        if not has_words(text):
            await ctx.reply(
                _("Please describe your idea in a few words, not only symbols or emoji.")
            )
            return
        ctx.dialog.update(title=first_line(text), body=text, theme_id=None)
        await ask_where_or_confirm(ctx)
        return
    await ctx.ask(_("What is your idea? Give it a short title."), IdeaForm.title)


@router.state(IdeaForm.title)
async def idea_title(ctx: Ctx) -> None:
    title = await read_text(ctx, title=True)
    if title is None:
        return
    await ctx.ask(
        _("Tell a bit more: what do you want to do, and who could help?"),
        IdeaForm.body,
        [ctx.choice(IdeaForm.body, _("Skip"), "skip")],
        title=title,
    )


@router.state(IdeaForm.body)
@guarded("idee", IdeaDraft)
async def idea_body(ctx: Ctx) -> None:
    if ctx.event.kind == "button" and ctx.event.button_data == "skip":
        body = ""
    else:
        body = await read_text(ctx) or ""
        if not body:
            return
    ctx.dialog.update(body=body)
    await ctx.ask(
        _("Which theme fits best?"), IdeaForm.theme, theme_buttons(ctx, await _themes(ctx))
    )


async def _themes(ctx: Ctx) -> list[Theme]:
    """The themes of my neighbourhood (only the city-wide ones, if I have none)."""
    home = await home_of(ctx)
    return await places.themes_for(ctx.session, home.id if home else None)


def theme_buttons(ctx: Ctx, themes: list[Theme]) -> list[Button]:
    buttons = [ctx.choice(IdeaForm.theme, t.name_in(ctx.locale), str(t.id)) for t in themes]
    return [*buttons, ctx.choice(IdeaForm.theme, _("No theme"), "none")]


@router.state(IdeaForm.theme)
@guarded("idee", IdeaDraft)
async def idea_theme(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    themes = await _themes(ctx)
    picked = whole_number(value or "")
    if value != "none" and (picked is None or picked not in {t.id for t in themes}):
        await please_choose(ctx, theme_buttons(ctx, themes))  # only a theme the buttons offer
        return
    ctx.dialog.update(theme_id=picked)
    await ask_where_or_confirm(ctx)


async def ask_where_or_confirm(ctx: Ctx) -> None:
    """Ask the neighbourhood only if we don't know it, then say who will see the idea."""
    known = IdeaDraft.of(ctx).neighbourhood_id
    if known is not None:
        hood = await places.neighbourhood(ctx.session, known)
        if hood is not None:
            await ask_confirm(ctx, hood.name)
            return
    home = await home_of(ctx)
    if home is None:
        await ask_neighbourhood(ctx, IdeaForm.neighbourhood)
        return
    ctx.dialog.update(neighbourhood_id=home.id)
    await ask_confirm(ctx, home.name)


async def ask_confirm(ctx: Ctx, neighbourhood_name: str) -> None:
    title = IdeaDraft.of(ctx).title
    await ctx.ask(
        _("Your idea: “{title}”").format(title=title)
        + "\n"
        + _("This idea will be visible to everyone in {name}. Your name is not shown.").format(
            name=neighbourhood_name
        )
        + "\n"
        + _("Shall I post it?"),
        IdeaForm.confirm,
        [ctx.choice(IdeaForm.confirm, _("Post"), "yes")],
    )


@router.state(IdeaForm.neighbourhood)
@guarded("idee", IdeaDraft)
async def idea_neighbourhood(ctx: Ctx) -> None:
    chosen = await read_neighbourhood(ctx)
    if chosen is None:
        return
    ctx.dialog.update(neighbourhood_id=chosen.id)
    await ask_confirm(ctx, chosen.name)


@router.state(IdeaForm.confirm)
@guarded("idee", ReadyIdea)
async def idea_confirm(ctx: Ctx) -> None:
    if not (ctx.event.kind == "button" and ctx.event.button_data == "yes"):
        await please_choose(ctx, [ctx.choice(IdeaForm.confirm, _("Post"), "yes")])
        return
    free = await free_at(ctx, "idea")
    if free is not None:  # the draft stays: Post works again from then
        await ctx.ask(
            _too_many()
            + " "
            + _("Your idea is kept. Press Post from {moment} to post it.").format(
                moment=when(free)
            ),
            IdeaForm.confirm,
            [ctx.choice(IdeaForm.confirm, _("Post"), "yes")],
        )
        return
    draft = ReadyIdea.of(ctx)
    person = await ctx.ensure_person()
    assert person.id is not None
    idea = await ideas.create_idea(
        ctx.session,
        neighbourhood_id=draft.neighbourhood_id,
        author_id=person.id,
        title=draft.title,
        body=draft.body,
        theme_id=draft.theme_id,
    )
    ctx.dialog.clear()
    await ctx.edit(
        _(
            "Thank you! Your idea has number {ref}. Neighbours can now support it with /ideeen."
        ).format(ref=idea_ref(idea.id))
    )


@router.command("ideeen", "ideeën", "ideas", in_groups=True, while_busy="pause")
async def recent(ctx: Ctx) -> None:
    home = await group_neighbourhood(ctx) if not ctx.is_direct else await home_of(ctx)
    if home is None or home.id is None:
        await ask_neighbourhood(ctx, IdeaForm.browse)
        return
    await show_recent(ctx, home)


@router.state(IdeaForm.browse)
async def browse_neighbourhood(ctx: Ctx) -> None:
    chosen = await read_neighbourhood(ctx)
    if chosen is not None:
        ctx.dialog.clear()
        await show_recent(ctx, chosen)


@router.callback(IdeasPage)
async def ideas_page(ctx: Ctx) -> None:
    pressed = IdeasPage.of(ctx)
    home = await places.neighbourhood(ctx.session, pressed.hood)
    if home is None:
        await ctx.reply(_("Type /ideeen to see the ideas again."))
        return
    await show_recent(ctx, home, pressed.page)


async def show_recent(ctx: Ctx, home: Neighbourhood, index: int = 0) -> None:
    """A page of the neighbourhood's ideas, newest first, each with Support and I'll help."""
    assert home.id is not None
    hood_id = home.id
    page = Page.at(index, await ideas.count_in(ctx.session, hood_id), IDEAS_PAGE)
    found = await ideas.recent_ideas(ctx.session, hood_id, page.size, page.offset)
    if not found:
        await ctx.edit(
            _("There are no ideas yet in {name}. Be the first: type /idee.").format(name=home.name)
        )
        return
    lines = [_("Recent ideas in {name}:").format(name=home.name)]
    if page.total > page.size:
        lines.append(page.counter())
    buttons: list[list[Button]] = []
    me = ctx.person.id if ctx.person is not None else None  # no help offered on your own
    shown = [i.id for i, _n in found if i.id is not None]
    helping = await partners.helping(ctx.session, shown)
    started = await initiatives.of_ideas(ctx.session, shown)
    teams = await initiatives.team_sizes(ctx.session, list(started))
    for idea, count in found:
        status = status_text(started.get(idea.id or 0), teams.get(idea.id or 0, 0))
        lines.append(
            f"{idea_ref(idea.id)} {idea.title} – "
            + ngettext("{n} supporter", "{n} supporters", count).format(n=count)
            + (f" – {status}" if status else "")
        )
        if organisations := helping.get(idea.id or 0):
            lines.append("   " + helping_line(organisations))
        support = Button(
            _("Support {ref}").format(ref=idea_ref(idea.id)), SupportIdea.button_data(idea.id)
        )
        own = ctx.is_direct and me is not None and idea.author_id == me
        buttons.append([support] if own else [support, help_button(idea.id)])
    nav = page.buttons(lambda i: IdeasPage(hood_id, i).pack())
    await ctx.edit("\n".join(lines), keyboard(*buttons, nav))


@router.callback(SupportIdea)
async def support(ctx: Ctx) -> None:
    found = await ideas.idea(ctx.session, SupportIdea.of(ctx).idea)
    if found is None or found.id is None:
        await ctx.reply(_("This idea no longer exists."))
        return
    person = await ctx.ensure_person()
    assert person.id is not None
    ref = idea_ref(found.id)
    if found.author_id == person.id:
        await ctx.reply(
            _("{ref} is your own idea. Ask your neighbours to support it!").format(ref=ref)
        )
        return
    added = await ideas.add_support(ctx.session, found.id, person.id)
    total = await ideas.support_count(ctx.session, found.id)
    if not added:
        await ctx.reply(_("You already support {ref}. Once is enough!").format(ref=ref))
        return
    await ctx.reply(
        _("You now support {ref} “{title}”.").format(ref=ref, title=found.title)
        + " "
        + ngettext("It has {n} supporter.", "It has {n} supporters.", total).format(n=total)
    )
