"""Middlewares, run around every handler in this order: clean input (what people type and
their display names), identity (account -> person), locale, then the policies every event meets before routing (aiogram's outer middlewares):
group chatter is not for us, text limits, a typed number or label presses a button, and the
cancel words and commands."""

from __future__ import annotations

import dataclasses

from bot.core import screen
from bot.core.context import Ctx, Next
from bot.core.i18n import _, fold, normalise_locale, set_locale
from bot.core.interrupt import drop_paused, resume
from bot.core.text import MAX_TEXT, clean, clean_name
from storage.repo import people

CANCEL_COMMANDS = frozenset({"stop", "annuleer", "cancel"})
CANCEL_WORDS = frozenset({"stop", "annuleer", "annuleren", "cancel", "stoppen"})


async def clean_input(nxt: Next, ctx: Ctx) -> None:
    """Every handler gets clean text: NFC, no control characters (newlines and tabs stay),
    no bidi overrides, and a display name on one line of at most 64 characters.

    PostgreSQL refuses a NUL in text, and a name or note is stored and shown to others, so
    this is done once, here, for every event, instead of in each handler.
    """
    event = ctx.event
    user = event.user
    name = clean_name(user.display_name)
    ctx.event = dataclasses.replace(
        event,
        text=clean(event.text) if event.text else event.text,
        args=clean(event.args) if event.args else event.args,
        user=user if name == user.display_name else dataclasses.replace(user, display_name=name),
    )
    await nxt(ctx)


async def identity(nxt: Next, ctx: Ctx) -> None:
    """Find the person behind the platform account; nobody is created just for writing."""
    user = ctx.event.user
    ctx.person = await people.person_for_account(ctx.session, user.platform, user.id)
    if ctx.person is not None and ctx.person.id is not None:
        ctx.coordinator_of = await people.coordinated_neighbourhoods(ctx.session, ctx.person.id)
        if ctx.is_direct:
            await people.remember_direct_chat(
                ctx.session, ctx.person.id, ctx.event.chat.platform, ctx.event.chat.id
            )
    await nxt(ctx)


async def locale(nxt: Next, ctx: Ctx) -> None:
    """The person's chosen language, else the platform's, else the configured default."""
    default = ctx.settings.default_locale
    if ctx.person is not None:
        set_locale(normalise_locale(ctx.person.locale, default))
    elif "locale" in ctx.dialog.data:  # chosen during onboarding, before we store anybody
        set_locale(normalise_locale(str(ctx.dialog.data["locale"]), default))
    else:
        set_locale(normalise_locale(ctx.event.user.language_code, default))
    await nxt(ctx)


async def group_chatter(nxt: Next, ctx: Ctx) -> None:
    """Residents talking among themselves in a group: not for us, even while someone has a
    dialog with us open there. Only a typed button label or number, or a cancel word in
    such a dialog, is."""
    event = ctx.event
    if event.chat.kind == "group" and event.kind in ("text", "photo", "location"):
        text = event.text.strip()
        if ctx.dialog.state is None or event.kind != "text":
            return
        button = screen.picked(ctx.dialog.choices, text, numbers=not ctx.expects_text)
        if button is None and fold(text) not in CANCEL_WORDS:
            return
    await nxt(ctx)


async def text_limits(nxt: Next, ctx: Ctx) -> None:
    """Too long or empty text gets a kind answer before any handler sees it; so does a
    command whose arguments are too long (`/idee <5,000 characters>`)."""
    if ctx.event.kind == "command" and len(ctx.event.args) > MAX_TEXT:
        await _too_long(ctx, len(ctx.event.args))
        return
    if ctx.event.kind == "text":
        text = ctx.event.text.strip()
        if len(text) > MAX_TEXT:
            await _too_long(ctx, len(text))
            return
        if not text:
            if ctx.dialog.state is not None or ctx.is_direct:
                await ctx.reply(_("I received an empty message. Please type some text."))
            return
    await nxt(ctx)


async def _too_long(ctx: Ctx, count: int) -> None:
    await ctx.reply(
        _(
            "That message is too long ({count} characters). "
            "Please keep it under {limit} characters."
        ).format(count=count, limit=MAX_TEXT)
    )


async def typed_choice(nxt: Next, ctx: Ctx) -> None:
    """A typed number or button label presses a button on screen now (bot/core/screen.py);
    one on an older message is asked about first. A cancel word is /stop."""
    event = ctx.event
    if event.kind == "text":
        text = event.text.strip()
        choices, current = await screen.on_screen(ctx)
        button = screen.picked(choices, text, numbers=not ctx.expects_text)
        if button is not None and not current:
            await (_cancel(ctx) if button.data == "cancel" else screen.ask_first(ctx, button))
            return
        if button is not None:
            event = dataclasses.replace(
                event, kind="button", button_data=button.data, text="", message=None
            )
        elif fold(text) in CANCEL_WORDS:
            event = dataclasses.replace(event, kind="command", command="stop", args="")
        ctx.event = event
    if screen.is_confirmation(ctx):
        await screen.confirmed(nxt, ctx)
        return
    await nxt(ctx)


async def cancel(nxt: Next, ctx: Ctx) -> None:
    """/stop, "Annuleer", "Cancel" or the Cancel button leave whatever dialog is going on."""
    event = ctx.event
    if (event.kind == "command" and (event.command or "") in CANCEL_COMMANDS) or (
        event.kind == "button" and event.button_data == "cancel"
    ):
        await _cancel(ctx)
        return
    await nxt(ctx)


async def _cancel(ctx: Ctx) -> None:
    """Stop the dialog, and say truly what was kept. A dialog put aside for a command in
    between is offered again afterwards; stopping when only that one is left ends it."""
    dialog = ctx.dialog
    if dialog.state is None:
        if drop_paused(dialog) is None:
            await ctx.reply(_("There is nothing to stop. Type /help to see what I can do."))
            return
        kept = None
    else:
        kept = dialog.saved
        dialog.clear()
    done = _(kept) if kept else _("Nothing was saved.")
    await ctx.reply(_("Stopped.") + " " + done + " " + _("Type /help to see what I can do."))


DEFAULT_MIDDLEWARES = (
    clean_input,
    identity,
    locale,
    group_chatter,
    text_limits,
    typed_choice,
    cancel,
    resume,
)
