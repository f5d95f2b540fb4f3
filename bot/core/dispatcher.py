"""Feeds each `Incoming` through middlewares to the first matching handler.

One event is one transaction: replies are buffered and sent only after commit, so a
user is never told "saved" about something that was rolled back. One error boundary
logs the traceback and tells the user kindly, in their language.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from bot.config import Settings
from bot.core.clock import Clock, SystemClock
from bot.core.context import Ctx, Outgoing
from bot.core.dialog import Dialog
from bot.core.errors import UserFacingError
from bot.core.events import Button, Incoming, Reply, stored_keyboard
from bot.core.i18n import _, fold, use_locale
from bot.core.ports import Adapter, Unreachable
from bot.core.router import Route, Router
from bot.core.text import MAX_TEXT
from bot.core.unit_of_work import UnitOfWork
from storage.db import Database
from storage.repo import cursors, outbox

log = logging.getLogger(__name__)

Next = Callable[[Ctx], Awaitable[None]]
Middleware = Callable[[Next, Ctx], Awaitable[None]]
AfterCommit = Callable[[], Awaitable[None]]

RECENT = timedelta(days=2)
CANCEL_COMMANDS = frozenset({"stop", "annuleer", "cancel"})
CANCEL_WORDS = frozenset({"stop", "annuleer", "annuleren", "cancel", "stoppen"})


class Dispatcher:
    def __init__(
        self,
        db: Database,
        router: Router,
        settings: Settings,
        middlewares: Sequence[Middleware] = (),
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.router = router
        self.settings = settings
        self.middlewares = list(middlewares)
        self.clock = clock or SystemClock()
        self.after_commit: list[AfterCommit] = []

    def feed_for(self, adapter: Adapter) -> Callable[[Incoming], Awaitable[None]]:
        async def feed(event: Incoming) -> None:
            await self.handle(adapter, event)

        return feed

    async def handle(self, adapter: Adapter, event: Incoming) -> None:
        with use_locale(event.user.language_code or self.settings.default_locale):
            outgoing, enqueued = await self._transaction(adapter, event)
            await self._deliver(adapter, event, outgoing)
        if enqueued:
            for hook in self.after_commit:
                await hook()

    async def _transaction(self, adapter: Adapter, event: Incoming) -> tuple[list[Outgoing], bool]:
        async with self.db.session() as session:
            ctx: Ctx | None = None
            try:
                dialog = await Dialog(session, event.chat, event.user).load(self.clock.now())
                uow = UnitOfWork(session, dialog)
                ctx = Ctx(
                    event=event,
                    session=session,
                    dialog=dialog,
                    uow=uow,
                    settings=self.settings,
                    clock=self.clock,
                    capabilities=adapter.capabilities,
                    direct_link=adapter.direct_link,
                )
                await self._run(ctx)
                self._remember_choices(ctx)
                await dialog.save()
                if event.cursor is not None:
                    await cursors.put(session, *event.cursor)
                await session.commit()
                return ctx.outgoing, uow.queued_messages()
            except UserFacingError as exc:
                await session.rollback()
                await self._store_cursor(event)
                return [Outgoing("send", Reply(exc.message))], False
            except Exception:
                await session.rollback()
                await self._store_cursor(event)  # a failing update is not retried for ever
                log.exception("handler failed for %s event in %s", event.kind, event.chat.platform)
                text = _(
                    "Sorry, something went wrong on our side. Nothing was saved. "
                    "Please try again in a moment, or type /help."
                )
                return [Outgoing("send", Reply(text))], False

    async def _store_cursor(self, event: Incoming) -> None:
        if event.cursor is not None:
            async with self.db.transaction() as session:
                await cursors.put(session, *event.cursor)

    async def _run(self, ctx: Ctx) -> None:
        call: Next = self._route
        for mw in reversed(self.middlewares):
            call = _bind(mw, call)
        await call(ctx)

    @staticmethod
    def _remember_choices(ctx: Ctx) -> None:
        sent_here = ctx.outgoing  # sends and edits alike: the last one shows the buttons
        if sent_here:
            buttons = [b for b in sent_here[-1].reply.flat_buttons() if b.url is None]
            ctx.dialog.offer(buttons)

    @staticmethod
    async def _deliver(adapter: Adapter, event: Incoming, outgoing: list[Outgoing]) -> None:
        for out in outgoing:
            try:
                if out.verb == "edit" and out.ref is not None:
                    await adapter.edit(out.ref, out.reply)
                else:
                    await adapter.send(event.chat, out.reply)
            except Unreachable:
                log.info("chat unreachable on %s", adapter.platform)
                return
            except Exception:
                log.exception("sending a reply failed on %s", adapter.platform)

    # -- routing ---------------------------------------------------------------------------

    async def _route(self, ctx: Ctx) -> None:  # noqa: C901 -- to become middlewares (issue 14)
        event = ctx.event
        chatter = event.chat.kind == "group" and ctx.dialog.state is None
        if event.kind == "text" and chatter:
            return  # residents talking among themselves in a group: not for us
        if event.kind == "text":
            text = event.text.strip()
            if len(text) > MAX_TEXT:
                await ctx.reply(
                    _(
                        "That message is too long ({count} characters). "
                        "Please keep it under {limit} characters."
                    ).format(count=len(text), limit=MAX_TEXT)
                )
                return
            if not text:
                if ctx.dialog.state is not None or ctx.is_direct:
                    await ctx.reply(_("I received an empty message. Please type some text."))
                return
            if text.isdigit():  # the only way to press a listed button we did not reply with
                await self._offer_broadcast_buttons(ctx)
            event = self._pressed_choice(ctx, text) or event
            if event.kind == "text" and fold(text) in CANCEL_WORDS:
                event = dataclasses.replace(event, kind="command", command="stop", args="")
            ctx.event = event

        if event.kind == "command" and (event.command or "") in CANCEL_COMMANDS:
            await self._cancel(ctx)
            return
        if event.kind == "button" and event.button_data == "cancel":
            await self._cancel(ctx)
            return

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
        await route.handler(ctx)

    def _resolve(self, ctx: Ctx) -> Route | None:
        event = ctx.event
        if event.kind == "command":
            route = self.router.find_command(event.command or "")
            if route is not None and not route.keeps_dialog:
                ctx.dialog.clear()
            return route
        if event.kind == "button":
            data = event.button_data or ""
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
    async def _offer_broadcast_buttons(ctx: Ctx) -> None:
        """In an idle direct chat, a number typed after a poll or digest presses its button.

        Platforms without buttons (Matrix, the console) show them as a numbered list; the
        newest message with buttons counts, whether it was a reply or sent by the outbox.
        """
        if not ctx.is_direct or ctx.dialog.state is not None:
            return
        chat = ctx.event.chat
        # Newer than the buttons of our last reply; with none, from the last two days (so
        # "1" then "3" both count on a multiple-choice poll).
        after = ctx.dialog.changed_at if ctx.dialog.choices else ctx.clock.now() - RECENT
        rows = await outbox.last_buttons_to(ctx.session, chat.platform, chat.id, after)
        if rows:
            ctx.dialog.choices = [b for row in stored_keyboard(rows) for b in row]

    @staticmethod
    def _pressed_choice(ctx: Ctx, text: str) -> Incoming | None:
        """A typed number or button label counts as pressing that button."""
        choices = ctx.dialog.choices
        if not choices:
            return None
        picked = None
        if text.isdigit() and 1 <= int(text) <= len(choices):
            picked = choices[int(text) - 1]
        else:
            wanted = fold(text)
            picked = next((b for b in choices if fold(b.label) == wanted), None)
        if picked is None:
            return None
        return dataclasses.replace(
            ctx.event, kind="button", button_data=picked.data, text="", message=None
        )

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

    async def _cancel(self, ctx: Ctx) -> None:
        if ctx.dialog.state is None:
            await ctx.reply(_("There is nothing to stop. Type /help to see what I can do."))
            return
        ctx.dialog.clear()
        await ctx.reply(_("Stopped. Nothing was saved. Type /help to see what I can do."))

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


def _bind(mw: Middleware, nxt: Next) -> Next:
    async def call(ctx: Ctx) -> None:
        await mw(nxt, ctx)

    return call
