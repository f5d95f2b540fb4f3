"""Signals (meldingen): what is wrong, where, an optional photo, a category; then a number."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from bot.core.callbacks import CallbackData, StaleButton
from bot.core.context import Ctx
from bot.core.drafts import Draft, one_of
from bot.core.events import Button, keyboard
from bot.core.i18n import N_, _, day, ngettext, when
from bot.core.paging import Page
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
from bot.handlers.signals.coordinator import show_to_coordinator
from bot.services.quotas import PER_HOUR
from bot.services.signals.access import is_reporter, may_view
from bot.services.signals.notices import (
    CATEGORY_LABELS,
    SolvedAnswer,
    ViewSignal,
    status_label,
    tell_coordinators,
)
from bot.services.signals.similar import Known, likely_same
from bot.util.address import address_in
from storage.repo import audit, forwards, signals

REASON_WAIT = timedelta(minutes=10)  # for "what is still wrong?" before telling the municipality

router = Router("signals")


class NotSolvedForm(StatesGroup):
    """After "No, it is not solved": what is still wrong (optional)."""

    why = State()


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


class MyReportsPage(CallbackData, prefix="mysp", hint=N_("Type /mijnmeldingen to see them again.")):
    """Previous / Next under a resident's own reports."""

    page: int


@router.command("mijnmeldingen", "myreports", while_busy="pause")
async def my_signals(ctx: Ctx) -> None:
    await show_my_signals(ctx, 0)


@router.callback(MyReportsPage)
async def my_signals_page(ctx: Ctx) -> None:
    await show_my_signals(ctx, MyReportsPage.of(ctx).page)


async def open_by_number(ctx: Ctx, signal_id: int) -> None:
    """A report by its number, to whoever may see it (the same answer when it does not
    exist, so a number tells an outsider nothing)."""
    sig = await signals.signal(ctx.session, signal_id)
    if sig is None or sig.id is None or not await may_view(ctx.session, sig, ctx.actor):
        await ctx.reply(
            _("I can't find report {ref}, or it is not in your neighbourhood.").format(
                ref=f"M-{1000 + signal_id}"
            )
        )
        return
    if ctx.actor.coordinates(sig.neighbourhood_id):
        await show_to_coordinator(ctx, sig)
        return
    # As the Open button of the digest shows it.
    pid = ctx.person.id if ctx.person is not None else None
    involved = pid is not None and (
        pid == sig.reporter_id or pid in await signals.followers(ctx.session, sig.id)
    )
    lines = [
        f"{sig.reference}: {sig.text}",
        _("Status: {status}").format(status=status_label(sig.status)),
        _("Reported on {date}").format(date=when(sig.created_at)),
    ]
    if sig.address:
        lines.append(_("Place: {place}").format(place=sig.address))
    follow = _("Follow {ref}").format(ref=sig.reference)
    buttons = [] if involved else [Button(follow, ViewSignal(sig.id, "follow").pack())]
    await ctx.reply("\n".join(lines), buttons)


FOLLOWED_SHOWN = 10  # the newest reports someone follows, under their own on the first page


async def show_my_signals(ctx: Ctx, index: int) -> None:
    """A page of the person's reports, newest first, each with its status and last note;
    on the first page also the reports they follow (status only: not the reporter's words)."""
    person_id = ctx.person.id if ctx.person is not None else None
    total = await signals.count_by(ctx.session, person_id) if person_id is not None else 0
    followed = await _followed_lines(ctx, person_id) if index == 0 else []
    if person_id is None or (not total and not followed):
        await ctx.edit(_("You have no reports yet. Type /melding to report something."))
        return
    page = Page.at(index, total)
    found = await signals.signals_by(
        ctx.session, person_id, newest_first=True, limit=page.size, offset=page.offset
    )
    lines = [_("Your reports:")] if total else []
    if page.total > page.size:
        lines.append(page.counter())
    for sig in found:
        history = await signals.history(ctx.session, sig.id or 0)
        last = history[-1] if history else None
        line = _("{ref} ({date}): {status}").format(
            ref=sig.reference, date=when(sig.created_at), status=status_label(sig.status)
        )
        line += f" – {sig.text[:60]}"
        if last is not None and last.note:
            line += "\n   " + _("Note: {note}").format(note=last.note)
        lines.append(line)
    if followed:
        lines += ["", _("Reports you follow:"), *followed]
    await ctx.edit(
        "\n".join(lines).strip(), keyboard(page.buttons(lambda i: MyReportsPage(i).pack()))
    )


async def _followed_lines(ctx: Ctx, person_id: int | None) -> list[str]:
    if person_id is None:
        return []
    followed = (await signals.followed_by(ctx.session, person_id))[::-1][:FOLLOWED_SHOWN]
    return [
        _("{ref} ({date}): {status}").format(
            ref=sig.reference, date=when(sig.created_at), status=status_label(sig.status)
        )
        + f" – {_(CATEGORY_LABELS.get(sig.category, sig.category))}"
        for sig in followed
    ]


@router.callback(SolvedAnswer)
async def solved_answer(ctx: Ctx) -> None:
    """The reporter's answer to "is it really solved?"; "no" reopens the report."""
    pressed = SolvedAnswer.of(ctx)
    sig = await signals.signal(ctx.session, pressed.signal)
    if (
        sig is None
        or ctx.person is None
        or ctx.person.id is None
        or not is_reporter(sig, ctx.actor)
    ):
        raise StaleButton()
    if pressed.answer == "yes":
        await ctx.edit(_("Good to hear! Thank you for reporting {ref}.").format(ref=sig.reference))
        return
    if sig.status not in ("resolved", "closed"):
        await ctx.edit(_("{ref} is already open again.").format(ref=sig.reference))
        return
    await signals.set_status(
        ctx.session, sig, "reopened", _("The reporter says it is not solved."), ctx.person.id
    )
    await audit.record(ctx.session, ctx.person.id, "signal.reopened", "signal", sig.id)
    # A forwarded report goes back to the municipality too; the reason, if any, waits a bit.
    await forwards.ask_reopen(ctx.session, sig.id or 0, "", ctx.clock.now() + REASON_WAIT)
    await tell_coordinators(
        ctx.session, sig,
        lambda: _("The reporter says {ref} is not solved. It is open again.").format(ref=sig.reference),
    )  # fmt: skip
    # Why is optional: the coordinators already know it is open again.
    ctx.dialog.goto(NotSolvedForm.why, signal_id=sig.id)
    await ctx.edit(
        _("Thank you. {ref} is open again and the coordinator has been told.").format(
            ref=sig.reference
        )
        + "\n"
        + _("What is still wrong? Write it in a few words for the coordinator, or choose Skip."),
        [ctx.choice(NotSolvedForm.why, _("Skip"), "skip")],
    )


@router.state(NotSolvedForm.why)
async def not_solved_why(ctx: Ctx) -> None:
    # Not a draft: the report is open again already, so a lost `signal_id` must not end in
    # "Nothing was saved"; it is read defensively and the answer still thanks.
    if ctx.event.kind == "button" and ctx.event.button_data == "skip":
        signal_id = ctx.dialog.data.get("signal_id")
        ctx.dialog.clear()
        if isinstance(signal_id, int):
            await forwards.ask_reopen(ctx.session, signal_id, "", ctx.clock.now(), add=True)
        await ctx.edit(_("Thank you. The coordinator will look at it again."))
        return
    why = await read_text(ctx)
    if why is None:
        return
    signal_id = ctx.dialog.data.get("signal_id")
    ctx.dialog.clear()
    sig = await signals.signal(ctx.session, signal_id) if isinstance(signal_id, int) else None
    if sig is None or ctx.person is None or not is_reporter(sig, ctx.actor):
        await ctx.reply(_("Thank you. That report no longer exists."))
        return
    await signals.add_note(ctx.session, sig, "answer", why, ctx.person.id)
    await forwards.ask_reopen(ctx.session, sig.id or 0, why, ctx.clock.now(), add=True)
    await tell_coordinators(
        ctx.session, sig,
        lambda: _("The reporter of {ref} says what is still wrong:").format(ref=sig.reference) + "\n" + why,
    )  # fmt: skip
    await ctx.reply(_("Thank you! The coordinator will read this."))
