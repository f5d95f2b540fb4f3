"""Partners in chat: "We can help" under the news about an idea, and `/partners` for a
coordinator (see them, allow or stop their news, remove them). Adding one is
`wijkbot admin add-partner`: it needs the person's platform account id."""

from __future__ import annotations

from typing import Literal

from bot.core.callbacks import CallbackData
from bot.core.context import Ctx
from bot.core.events import Button, keyboard
from bot.core.i18n import N_, _
from bot.core.router import Router
from bot.services.partners import PartnerHelp, we_can_help
from storage.models import Partner
from storage.repo import audit, partners, places

router = Router("partners")


@router.callback(PartnerHelp)
async def partner_helps(ctx: Ctx) -> None:
    pressed = PartnerHelp.of(ctx)
    person_id = ctx.person.id if ctx.person is not None else None
    answer = await we_can_help(ctx.session, person_id, pressed.idea)
    if answer.outcome == "gone":
        await ctx.reply(_("This idea no longer exists."))
    elif answer.outcome == "not_partner":
        await ctx.reply(_("Only a partner organisation of this neighbourhood can answer this way."))
    elif answer.outcome == "again":
        await ctx.reply(
            _("{organisation} already said it can help with {ref}.").format(
                organisation=answer.organisation, ref=answer.ref
            )
        )
    else:
        await ctx.reply(
            _(
                "Thank you. We told the initiator of {ref} that {organisation} wants to help."
            ).format(organisation=answer.organisation, ref=answer.ref)
        )


class ManagePartner(CallbackData, prefix="partner", hint=N_("Type /partners to see them again.")):
    """A coordinator's button under a partner: allow or stop their news, or remove them."""

    verb: Literal["news", "nonews", "remove"]
    partner: int


@router.command("partners", "partner", role="coordinator", while_busy="pause")
async def list_partners(ctx: Ctx) -> None:
    found = await partners.partners_in(ctx.session, list(ctx.coordinator_of))
    if not found:
        await ctx.edit(
            _(
                "There are no partners in your neighbourhood yet. "
                "The administrator adds them with 'wijkbot admin add-partner'."
            )
        )
        return
    lines = [_("Partners in your neighbourhood:")]
    rows: list[list[Button]] = []
    for p in found:
        lines.append(await _line(ctx, p))
        news = (
            Button(_("Stop news from {organisation}").format(organisation=p.organisation),
                   ManagePartner("nonews", p.id or 0).pack())
            if p.may_announce
            else Button(_("Allow news from {organisation}").format(organisation=p.organisation),
                        ManagePartner("news", p.id or 0).pack())
        )  # fmt: skip
        remove = Button(
            _("Remove {organisation}").format(organisation=p.organisation),
            ManagePartner("remove", p.id or 0).pack(),
        )
        rows += [[news], [remove]]
    await ctx.edit("\n".join(lines), keyboard(*rows))


async def _line(ctx: Ctx, p: Partner) -> str:
    themes = [
        t.name_in(ctx.locale) for i in p.theme_ids if (t := await places.theme(ctx.session, i))
    ]
    line = f"{p.organisation}: " + (", ".join(themes) or "-")
    if p.may_announce:
        line += " · " + _("may send news")
    return line


@router.callback(ManagePartner, role="coordinator")
async def manage_partner(ctx: Ctx) -> None:
    pressed = ManagePartner.of(ctx)
    row = await ctx.session.get(Partner, pressed.partner)
    if row is None or not ctx.actor.coordinates(row.neighbourhood_id):
        await ctx.reply(_("This partner is not in your neighbourhood (any more)."))
        return
    person = await ctx.ensure_person()
    if pressed.verb == "remove":
        await ctx.session.delete(row)
        await audit.record(ctx.session, person.id, "partner.removed", "person", row.person_id)
    else:
        row.may_announce = pressed.verb == "news"
        ctx.session.add(row)
        await audit.record(ctx.session, person.id, "partner.news", "person", row.person_id,
                           allowed=row.may_announce)  # fmt: skip
    await ctx.session.flush()
    await list_partners(ctx)
