"""Feeds each `Incoming` through middlewares to the first matching handler.

One event is one transaction: replies are buffered and sent only after commit, so a
user is never told "saved" about something that was rolled back. One error boundary
logs the traceback and tells the user kindly, in their language.

An event from the inbox (`inbox_id`) is marked handled in that same transaction, and its
replies are kept in the outbox in it too (`replies`, bot/core/replies.py), so a worker killed
before it sent them leaves them to another. When the database is away, such an event raises
`StoreUnavailable` instead: it stays in the inbox, nobody is told anything, and it is handled
once the database is back.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.core import screen
from bot.core.callbacks import StaleButton
from bot.core.clock import Clock, SystemClock
from bot.core.context import Ctx, Middleware, Next, Outgoing
from bot.core.dialog import Dialog
from bot.core.errors import UserFacingError
from bot.core.events import Button, Incoming, Reply
from bot.core.i18n import _, use_locale
from bot.core.interrupt import SWITCH_BUTTON, ask_first, busy_with, pause, take_switch
from bot.core.interrupt import after as after_interruption
from bot.core.metrics import Metrics
from bot.core.ports import Adapter, StoreUnavailable, Unreachable, group_invite_of
from bot.core.replies import Kept, Replies, edited, send_one
from bot.core.router import Route, Router
from bot.core.unit_of_work import UnitOfWork
from storage.db import Database
from storage.repo import inbox

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
# What a transaction leaves to do after its commit: replies to send, whether the outbox got
# messages, and the replies as kept in the outbox (an inbox event with `replies` set).
Done = tuple[list[Outgoing], bool, Kept | None]


class Dispatcher:
    def __init__(
        self,
        db: Database,
        router: Router,
        settings: Settings,
        middlewares: Sequence[Middleware] = (),
        clock: Clock | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.router = router
        self.settings = settings
        self.middlewares = list(middlewares)
        self.clock = clock or SystemClock()
        self.after_commit: list[AfterCommit] = []
        self.metrics = metrics or Metrics()
        # Set by the app: replies to inbox events kept in the outbox until they are sent.
        self.replies: Replies | None = None

    def feed_for(self, adapter: Adapter) -> Callable[[Incoming], Awaitable[None]]:
        async def feed(event: Incoming) -> None:
            await self.handle(adapter, event)

        return feed

    async def handle(self, adapter: Adapter, event: Incoming) -> None:
        started = time.perf_counter()  # the handler's latency: a duration, not a time of day
        with use_locale(event.user.language_code or self.settings.default_locale):
            done = await self._transaction(adapter, event)
            if done is None:
                return  # not this worker's to handle (see `_transaction`)
            outgoing, enqueued, kept = done
            if kept is not None and self.replies is not None:
                enqueued |= await self.replies.send(adapter, event.chat, kept)
            else:
                await self._deliver(adapter, event, outgoing)
        self.metrics.handled(adapter.platform, event.kind, time.perf_counter() - started)
        if enqueued:
            for hook in self.after_commit:
                await hook()

    async def _transaction(self, adapter: Adapter, event: Incoming) -> Done | None:
        """What to send after the commit; None when the inbox entry is not this worker's to
        handle: handled already (sent again, or by another worker), an older entry of its
        chat waits, or another worker is handling its chat now."""
        async with self.db.session() as session:
            ctx: Ctx | None = None
            try:
                if event.inbox_id is not None and not await inbox.claim(
                    session, event.inbox_id, self.clock.now()
                ):
                    return None
                dialog = await Dialog(session, event.chat, event.user).load(self.clock.now())
                uow = UnitOfWork(session, dialog, inbox_id=event.inbox_id)
                ctx = Ctx(
                    event=event,
                    session=session,
                    dialog=dialog,
                    uow=uow,
                    settings=self.settings,
                    clock=self.clock,
                    capabilities=adapter.capabilities,
                    direct_link=adapter.direct_link,
                    group_invite=group_invite_of(adapter),
                )
                await self._run(ctx)
                await screen.remember(ctx)
                await dialog.save()
                kept = await self._keep(session, event, ctx.outgoing)
                await session.commit()
                return ctx.outgoing, uow.queued_messages(), kept
            except UserFacingError as exc:
                await _rollback(session)
                return await self._handled(event, ctx, exc, Reply(exc.message))
            except Exception as exc:
                await _rollback(session)
                if event.inbox_id is not None and not _claimed(ctx) and await self.db.is_away(exc):
                    raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
                # A failing update is not retried for ever: it is marked handled.
                text = _(
                    "Sorry, something went wrong on our side. Nothing was saved. "
                    "Please try again in a moment, or type /help."
                )
                done = await self._handled(event, ctx, exc, Reply(text))
                if done is not None:
                    log.exception(
                        "handler failed for %s event in %s", event.kind, event.chat.platform
                    )
                return done

    async def _keep(
        self, session: AsyncSession, event: Incoming, outgoing: list[Outgoing]
    ) -> Kept | None:
        """An inbox event's replies, kept in the outbox in its transaction (see the module)."""
        if event.inbox_id is None or self.replies is None:
            return None
        return await self.replies.keep(session, event.chat, outgoing, self.clock.now())

    async def _handled(
        self, event: Incoming, ctx: Ctx | None, cause: Exception, reply: Reply
    ) -> Done | None:
        """After the event's transaction was rolled back: mark an inbox event handled and keep
        `reply` to it, in one transaction. None if it was handled already; StoreUnavailable
        if that cannot be stored now."""
        outgoing = [Outgoing("send", reply)]
        if event.inbox_id is None:
            return outgoing, False, None
        keep = True
        while True:
            try:
                async with self.db.transaction() as session:
                    if not _claimed(ctx) and not await inbox.claim(
                        session, event.inbox_id, self.clock.now()
                    ):
                        return None
                    kept = await self._keep(session, event, outgoing) if keep else None
                return outgoing, False, kept
            except Exception as exc:
                if _claimed(ctx):  # handled already (committed early): tell the person anyway
                    return outgoing, False, None
                if not keep or await self.db.is_away(exc):
                    raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from cause
                # Keeping the answer failed, the database is there: handled all the same
                # (never stuck in the inbox), the answer sent directly.
                log.exception("keeping the answer failed")
                keep = False

    async def _run(self, ctx: Ctx) -> None:
        call: Next = self._route
        for mw in reversed(self.middlewares):
            call = _bind(mw, call)
        await call(ctx)
        await after_interruption(ctx)

    @staticmethod
    async def _deliver(adapter: Adapter, event: Incoming, outgoing: list[Outgoing]) -> None:
        for out in outgoing:
            try:
                await send_one(adapter, event.chat, out.reply, edited(out))
            except Unreachable:
                log.info("chat unreachable on %s", adapter.platform)
                return
            except Exception:
                log.exception("sending a reply failed on %s", adapter.platform)

    # -- routing ---------------------------------------------------------------------------

    async def _route(self, ctx: Ctx) -> None:
        """After the middlewares: the handler for this event, or a kind answer."""
        route = self._resolve(ctx)
        if route is None:
            await self._fallback(ctx)
            return
        if ctx.event.chat.kind == "group" and route.kind == "command" and not route.in_groups:
            await self._to_direct_chat(ctx)
            return
        if route.role == "coordinator" and not ctx.coordinator_of:
            await ctx.reply(
                _(
                    "Only a coordinator of the neighbourhood can do this. Type /help to see what you can do."
                )
            )
            return
        if (
            route.kind == "command"
            and not route.keeps_dialog
            and not await self._interrupt(ctx, route)
        ):
            return
        await self._run_handler(ctx, route)

    @staticmethod
    async def _run_handler(ctx: Ctx, route: Route) -> None:
        """Run the handler. A `StaleButton` (an old button, a forged one, or one this person
        may not press) is answered like any reply, and whatever the handler did before it
        was raised is undone: no row, no reply, no change to the dialog."""
        savepoint = await ctx.session.begin_nested()
        kept = ctx.person, ctx.dialog.state, dict(ctx.dialog.data), len(ctx.outgoing)
        try:
            await route.handler(ctx)
        except StaleButton as stale:
            if savepoint.is_active:  # not when the handler committed early (a ballot)
                await savepoint.rollback()
            ctx.person, ctx.dialog.state, ctx.dialog.data, sent = kept
            del ctx.outgoing[sent:]
            await ctx.reply(stale.message)
            return
        if savepoint.is_active:
            await savepoint.commit()

    def _resolve(self, ctx: Ctx) -> Route | None:
        event = ctx.event
        if event.kind == "command":
            return self._deep_link(ctx) or self.router.find_command(event.command or "")
        if event.kind == "button":
            data = event.button_data or ""
            if data == SWITCH_BUTTON:
                return self._switch(ctx)
            if data.startswith("@"):
                state, _sep, value = data[1:].partition("|")
                if ctx.dialog.state != state:
                    return None
                ctx.event = dataclasses.replace(event, button_data=value)
                return self.router.find_state(state)
            return self.router.find_callback(data)
        if event.kind == "poll_answer":  # an answer to a native poll is never a dialog step
            return self.router.find_message(event.kind)
        if ctx.dialog.state is not None:
            route = self.router.find_state(ctx.dialog.state)
            if route is not None:
                return route
            ctx.dialog.clear()
        if ctx.event.chat.kind == "group" and event.kind in ("text", "photo", "location"):
            return None  # residents chatting among themselves
        return self.router.find_message(event.kind)

    @staticmethod
    async def _interrupt(ctx: Ctx, route: Route) -> bool:
        """A command in the middle of a dialog: True to run it now (the dialog put aside
        or ended); False when the person is asked first whether to stop the dialog."""
        if route.while_busy == "pause":
            pause(ctx)
            return True
        doing = busy_with(ctx.dialog)
        if doing is not None and ctx.is_direct:
            await ask_first(ctx, doing)
            return False
        ctx.dialog.clear()
        return True

    def _switch(self, ctx: Ctx) -> Route | None:
        """ "Stop, and go to /idee": the dialog ends and the waiting command runs."""
        waiting = take_switch(ctx)
        if waiting is None:
            return None
        command, _sep, args = waiting.partition(" ")
        ctx.event = dataclasses.replace(
            ctx.event, kind="command", command=command, args=args, button_data=None
        )
        return self.router.find_command(command)

    def _deep_link(self, ctx: Ctx) -> Route | None:
        """`/start <command>`, from a link to a private chat, is that command with all its
        checks (the coordinator's role too); other payloads are for the start handler."""
        event = ctx.event
        name = event.args.strip().lower()
        if (event.command or "").lower() != "start" or not name or name == "start":
            return None
        route = self.router.find_command(name)
        if route is not None:
            ctx.event = dataclasses.replace(event, command=name, args="")
        return route

    @staticmethod
    async def _to_direct_chat(ctx: Ctx) -> None:
        command = ctx.event.command or ""
        link = ctx.direct_link(command)
        text = _("Let's do that in a private chat, so the group is not flooded.")
        if link:
            await ctx.reply(text, [Button(_("Open a private chat"), "", url=link)])
        else:
            await ctx.reply(
                text + " " + _("Send me a direct message with /{command}.").format(command=command)
            )

    async def _fallback(self, ctx: Ctx) -> None:
        event = ctx.event
        if event.kind == "command":
            await ctx.reply(
                _("I don't know the command /{command}. Type /help to see what I can do.").format(
                    command=event.command
                )
            )
        elif event.kind == "button":
            await ctx.reply(
                _(
                    "This button no longer works: it belongs to an earlier conversation. Type /help to start again."
                )
            )
        elif event.chat.kind == "direct":
            await ctx.reply(
                _("Sorry, I didn't understand that. Choose one of the buttons, or type /help.")
            )


def _claimed(ctx: Ctx | None) -> bool:
    """The handler committed early (`commit_now`), and with it the claim on the inbox entry:
    what it did cannot be done again, so the person is told, whatever failed after."""
    return ctx is not None and ctx.uow.committed_early


async def _rollback(session: AsyncSession) -> None:
    """Roll back; on a connection that broke there is nothing left to roll back."""
    try:
        await session.rollback()
    except Exception:
        log.info("rollback failed: the connection is gone")


def _bind(mw: Middleware, nxt: Next) -> Next:
    async def call(ctx: Ctx) -> None:
        await mw(nxt, ctx)

    return call
