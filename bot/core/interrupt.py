"""A command in the middle of a dialog never loses the dialog silently.

A command marked `while_busy="pause"` (a setting, a list, /help) puts the dialog aside,
runs, and then offers to go on with it ("You were making a report. Continue?"). Any other
command first asks whether to stop what the person was doing. The dialog remembers its
last question (`ASKED`), so going on repeats it with its buttons.
"""

from __future__ import annotations

from typing import Any

from bot.core.context import Ctx, Next
from bot.core.dialog import DIALOG_TTL, STICKY, SWITCH, Dialog
from bot.core.events import Button
from bot.core.i18n import _
from bot.core.states import interrupted

PAUSED = "paused"  # sticky: the dialog put aside by a harmless command
ASKED = "^asked"  # the dialog's last question, to ask it again
RESUME = "resume"  # button data: go on with the dialog
SWITCH_BUTTON = "switch"  # button data: stop the dialog and run the waiting command


def busy_with(dialog: Dialog) -> str | None:
    """The msgid saying what would be lost, or None when nothing would be."""
    if dialog.state is not None and (doing := interrupted(dialog.state)) is not None:
        return doing
    paused = dialog.sticky(PAUSED)
    return interrupted(paused["state"]) if isinstance(paused, dict) else None


def pause(ctx: Ctx) -> None:
    """Put the current dialog aside (a harmless command is about to run), then end it.

    A dialog put aside and not yet offered back stays: the one now open is the setting
    chosen in between, with nothing to lose."""
    dialog = ctx.dialog
    paused = dialog.sticky(PAUSED)
    worth_keeping = dialog.state is not None and interrupted(dialog.state) is not None
    if worth_keeping and (paused is None or paused.get("offered")):
        assert dialog.state is not None
        data = {k: v for k, v in dialog.data.items() if not k.startswith(STICKY)}
        kept = {
            "state": dialog.state,
            "data": data,
            "choices": [b.to_row() for b in dialog.choices],
            "offered": False,
        }
        dialog.stick(PAUSED, kept, ctx.clock.now() + DIALOG_TTL)
    dialog.clear()


async def ask_first(ctx: Ctx, doing: str) -> None:
    """Another dialog is wanted: ask before stopping this one."""
    event = ctx.event
    command = f"{event.command} {event.args}".strip()
    ctx.dialog.update(**{SWITCH: {"command": command, "choices": _rows(ctx.dialog.choices)}})
    await ctx.reply(
        _(doing) + " " + _("Stop it?"),
        [
            Button(_("Stop, and go to /{command}").format(command=event.command), SWITCH_BUTTON),
            Button(_("Continue"), RESUME),
        ],
    )


def take_switch(ctx: Ctx) -> str | None:
    """The command waiting behind "Stop?", with the dialog (and anything put aside) ended."""
    waiting = ctx.dialog.data.get(SWITCH)
    if not isinstance(waiting, dict) or not isinstance(waiting.get("command"), str):
        return None
    ctx.dialog.clear()
    ctx.dialog.data.pop(STICKY + PAUSED, None)
    return str(waiting["command"])


def drop_paused(dialog: Dialog) -> str | None:
    """Forget the dialog put aside; the msgid of what it was, if there was one."""
    paused = dialog.sticky(PAUSED)
    if not isinstance(paused, dict):
        return None
    dialog.data.pop(STICKY + PAUSED, None)
    dialog.update()
    return interrupted(paused["state"])


async def after(ctx: Ctx) -> None:
    """After every event: remember the dialog's question, or offer to go on with a dialog
    put aside once the command in between is done."""
    dialog = ctx.dialog
    if dialog.state is not None:
        if SWITCH not in dialog.data and ctx.outgoing:
            asked = ctx.outgoing[-1].reply.text
            if dialog.data.get(ASKED) != asked:
                dialog.update(**{ASKED: asked})
        return
    paused = dialog.sticky(PAUSED)
    if not isinstance(paused, dict) or paused.get("offered"):
        return
    doing = interrupted(paused["state"])
    dialog.stick(PAUSED, {**paused, "offered": True}, ctx.clock.now() + DIALOG_TTL)
    if doing is None:
        return
    await ctx.reply(
        _(doing) + " " + _("Continue?"),
        [Button(_("Continue"), RESUME), Button(_("Stop"), "cancel")],
    )


async def resume(nxt: Next, ctx: Ctx) -> None:
    """The Continue button: the dialog goes on where it was, its question asked again."""
    event = ctx.event
    if event.kind != "button" or event.button_data != RESUME:
        await nxt(ctx)
        return
    dialog = ctx.dialog
    waiting = dialog.data.get(SWITCH)
    paused = dialog.sticky(PAUSED)
    if dialog.state is not None and isinstance(waiting, dict):
        del dialog.data[SWITCH]
        dialog.update()
        await _ask_again(ctx, dialog.data.get(ASKED), waiting.get("choices"))
    elif dialog.state is None and isinstance(paused, dict):
        dialog.data.pop(STICKY + PAUSED, None)
        dialog.data.update(paused["data"])
        dialog.state = paused["state"]
        dialog.update()
        await _ask_again(ctx, paused["data"].get(ASKED), paused.get("choices"))
    else:
        await ctx.reply(_("There is nothing to continue. Type /help to see what I can do."))


async def _ask_again(ctx: Ctx, asked: Any, rows: Any) -> None:
    buttons = [Button.from_row(r) for r in rows] if isinstance(rows, list) else []
    if not isinstance(asked, str) or not asked:
        asked = _("Let us go on where you were.")
    await ctx.reply(asked, buttons or [ctx.cancel_button()])


def _rows(buttons: list[Button]) -> list[dict[str, Any]]:
    return [b.to_row() for b in buttons]
