"""The web overview for coordinators: the report queue, a report's page, its status.

Login is a one-time link from /dashboard in a direct chat (`bot.handlers.dashboard`); it
starts a session cookie (HttpOnly, SameSite=Strict, Secure on https) for 12 hours. Every
form carries the session's CSRF token. A coordinator sees only their neighbourhoods: a
report elsewhere answers 404, as one that does not exist. Status changes go through
`bot.services.signals.status`, the service the chat's buttons use (audit, the reporter told).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import LANGUAGES, Settings
from bot.core.clock import Clock
from bot.core.i18n import N_, _, ngettext, normalise_locale, right_to_left, use_locale, when
from bot.services import exports, web_login
from bot.services.signals import status as status_service
from bot.services.signals.notices import CATEGORY_LABELS, STATUS_LABELS, status_label
from bot.services.web_login import SESSION_VALID
from bot.web.bulk import BulkActions, Kept
from bot.web.downloads import Downloads
from bot.web.participation import ParticipationPage
from bot.web.public import PublicPages
from bot.web.visitor import N_CSRF, Visitor, csrf_matches, own_signal, read_form
from storage.db import Database
from storage.models import Person
from storage.repo import audit, forwards, people, places, signals, web

COOKIE = "wijkbot_session"
WEB_STATUSES = status_service.BY_HAND
AGES = {"7": 7, "30": 30, "90": 90}  # "older than … days"
PAGE = 50

N_LOGIN = N_("Please log in first: type /dashboard in a private chat with the bot.")
N_LINK_GONE = N_(
    "This link does not work (any more): it works once, for {minutes} minutes. "
    "Type /dashboard in a private chat with the bot for a new one."
)
N_NOT_FOUND = N_("This page does not exist.")
N_LOGGED_OUT = N_("You are logged out.")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class WebOverview:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        after_commit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.after_commit = after_commit
        self.secure = (settings.web_url or "").startswith("https://")
        self.templates = Environment(
            loader=FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=select_autoescape(),
        )
        self.templates.globals.update(
            _=_, ngettext=ngettext, status_label=status_label, when=when, LANGUAGES=LANGUAGES,
            CATEGORY_LABELS=CATEGORY_LABELS, STATUS_LABELS=STATUS_LABELS,
            WEB_STATUSES=WEB_STATUSES,
        )  # fmt: skip
        public = PublicPages(
            db, settings, clock, self.page,
            lambda locale: self.message(N_NOT_FOUND, 404, locale), SECURITY_HEADERS,
        )  # fmt: skip
        self.app = Starlette(
            routes=[
                Route("/", self.queue),
                Route("/login/{token}", self.login),
                Route("/reports/{signal_id:int}", self.report),
                Route("/reports/{signal_id:int}/status", self.set_status, methods=["POST"]),
                Route("/bulk", BulkActions(self).post, methods=["POST"]),
                Route("/language", self.language, methods=["POST"]),
                Route("/logout", self.logout, methods=["POST"]),
                Route("/export.{fmt:str}", self.download),
                Route("/wijk/{slug:str}", public.show),
                Route("/participation", ParticipationPage(self).show),
                Route("/downloads", Downloads(self).show),
                Route("/rounds/{round_id:int}.pb", Downloads(self).round_file),
                Mount("/static", StaticFiles(directory=Path(__file__).parent / "static")),
            ]
        )

    # --- plumbing ---------------------------------------------------------------------------

    def page(
        self,
        name: str,
        locale: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        with use_locale(locale):
            html = self.templates.get_template(name).render(
                lang=locale, rtl=right_to_left(locale), **values
            )
        return HTMLResponse(html, status_code=status, headers=headers or SECURITY_HEADERS)

    def message(
        self, text_id: str, status: int, locale: str | None = None, **values: object
    ) -> HTMLResponse:
        locale = locale or self.settings.default_locale
        with use_locale(locale):
            text = _(text_id).format(**values) if values else _(text_id)
        return self.page("message.html", locale, status, text=text)

    async def visitor(self, session: AsyncSession, request: Request) -> Visitor | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        row = await web.session_for(session, token, self.clock.now())
        if row is None:
            return None
        person = await session.get(Person, row.person_id)
        hoods = await people.coordinated_neighbourhoods(session, row.person_id)
        if person is None or not hoods:  # no longer a coordinator: the session ends here
            return None
        return Visitor(person, row, hoods)

    @staticmethod
    async def csrf_ok(request: Request, visitor: Visitor) -> tuple[bool, FormData]:
        form = await read_form(request)
        if form is None:
            return False, FormData()
        return csrf_matches(form, visitor), form

    def login_needed(self) -> HTMLResponse:
        return self.message(N_LOGIN, 401)

    # --- pages ------------------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        now = self.clock.now()
        async with self.db.transaction() as session:
            person_id = await web.consume_login(session, request.path_params["token"], now)
            if person_id is None:
                return self.message(N_LINK_GONE, 403, minutes=web_login.login_minutes())
            token, _row = await web.create_session(session, person_id, now, SESSION_VALID)
            await audit.record(session, person_id, "web.login", "person", person_id)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE, token, max_age=int(SESSION_VALID.total_seconds()), httponly=True,
            secure=self.secure, samesite="strict", path="/",
        )  # fmt: skip
        return response

    async def queue(self, request: Request) -> Response:
        async with self.db.session() as session:
            visitor = await self.visitor(session, request)
            if visitor is None:
                return self.login_needed()
            values = await self.queue_values(session, visitor, request.query_params)
        return self.page("queue.html", visitor.person.locale, **values)

    async def queue_values(
        self, session: AsyncSession, visitor: Visitor, q: QueryParams
    ) -> dict[str, Any]:
        """What queue.html shows for the filters in `q` (the bulk form posts them back)."""
        status = q.get("status", "open")
        category = q.get("category") or None
        age = AGES.get(q.get("age", ""))
        older = self.clock.now() - timedelta(days=age) if age else None
        fwd = {"yes": True, "no": False}.get(q.get("forwarded", ""))
        page_no = max(int(q.get("page", "0")) if q.get("page", "0").isdigit() else 0, 0)
        found, total = await web.queue(
            session, visitor.neighbourhood_ids,
            status=status if status in (*STATUS_LABELS, "open") else None,
            category=category if category in CATEGORY_LABELS else None,
            older_than=older, forwarded=fwd, limit=PAGE, offset=page_no * PAGE,
        )  # fmt: skip
        filters = {"status": status, "category": category or "", "age": q.get("age", ""),
                   "forwarded": q.get("forwarded", "")}  # fmt: skip
        return dict(
            reports=found, total=total, filters=filters, page_no=page_no,
            pages=(total + PAGE - 1) // PAGE, csrf=visitor.session_row.csrf, now=self.clock.now(),
            hoods=await self.hood_names(session, visitor.neighbourhood_ids),
            query=urlencode({**filters, "page": page_no}), kept=Kept(),
        )  # fmt: skip

    @staticmethod
    async def hood_names(session: AsyncSession, ids: list[int]) -> dict[int, str]:
        return await places.neighbourhood_names(session, ids)

    async def report(
        self,
        request: Request,
        notice: str = "",
        status: int = 200,
        kept: dict[str, str] | None = None,
    ) -> Response:
        """A report's page; after a refused change, `kept` fills the form again."""
        async with self.db.session() as session:
            visitor = await self.visitor(session, request)
            if visitor is None:
                return self.login_needed()
            sig = await own_signal(session, visitor, request.path_params["signal_id"])
            if sig is None:
                return self.message(N_NOT_FOUND, 404, visitor.person.locale)
            history = await signals.history(session, sig.id or 0)
            fwd = await forwards.for_signal(session, sig.id or 0)
            hoods = await self.hood_names(session, [sig.neighbourhood_id])
        return self.page(
            "report.html", visitor.person.locale, status, sig=sig, history=history, fwd=fwd,
            hood=hoods.get(sig.neighbourhood_id, ""), csrf=visitor.session_row.csrf,
            notice=notice, kept=kept or {},
        )  # fmt: skip

    async def set_status(self, request: Request) -> Response:
        signal_id = request.path_params["signal_id"]
        async with self.db.transaction() as session:
            visitor = await self.visitor(session, request)
            if visitor is None:
                return self.login_needed()
            ok, form = await self.csrf_ok(request, visitor)
            if not ok:
                return self.message(N_CSRF, 403, visitor.person.locale)
            sig = await own_signal(session, visitor, signal_id)
            if sig is None:
                return self.message(N_NOT_FOUND, 404, visitor.person.locale)
            new = str(form.get("status") or "")
            note = str(form.get("note") or "").strip()[:1000]
            with use_locale(visitor.person.locale):
                if new not in WEB_STATUSES:
                    problem: str | None = _("Choose a status.")
                else:
                    problem = status_service.refusal(sig, new, note)
            if problem is None:
                assert visitor.person.id is not None
                await status_service.change_status(session, sig, new, note, visitor.person.id)
        if problem is not None:
            return await self.report(request, problem, 400, {"status": new, "note": note})
        if self.after_commit is not None:
            await self.after_commit()
        return RedirectResponse(f"/reports/{signal_id}?changed=1", status_code=303)

    async def language(self, request: Request) -> Response:
        async with self.db.transaction() as session:
            visitor = await self.visitor(session, request)
            if visitor is None:
                return self.login_needed()
            ok, form = await self.csrf_ok(request, visitor)
            if not ok:
                return self.message(N_CSRF, 403, visitor.person.locale)
            chosen = str(form.get("lang") or "")
            if chosen in LANGUAGES:
                visitor.person.locale = normalise_locale(chosen)
                session.add(visitor.person)
        back = str(form.get("back") or "/")
        return RedirectResponse(back if back.startswith("/") and not back.startswith("//")
                                else "/", status_code=303)  # fmt: skip

    async def logout(self, request: Request) -> Response:
        async with self.db.transaction() as session:
            visitor = await self.visitor(session, request)
            if visitor is not None:
                ok, _form = await self.csrf_ok(request, visitor)
                if not ok:
                    return self.message(N_CSRF, 403, visitor.person.locale)
                await web.end_session(session, request.cookies.get(COOKIE, ""))
        response = self.message(N_LOGGED_OUT, 200)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def download(self, request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "geojson"):
            return self.message(N_NOT_FOUND, 404)
        async with self.db.session() as session:
            visitor = await self.visitor(session, request)
            if visitor is None:
                return self.login_needed()
            rows = await exports.signal_rows(session, visitor.neighbourhood_ids)
            assert visitor.person.id is not None
        async with self.db.transaction() as session:
            await audit.record(session, visitor.person.id, "web.export", "person",
                               visitor.person.id, format=fmt)  # fmt: skip
        media = "text/csv" if fmt == "csv" else "application/geo+json"
        return Response(
            exports.render("signals", fmt, rows), media_type=media,
            headers={**SECURITY_HEADERS,
                     "Content-Disposition": f'attachment; filename="meldingen.{fmt}"'},
        )  # fmt: skip


def create_app(
    db: Database,
    settings: Settings,
    clock: Clock,
    after_commit: Callable[[], Awaitable[None]] | None = None,
) -> Starlette:
    return WebOverview(db, settings, clock, after_commit).app
