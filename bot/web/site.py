"""What a page module needs from the web overview (`bot.web.app.WebOverview`): its database,
clock, templates and the coordinator behind a request. A protocol, so page modules do not
import the app that registers them."""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.core.clock import Clock
from bot.web.visitor import Visitor
from storage.db import Database


class Site(Protocol):
    db: Database
    clock: Clock

    def page(
        self,
        name: str,
        locale: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse: ...

    def message(
        self, text_id: str, status: int, locale: str | None = None, **values: object
    ) -> HTMLResponse: ...

    async def visitor(self, session: AsyncSession, request: Request) -> Visitor | None: ...

    def login_needed(self) -> HTMLResponse: ...
