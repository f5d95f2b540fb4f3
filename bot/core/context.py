"""`Ctx`: what a handler gets — the event, the person, the dialog and reply verbs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.core.clock import Clock
from bot.core.dialog import SWITCH, TEXT_STEP, Dialog
from bot.core.events import Button, Document, Incoming, Keyboard, MessageRef, Reply, keyboard
from bot.core.i18n import _, current_locale, set_locale
from bot.core.permissions import Actor
from bot.core.ports import GroupInvite
from bot.core.states import State
from bot.core.unit_of_work import UnitOfWork
from storage.models import Person
from storage.repo import people


@dataclass
class Outgoing:
    verb: Literal["send", "edit"]
    reply: Reply
    ref: MessageRef | None = None


@dataclass
class Ctx:
    event: Incoming
    session: AsyncSession
    dialog: Dialog
    uow: UnitOfWork
    settings: Settings
    clock: Clock
    capabilities: frozenset[str]
    direct_link: Callable[[str], str | None] = field(default=lambda _payload: None)
    group_invite: GroupInvite | None = None  # None: this platform cannot invite
    person: Person | None = None
    coordinator_of: list[int] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)

    @property
    def locale(self) -> str:
        return current_locale()

    @property
    def is_direct(self) -> bool:
        return self.event.chat.kind == "direct"

    @property
    def is_coordinator(self) -> bool:
        return bool(self.coordinator_of)

    @property
    def actor(self) -> Actor:
        """Who acts here, for the checks "may this person act on this object now?"."""
        person_id = self.person.id if self.person is not None else None
        return Actor(person_id, tuple(self.coordinator_of), self.event.chat)

    @property
    def expects_text(self) -> bool:
        """In a dialog step that expects text (an answer, a cost, a date), a typed number is
        that text, and the buttons are not numbered. Not while "Stop it?" waits."""
        data = self.dialog.data
        return self.dialog.state is not None and bool(data.get(TEXT_STEP)) and SWITCH not in data

    async def reply(
        self,
        text: str,
        buttons: Keyboard | list[Button] = (),
        document: Document | None = None,
        image: bytes | None = None,
    ) -> None:
        """Answer in the chat the event came from (sent after the transaction commits);
        `image`: a PNG the bot made (a chart), `text` its caption."""
        kb = keyboard(*buttons) if isinstance(buttons, list) else buttons
        reply = Reply(text=text, buttons=kb, document=document, image=image,
                      numbered=not self.expects_text)  # fmt: skip
        self.outgoing.append(Outgoing("send", reply))

    async def edit(self, text: str, buttons: Keyboard | list[Button] = ()) -> None:
        """Replace the message a pressed button belongs to; a new message where not possible."""
        kb = keyboard(*buttons) if isinstance(buttons, list) else buttons
        ref = self.event.message
        if self.event.kind == "button" and ref is not None and "edit" in self.capabilities:
            self.outgoing.append(Outgoing("edit", Reply(text=text, buttons=kb), ref))
        else:
            await self.reply(text, kb)

    async def ask(
        self, question: str, state: State, buttons: list[Button] | None = None, /, **data: object
    ) -> None:
        """Move the dialog to `state` and ask; a Cancel button is always offered.

        A step without buttons of its own expects text: a typed number is that text."""
        self.dialog.goto(state, **data, **{TEXT_STEP: not buttons})
        await self.reply(question, [*(buttons or []), self.cancel_button()])

    async def ask_text(
        self, question: str, state: State, buttons: list[Button], /, **data: object
    ) -> None:
        """`ask` for a step with buttons (Done) that takes typed text too."""
        self.dialog.goto(state, **data, **{TEXT_STEP: True})
        await self.reply(question, [*buttons, self.cancel_button()])

    def choice(self, state: State, label: str, value: str) -> Button:
        """A button that answers the dialog step `state`; stale once the dialog moved on."""
        return Button(label, f"@{state.name}|{value}")

    def cancel_button(self) -> Button:
        return Button(_("Cancel"), "cancel")

    async def ensure_person(self) -> Person:
        """The person behind this account, created on first contribution (no sign-up)."""
        if self.person is None:
            self.person = await people.create_person(
                self.session, self.event.user.platform, self.event.user.id, current_locale()
            )
            assert self.person.id is not None
            if self.is_direct:
                await people.remember_direct_chat(
                    self.session, self.person.id, self.event.chat.platform, self.event.chat.id
                )
        return self.person

    def switch_locale(self, locale: str) -> None:
        set_locale(locale)
        if self.person is not None:
            self.person.locale = current_locale()
            self.session.add(self.person)


Next = Callable[[Ctx], Awaitable[None]]  # the rest of the chain, down to the handler
Middleware = Callable[[Next, Ctx], Awaitable[None]]
