"""/wijkforum: a resident puts themselves in a lottery-drawn forum's pool (a few balancing
questions, then consent: nothing is stored without the yes), answers an invitation, and
a coordinator sees each forum's pool size or panel composition (never answers per person)."""

from __future__ import annotations

from pydantic import Field

from bot.core.context import Ctx
from bot.core.drafts import Draft
from bot.core.events import Button
from bot.core.i18n import N_, _, day, ngettext
from bot.core.router import Router
from bot.core.states import State, StatesGroup
from bot.handlers.common import guarded, guess_wait, home_of, lost, note_wrong_code, please_choose
from bot.services.forum.codes import find_code
from bot.services.forum.features import feature_name, features_of, value_label
from bot.services.forum.panel import Invitation, LeavePool, answer, composition_lines, leave
from storage.forum_models import Forum
from storage.repo import budgets, forums, places

router = Router("forum_join")


class JoinForm(StatesGroup):
    interrupted = N_("You were joining the pool of a neighbourhood forum.")
    feature = State()
    consent = State()


class JoinDraft(Draft):
    """Joining a forum's pool: the answers so far, and the letter code if one was used."""

    forum: int
    answers: dict[str, str] = Field(default_factory=dict)
    code: int | None = None


step = guarded("wijkforum", JoinDraft)


@router.command("wijkforum", "forum")
async def forum_command(ctx: Ctx) -> None:
    if ctx.event.args.strip():
        await _join_with_code(ctx, ctx.event.args)
        return
    if ctx.coordinator_of:
        await _coordinator_view(ctx)
    home = await home_of(ctx)
    if home is None or home.id is None:
        if not ctx.coordinator_of:
            await ctx.reply(_("First tell me your neighbourhood with /start."))
        return
    open_ = await forums.open_forums(ctx.session, [home.id], ctx.clock.now())
    if not open_:
        if not ctx.coordinator_of:
            await ctx.reply(
                _("There is no neighbourhood forum to join in {name} right now.").format(
                    name=home.name
                )
            )
        return
    await _start_join(ctx, open_[0], None)


async def _start_join(ctx: Ctx, forum: Forum, code_id: int | None) -> None:
    assert forum.id is not None
    pid = ctx.person.id if ctx.person is not None else None
    if pid is not None and await forums.member(ctx.session, forum.id, pid) is not None:
        await ctx.reply(
            _(
                "You are in the pool of the neighbourhood forum “{purpose}”. The draw is after {date}."
            ).format(purpose=forum.purpose, date=day(forum.pool_closes_at)),
            [Button(_("Leave the pool"), LeavePool(forum.id).pack())],
        )
        return
    ctx.dialog.clear()
    ctx.dialog.update(forum=forum.id, answers={}, code=code_id)
    features = ", ".join(feature_name(f) for f in features_of(forum.quotas))
    await ctx.reply(
        _(
            "We draw {seats} residents by lot for the neighbourhood forum “{purpose}”. "
            "So that the group looks like the neighbourhood, I ask you a few short questions: "
            "{features}. We keep your answers only for the draw and erase them when the forum "
            "ends on {end}. Coordinators never see your answers, only how many people of each "
            "group were drawn."
        ).format(
            seats=forum.seats, purpose=forum.purpose, features=features, end=day(forum.ends_at)
        )
    )
    await _ask_next(ctx, forum)


async def _join_with_code(ctx: Ctx, typed: str) -> None:
    minutes = guess_wait(ctx)  # the same limit as for voting codes
    if minutes is not None:
        await ctx.reply(
            ngettext(
                "You typed too many wrong codes. To keep the forum safe, please wait {n} minute and try again with /wijkforum.",
                "You typed too many wrong codes. To keep the forum safe, please wait {n} minutes and try again with /wijkforum.",
                minutes,
            ).format(n=minutes)
        )
        return
    symbols = budgets.normalise_code(typed)
    if symbols is None:
        await ctx.reply(
            _(
                "That code does not look right. Check the letters and numbers and type it again. A code looks like {example}."
            ).format(example="7K3M-Q9XR-2HPT-Z")
        )
        return
    open_ = await forums.all_open_forums(ctx.session, ctx.clock.now())
    found = await find_code(ctx.session, ctx.settings, open_, symbols)
    if found is None:
        note_wrong_code(ctx)
        await ctx.reply(
            _("I don't know this code. Check it and type it again, or ask a coordinator for help.")
        )
        return
    forum, row = found
    if row.used_at is not None:
        await ctx.reply(_("This code has already been used. Each code works only once."))
        return
    await _start_join(ctx, forum, row.id)


async def _forum_of_dialog(ctx: Ctx) -> Forum | None:
    forum = await forums.forum(ctx.session, JoinDraft.of(ctx).forum)
    if forum is None or forum.seed is not None or forum.pool_closes_at <= ctx.clock.now():
        ctx.dialog.clear()
        await ctx.reply(_("Sorry, the pool of this forum is closed now. Nothing was stored."))
        return None
    return forum


async def _ask_next(ctx: Ctx, forum: Forum) -> None:
    answers = JoinDraft.of(ctx).answers
    todo = [f for f in features_of(forum.quotas) if f not in answers]
    if todo:
        feature = todo[0]
        buttons = [ctx.choice(JoinForm.feature, value_label(v), v) for v in forum.quotas[feature]]
        await ctx.ask(
            _("Which fits you? ({feature})").format(feature=feature_name(feature)),
            JoinForm.feature,
            buttons,
        )
        return
    await ctx.ask(
        _("May we keep these answers for the draw, until {end}? Then you are in the pool.").format(
            end=day(forum.ends_at)
        ),
        JoinForm.consent,
        [
            ctx.choice(JoinForm.consent, _("Yes, put me in the pool"), "yes"),
            ctx.choice(JoinForm.consent, _("No, store nothing"), "no"),
        ],
    )


@router.state(JoinForm.feature)
@step
async def feature_step(ctx: Ctx) -> None:
    forum = await _forum_of_dialog(ctx)
    if forum is None:
        return
    answers = dict(JoinDraft.of(ctx).answers)
    todo = [f for f in features_of(forum.quotas) if f not in answers]
    if not todo:
        await lost(ctx, "wijkforum")
        return
    value = ctx.event.button_data if ctx.event.kind == "button" else None
    if value is None or value not in forum.quotas[todo[0]]:
        buttons = [ctx.choice(JoinForm.feature, value_label(v), v) for v in forum.quotas[todo[0]]]
        await please_choose(ctx, buttons)
        return
    answers[todo[0]] = value
    ctx.dialog.update(answers=answers)
    await _ask_next(ctx, forum)


@router.state(JoinForm.consent)
@step
async def consent_step(ctx: Ctx) -> None:
    forum = await _forum_of_dialog(ctx)
    if forum is None or forum.id is None:
        return
    choice = ctx.event.button_data if ctx.event.kind == "button" else None
    if choice not in ("yes", "no"):
        await please_choose(
            ctx,
            [
                ctx.choice(JoinForm.consent, _("Yes, put me in the pool"), "yes"),
                ctx.choice(JoinForm.consent, _("No, store nothing"), "no"),
            ],
        )
        return
    draft = JoinDraft.of(ctx)
    answers, code_id = draft.answers, draft.code
    ctx.dialog.clear()
    if choice == "no":
        await ctx.reply(_("All right. We stored nothing."))
        return
    person = await ctx.ensure_person()
    assert person.id is not None
    await forums.lock(ctx.session, forum.id)  # joins take turns: one pool number each
    if await forums.member(ctx.session, forum.id, person.id) is None:
        if code_id is not None and not (
            isinstance(code_id, int)
            and await forums.claim_code(ctx.session, code_id, ctx.clock.now())
        ):
            await ctx.reply(_("This code has already been used. Each code works only once."))
            return
        await forums.add_member(ctx.session, forum.id, person.id, answers)
    await ctx.reply(
        _(
            "Thank you, you are in the pool. If you are drawn, I will ask you here whether "
            "you take part. To leave the pool, type /wijkforum at any time."
        )
    )


@router.callback(LeavePool)
async def leave_pool(ctx: Ctx) -> None:
    pressed = LeavePool.of(ctx)
    pid = ctx.actor.person_id
    if pid is None or not await leave(ctx.session, pressed.forum, pid):
        await ctx.reply(_("You are not in the pool of this forum."))
        return
    await ctx.reply(_("You left the pool. Your answers are erased."))


@router.callback(Invitation)
async def invitation(ctx: Ctx) -> None:
    pressed = Invitation.of(ctx)
    forum = await forums.forum(ctx.session, pressed.forum)
    pid = ctx.actor.person_id
    row = await forums.member(ctx.session, pressed.forum, pid) if pid is not None else None
    if (
        forum is None
        or forum.id is None
        or row is None
        or row.id is None
        or not await answer(ctx.session, forum.id, row.id, pressed.verb == "yes", ctx.clock)
    ):
        await ctx.reply(_("This question is no longer open."))
        return
    if pressed.verb == "yes":
        await ctx.reply(
            _(
                "Welcome to the neighbourhood forum “{purpose}”! The coordinator will tell you when and where it meets."
            ).format(purpose=forum.purpose)
        )
    else:
        await ctx.reply(_("All right, thank you for letting us know. We will ask someone else."))


async def _coordinator_view(ctx: Ctx) -> None:
    for hood_id in ctx.coordinator_of:
        hood = await places.neighbourhood(ctx.session, hood_id)
        for forum in await forums.forums_of(ctx.session, hood_id):
            assert forum.id is not None
            title = _("Neighbourhood forum “{purpose}” in {name}").format(
                purpose=forum.purpose, name=hood.name if hood else "?"
            )
            if forum.erased_at is not None:
                lines = [_("Ended; the pool's answers are erased.")]
            elif forum.seed is None:
                pool = len(await forums.members(ctx.session, forum.id))
                lines = [
                    _("{n} residents in the pool; the pool closes on {date}.").format(
                        n=pool, date=day(forum.pool_closes_at)
                    )
                ]
            else:
                lines = [_("Drawn with seed {seed}.").format(seed=forum.seed)]
                lines += await composition_lines(ctx.session, forum)
            await ctx.reply(title + "\n" + "\n".join(lines))
