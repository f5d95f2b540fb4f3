"""What is on screen now: the buttons a typed number or label answers (issue #18).

Platforms without buttons (Matrix, the console) show them as a numbered list. A typed number
or label answers the newest message with buttons in the chat, our reply or one the outbox
sent (a poll, a digest). When a message without buttons came after it (/help), its buttons
are asked about first: an old digest is never supported by accident.

Kept: the buttons of our last reply with buttons (`Dialog.choices`), when they were shown,
and when a plain message came after them. A chat with no buttons on screen keeps nothing;
what the outbox sent, and when, it knows itself.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from bot.core.context import Ctx, Next
from bot.core.dialog import DIALOG_TTL
from bot.core.events import Button, stored_keyboard
from bot.core.i18n import _, fold
from bot.core.states import State
from bot.core.text import whole_number
from storage.repo import outbox

RECENT = timedelta(days=2)  # an outbox message's buttons count this long
CONFIRM = State("TypedChoice.confirm")
_CONFIRM_DATA = frozenset({f"@{CONFIRM.name}|yes", f"@{CONFIRM.name}|no"})
_SPENT_WHEN_IDLE = frozenset({"cancel"})  # and every dialog step's button ("@State|value")


async def remember(ctx: Ctx) -> None:
    """After an event: remember the buttons now on screen, or that they scrolled up."""
    if not ctx.outgoing:
        return
    dialog, now = ctx.dialog, ctx.clock.now()
    buttons = [b for b in ctx.outgoing[-1].reply.flat_buttons() if b.url is None]
    if buttons:  # sends and edits alike: the last one shows the buttons
        dialog.offer(buttons, now)
        return
    # In a dialog, a plain message is its next question: the buttons above are spent.
    live = [] if dialog.state is not None else [b for b in dialog.choices if _live(b)]
    dialog.keep_choices(live)
    if live:
        if ctx.event.kind != "button":  # an answer to a press leaves its buttons on screen
            dialog.said_plain(now, now + DIALOG_TTL)
        return
    dialog.forget_screen()
    if ctx.is_direct:  # only an outbox message's buttons can have scrolled up
        chat = ctx.event.chat
        _rows, sent_at, _last = await outbox.on_screen(
            ctx.session, chat.platform, chat.id, now - RECENT
        )
        if sent_at is not None:
            dialog.said_plain(now, sent_at + RECENT)


def _live(button: Button) -> bool:
    """Whether a button still does something once no dialog is going on."""
    return not button.data.startswith("@") and button.data not in _SPENT_WHEN_IDLE


async def on_screen(ctx: Ctx) -> tuple[list[Button], bool]:
    """The buttons a typed number or label answers, and whether nothing came after them.

    In a dialog step: the step's own buttons. In an idle direct chat: the newest message
    with buttons, our last reply or one the outbox sent in the last two days.
    """
    dialog = ctx.dialog
    if dialog.state is not None or not ctx.is_direct:
        return dialog.choices, True
    shown, plain, chat = dialog.shown_at, dialog.plain_at, ctx.event.chat
    rows, sent_at, last_at = await outbox.on_screen(
        ctx.session, chat.platform, chat.id, ctx.clock.now() - RECENT
    )
    if rows is None or sent_at is None or (dialog.choices and (shown is None or shown >= sent_at)):
        # our reply is the newest message with buttons (at the same moment, it came last)
        newer = last_at is not None and shown is not None and last_at > shown
        return dialog.choices, plain is None and not newer
    plain_after = (plain is not None and plain > sent_at) or (
        last_at is not None and last_at > sent_at
    )
    return [b for row in stored_keyboard(rows) for b in row], not plain_after


def picked(choices: list[Button], text: str, *, numbers: bool) -> Button | None:
    """The button a typed number (where numbers count) or label stands for."""
    number = whole_number(text)
    if number is not None and numbers:
        return choices[number - 1] if 1 <= number <= len(choices) else None
    wanted = fold(text)
    return next((b for b in choices if fold(b.label) == wanted), None)


async def ask_first(ctx: Ctx, button: Button) -> None:
    """A number or label for buttons no longer at the bottom of the chat: ask first.

    Only asked when no dialog is going on; one put aside (/help) stays aside."""
    await ctx.ask(
        _("Do you mean: {label}?").format(label=button.label),
        CONFIRM,
        [ctx.choice(CONFIRM, _("Yes"), "yes"), ctx.choice(CONFIRM, _("No"), "no")],
        press=button.data,
    )


def is_confirmation(ctx: Ctx) -> bool:
    return ctx.event.kind == "button" and ctx.event.button_data in _CONFIRM_DATA


async def confirmed(nxt: Next, ctx: Ctx) -> None:
    """Yes presses the button asked about; No does nothing."""
    wanted = ctx.dialog.data.get("press") if ctx.dialog.state == CONFIRM.name else None
    if ctx.dialog.state == CONFIRM.name:
        ctx.dialog.clear()
    if not isinstance(wanted, str) or not (ctx.event.button_data or "").endswith("|yes"):
        await ctx.reply(_("All right, I did nothing. Type /help to see what I can do."))
        return
    ctx.event = dataclasses.replace(ctx.event, button_data=wanted, message=None)
    await nxt(ctx)
