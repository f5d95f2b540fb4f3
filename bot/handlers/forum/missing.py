"""/leeftijd: a resident may share their age band, once and optionally ("helps us see who
we miss"). /wiemister: a coordinator sees, per neighbourhood with population figures, who
takes part by age against the residents (a chart and one line)."""

from __future__ import annotations

from bot.core.callbacks import CallbackData
from bot.core.context import Ctx
from bot.core.events import Button
from bot.core.i18n import N_, _
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.common import please_choose
from bot.services.forum.features import AGE_BANDS, value_label
from bot.services.forum.missing import chart, too_few, verdict
from storage.repo import forums, missing, places

router = Router("missing")


class AgeForm(StatesGroup):
    interrupted = N_("You were sharing your age group.")
    band = State()


def _buttons(ctx: Ctx) -> list[Button]:
    return [ctx.choice(AgeForm.band, value_label(b), b) for b in AGE_BANDS] + [
        ctx.choice(AgeForm.band, _("Rather not"), "no")
    ]


class RemoveAge(CallbackData, prefix="agr", hint=N_("Type /leeftijd to see it again.")):
    """ "Remove my age group" under `/leeftijd`."""


@router.callback(RemoveAge)
async def remove_age(ctx: Ctx) -> None:
    pid = ctx.actor.person_id
    if pid is not None:
        await missing.remove_age_band(ctx.session, pid)
    await ctx.reply(_("Your age group is removed. You can share it again with /leeftijd."))


@router.command("leeftijd", "age")
async def share_age(ctx: Ctx) -> None:
    if ctx.person is not None and ctx.person.id is not None:
        shared = await missing.age_band(ctx.session, ctx.person.id)
        if shared is not None:
            await ctx.reply(
                _("You shared your age group: {band}.").format(band=value_label(shared.age_band)),
                [Button(_("Remove my age group"), RemoveAge().pack())],
            )
            return
    await ctx.ask(
        _(
            "Would you share your age group? It is optional, and it helps us see who we miss. "
            "Coordinators only see how many people of each age group take part, never yours."
        ),
        AgeForm.band,
        _buttons(ctx),
    )


@router.state(AgeForm.band)
async def band_step(ctx: Ctx) -> None:
    choice = ctx.event.button_data if ctx.event.kind == "button" else None
    if choice not in (*AGE_BANDS, "no"):
        await please_choose(ctx, _buttons(ctx))
        return
    ctx.dialog.clear()
    if choice is None or choice == "no":
        await ctx.reply(_("All right. We stored nothing."))
        return
    person = await ctx.ensure_person()
    assert person.id is not None
    if await missing.age_band(ctx.session, person.id) is None:
        await missing.share_age_band(ctx.session, person.id, choice)
    await ctx.reply(_("Thank you! Type /leeftijd to remove it at any time."))


@router.command("wiemister", "missing")
async def who_is_missing(ctx: Ctx) -> None:
    if not ctx.coordinator_of:
        await ctx.reply(
            _(
                "Only a coordinator of the neighbourhood can do this. Type /help to see what you can do."
            )
        )
        return
    shown = False
    for hood_id in ctx.coordinator_of:
        hood = await places.neighbourhood(ctx.session, hood_id)
        population = await forums.population(ctx.session, hood_id)
        if hood is None or not population:
            continue
        taking_part = await missing.participants_by_band(ctx.session, hood_id)
        shown = True
        hidden = too_few(taking_part)
        if hidden is not None:
            await ctx.reply(f"{hood.name}: {hidden}")
            continue
        await ctx.reply(
            f"{hood.name}: {verdict(population, taking_part)}",
            image=chart(hood.name, population, taking_part),
        )
    if not shown:
        await ctx.reply(
            _(
                "There are no population figures for your neighbourhood yet. The operator loads them."
            )
        )
