"""Signals (meldingen): what is wrong, where, an optional photo, a category; then a number."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from bot.core.context import Ctx
from bot.core.drafts import Draft, one_of
from bot.core.events import Button
from bot.core.i18n import N_, _, day, ngettext, when
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.core.text import MAX_TITLE, first_line, whole_number
from bot.handlers.common import (
    ask_neighbourhood,
    free_at,
    guarded,
    home_of,
    please_choose,
    read_neighbourhood,
    read_text,
)
from bot.handlers.signals.mine import open_by_number
from bot.services.quotas import PER_HOUR
from bot.services.signals.notices import (
    CATEGORY_LABELS,
)
from bot.services.signals.similar import Known, likely_same
from bot.util.address import address_in
from storage.repo import signals

router = Router("signals")


class SignalForm(StatesGroup):
    interrupted = N_("You were making a report.")
    text = State()
    location = State()
    far = State()  # a shared location outside the area: is that right?
    photo = State()
    category = State()
    neighbourhood = State()
    duplicate = State()
    held = State()  # over the hourly limit: kept until it may be sent


Words = Annotated[str, StringConstraints(min_length=1)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class ReportDraft(Draft):
    """A report being made. A field the dialog does not hold yet is a question still to ask
    (`asked`); `photo` None is a photo skipped."""

    text: Words = ""
    address: Words | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    far_lat: Latitude | None = None  # a shared point outside the area, until confirmed
    far_lon: Longitude | None = None
    photo: str | None = None
    photo_platform: str | None = None
    category: Annotated[str, AfterValidator(one_of(CATEGORY_LABELS))] | None = None
    neighbourhood_id: int | None = None
    dup_checked: bool = False
    dup_candidates: list[int] = Field(default_factory=list)

    def asked(self, *fields: str) -> bool:
        """Whether one of `fields` was answered already."""
        return any(f in self.model_fields_set for f in fields)


step = guarded("melding", ReportDraft)


def _too_many() -> str:
    most = PER_HOUR["report"]
    return (
        ngettext(
            "You have sent {n} report in the past hour.",
            "You have sent {n} reports in the past hour.",
            most,
        ).format(n=most)
        + " "
        + _("That is the most for one hour.")
    )


@router.command("melding", "meld", "report")
async def new_signal(ctx: Ctx) -> None:
    number = signals.parse_reference(ctx.event.args) if ctx.event.args.strip() else None
    if number is not None:  # /melding M-1042: that report
        await open_by_number(ctx, number)
        return
    free = await free_at(ctx, "report")
    if free is not None:
        await ctx.reply(
            _too_many()
            + " "
            + _("You can send a new report from {moment}: type /melding then.").format(
                moment=when(free)
            )
        )
        return
    await next_step(ctx)


async def next_step(ctx: Ctx, **data: object) -> None:
    """Ask for the first thing still missing; save when nothing is."""
    ctx.dialog.update(**data)
    have = ReportDraft.of(ctx)
    if isinstance(data.get("text"), str) and not have.asked("address", "lat"):
        found = address_in(have.text)  # named in the report: not asked again
        if found is not None:
            ctx.dialog.update(address=found)
            have = ReportDraft.of(ctx)
    if not have.asked("text"):
        await ctx.ask(_("What is wrong? Describe it in a few words."), SignalForm.text)
    elif not have.asked("address", "lat"):
        await ctx.ask(
            _("Where is it? Type an address or a place, or share your location."),
            SignalForm.location,
        )
    elif not have.asked("photo"):
        await ctx.ask(
            _("Do you have a photo? Send it now, or choose Skip."),
            SignalForm.photo,
            [ctx.choice(SignalForm.photo, _("Skip"), "skip")],
        )
    elif not have.asked("category"):
        await ctx.ask(_("What kind of problem is it?"), SignalForm.category, category_buttons(ctx))
    elif have.neighbourhood_id is None:
        home = await home_of(ctx)
        if home is None:
            await ask_neighbourhood(ctx, SignalForm.neighbourhood)
        else:
            await next_step(ctx, neighbourhood_id=home.id)
    elif not have.dup_checked and await offer_duplicates(ctx, have, have.neighbourhood_id):
        return
    else:
        await save_signal(ctx, have.neighbourhood_id)


async def offer_duplicates(ctx: Ctx, have: ReportDraft, neighbourhood_id: int) -> bool:
    """Before filing: "is it one of these?" for open reports nearby or alike."""
    known = [
        Known(s.id or 0, s.category, s.text, s.lat, s.lon, s.address)
        for s in await signals.open_in(ctx.session, neighbourhood_id)
    ]
    found = likely_same(have.text, have.category, have.lat, have.lon, have.address, known)
    if not found:
        return False
    # Labels say what, where and how far, not the other resident's own words.
    by_id = {s.id: s for s in await signals.open_in(ctx.session, neighbourhood_id)}
    buttons = []
    for m in found:
        other = by_id[m.known.id]
        label = f"M-{1000 + m.known.id} · {_(CATEGORY_LABELS.get(other.category, other.category))}"
        if m.metres is not None:
            label += " · " + _("{metres} m away").format(metres=round(m.metres))
        elif other.address:
            label += f" · {first_line(other.address, 30)}"
        label += f" · {day(other.created_at)}"
        buttons.append(ctx.choice(SignalForm.duplicate, label, str(m.known.id)))
    ctx.dialog.update(dup_candidates=[m.known.id for m in found])
    buttons.append(ctx.choice(SignalForm.duplicate, _("No, this is something else"), "new"))
    await ctx.ask(
        _("Someone may have reported this already. Is it one of these?"),
        SignalForm.duplicate,
        buttons,
    )
    return True


@router.state(SignalForm.duplicate)
@step
async def signal_duplicate(ctx: Ctx) -> None:
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    if value == "new":
        await next_step(ctx, dup_checked=True)
        return
    offered = ReportDraft.of(ctx).dup_candidates
    original = (
        await signals.signal(ctx.session, whole_number(value or "") or 0)
        if whole_number(value or "") in offered
        else None
    )
    if original is None or original.id is None:
        await ctx.reply(_("Please choose one of the buttons."))
        return
    person = await ctx.ensure_person()
    assert person.id is not None
    if original.reporter_id != person.id:
        await signals.add_follower(ctx.session, original.id, person.id)
    ctx.dialog.clear()
    await ctx.edit(
        _(
            "Thank you! This was already reported as {ref}. You now follow it: we will let you know what happens."
        ).format(ref=original.reference)
    )


@router.state(SignalForm.text)
@step
async def signal_text(ctx: Ctx) -> None:
    text = await read_text(ctx)
    if text is not None:
        await next_step(ctx, text=text)


@router.state(SignalForm.location)
@step
async def signal_location(ctx: Ctx) -> None:
    event = ctx.event
    if event.kind == "location" and event.location is not None:
        lat, lon = event.location.lat, event.location.lon
        if not within(ctx.settings.area, lat, lon):
            await ask_far(ctx, lat, lon)
            return
        await next_step(ctx, lat=lat, lon=lon)
        return
    place = await read_text(ctx)
    if place is None:
        return
    if len(place) > MAX_TITLE * 2:
        await ctx.reply(_("Please give a shorter address (a street and number is enough)."))
        return
    await next_step(ctx, address=place)


def within(area: tuple[float, float, float, float] | None, lat: float, lon: float) -> bool:
    if area is None:
        return True
    south, west, north, east = area
    return south <= lat <= north and west <= lon <= east


async def ask_far(ctx: Ctx, lat: float, lon: float) -> None:
    await ctx.ask(
        _("This point lies outside the area of the municipality. Is that right?"),
        SignalForm.far,
        [
            ctx.choice(SignalForm.far, _("Yes, that is right"), "yes"),
            ctx.choice(SignalForm.far, _("No, share it again"), "no"),
        ],
        far_lat=lat,
        far_lon=lon,
    )


@router.state(SignalForm.far)
@step
async def signal_far(ctx: Ctx) -> None:
    draft = ReportDraft.of(ctx)
    lat, lon = draft.far_lat, draft.far_lon
    if ctx.event.kind == "location" or lat is None or lon is None:
        await signal_location(ctx)  # a new location, or nothing kept: read it afresh
        return
    if ctx.event.kind == "button" and ctx.event.button_data == "yes":
        await next_step(ctx, lat=lat, lon=lon)
    elif ctx.event.kind == "button" and ctx.event.button_data == "no":
        await ctx.ask(
            _("Where is it? Type an address or a place, or share your location."),
            SignalForm.location,
        )
    else:
        await please_choose(ctx, [b for b in ctx.dialog.choices if b.data != "cancel"])


@router.state(SignalForm.photo)
@step
async def signal_photo(ctx: Ctx) -> None:
    event = ctx.event
    if event.kind == "photo" and event.attachment is not None:
        await next_step(
            ctx, photo_platform=event.attachment.platform, photo=event.attachment.file_id
        )
    elif event.kind == "button" and event.button_data == "skip":
        await next_step(ctx, photo=None)
    else:
        await ctx.reply(
            _("Send a photo, or choose Skip."),
            [ctx.choice(SignalForm.photo, _("Skip"), "skip"), ctx.cancel_button()],
        )


def category_buttons(ctx: Ctx) -> list[Button]:
    return [
        ctx.choice(SignalForm.category, _(label), key) for key, label in CATEGORY_LABELS.items()
    ]


@router.state(SignalForm.category)
@step
async def signal_category(ctx: Ctx) -> None:
    key = ctx.event.button_data if ctx.event.kind == "button" else None
    if key not in CATEGORY_LABELS:
        await please_choose(ctx, category_buttons(ctx))
        return
    await next_step(ctx, category=key)


@router.state(SignalForm.neighbourhood)
@step
async def signal_neighbourhood(ctx: Ctx) -> None:
    chosen = await read_neighbourhood(ctx)
    if chosen is not None:
        await next_step(ctx, neighbourhood_id=chosen.id)


@router.state(SignalForm.held)
@step
async def signal_held(ctx: Ctx) -> None:
    """The kept report: "Send" tries again (it is checked once more on saving)."""
    if ctx.event.kind == "button" and ctx.event.button_data == "send":
        await next_step(ctx)
        return
    await please_choose(ctx, [ctx.choice(SignalForm.held, _("Send"), "send")])


async def save_signal(ctx: Ctx, neighbourhood_id: int) -> None:
    free = await free_at(ctx, "report")
    if free is not None:
        await ctx.ask(
            _too_many()
            + " "
            + _("Your report is kept. Press Send from {moment} to send it.").format(
                moment=when(free)
            ),
            SignalForm.held,
            [ctx.choice(SignalForm.held, _("Send"), "send")],
        )
        return
    draft = ReportDraft.of(ctx)
    person = await ctx.ensure_person()
    assert person.id is not None
    sig = await signals.create_signal(
        ctx.session,
        neighbourhood_id=neighbourhood_id,
        reporter_id=person.id,
        category=draft.category or "other",
        text=draft.text,
        address=draft.address,
        lat=draft.lat,
        lon=draft.lon,
        photo_platform=draft.photo_platform,
        photo_file_id=draft.photo,
    )
    ctx.dialog.clear()
    await ctx.edit(
        _(
            "Thank you! Your report has number {ref}. We will let you know what happens with it."
        ).format(ref=sig.reference)
    )
