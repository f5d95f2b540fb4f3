"""Routers that nest; handlers registered by decorator next to their code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from bot.core.callbacks import CallbackData
from bot.core.states import State

if TYPE_CHECKING:
    from bot.core.context import Ctx

Handler = Callable[["Ctx"], Awaitable[None]]
Role = Literal["coordinator"]
WhileBusy = Literal["ask", "pause"]


@dataclass(frozen=True)
class Route:
    kind: Literal["command", "callback", "state", "message"]
    keys: tuple[str, ...]
    handler: Handler
    role: Role | None = None
    keeps_dialog: bool = False
    kinds: tuple[str, ...] = ()
    in_groups: bool = False
    while_busy: WhileBusy = "ask"


@dataclass
class Router:
    name: str = "root"
    routes: list[Route] = field(default_factory=list)
    children: list[Router] = field(default_factory=list)

    def include(self, *routers: Router) -> None:
        self.children.extend(routers)

    def _add(self, route: Route) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes.append(replace(route, handler=fn))
            return fn

        return register

    def command(
        self,
        *names: str,
        role: Role | None = None,
        keeps_dialog: bool = False,
        in_groups: bool = False,
        while_busy: WhileBusy = "ask",
    ) -> Callable[[Handler], Handler]:
        """Handle `/name` (and `!name` on Matrix); names are matched case-insensitively.

        Commands are for direct chats unless `in_groups`: in a group the bot answers
        briefly and moves the conversation to a direct chat, so the group is not flooded.
        In the middle of a dialog, a command asks first whether to stop it; one marked
        `while_busy="pause"` (harmless: a setting, a list) runs, and then offers to go on.
        """
        keys = tuple(n.lower() for n in names)
        return self._add(
            Route(
                "command",
                keys,
                _noop,
                role,
                keeps_dialog,
                in_groups=in_groups,
                while_busy=while_busy,
            )
        )

    def callback(
        self, kind: str | type[CallbackData], role: Role | None = None
    ) -> Callable[[Handler], Handler]:
        """Handle a button of `kind` (a `CallbackData` class, or a bare prefix before `:`)."""
        prefix = kind if isinstance(kind, str) else kind.prefix
        return self._add(Route("callback", (prefix,), _noop, role))

    def state(self, *states: State) -> Callable[[Handler], Handler]:
        """Handle any input while the user's dialog is in one of `states`."""
        return self._add(Route("state", tuple(s.name for s in states), _noop))

    def message(
        self, kinds: tuple[str, ...] = ("text",), role: Role | None = None
    ) -> Callable[[Handler], Handler]:
        """Handle free input outside a dialog (first match wins)."""
        return self._add(Route("message", (), _noop, role, kinds=kinds, in_groups=True))

    def walk(self) -> Iterator[Route]:
        yield from self.routes
        for child in self.children:
            yield from child.walk()

    def find_command(self, name: str) -> Route | None:
        name = name.lower()
        return next((r for r in self.walk() if r.kind == "command" and name in r.keys), None)

    def find_callback(self, data: str) -> Route | None:
        prefix = data.split(":", 1)[0]
        return next((r for r in self.walk() if r.kind == "callback" and prefix in r.keys), None)

    def find_state(self, state: str) -> Route | None:
        return next((r for r in self.walk() if r.kind == "state" and state in r.keys), None)

    def find_message(self, kind: str) -> Route | None:
        return next((r for r in self.walk() if r.kind == "message" and kind in r.kinds), None)

    def command_names(self) -> list[str]:
        return [k for r in self.walk() if r.kind == "command" for k in r.keys]


async def _noop(_ctx: Any) -> None:  # placeholder replaced on registration
    return None
