"""A neighbourhood's public page, `/wijk/<slug>`: no login, only when the setup file says
`public_page = true` (otherwise 404, as a neighbourhood that does not exist).

Nothing on it identifies a resident: a report shows its number, category, public status
history (no notes) and street (no house number, no text the resident wrote); sensitive
categories' coordinates are blurred (`bot.services.signals.public`). Ideas show their title
and support count, as /ideeen does in a group; finished initiatives their idea's title
(not the initiator's "what we did"); polls their counts (never a named poll's voters).
The page is a list without JavaScript; the map (Leaflet, from /static) reads the page's
markers from a JSON script tag.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from bot.config import LANGUAGES, Settings
from bot.core.clock import Clock
from bot.core.i18n import _, normalise_locale, use_locale
from bot.services.ideas import idea_ref
from bot.services.initiatives import status_text
from bot.services.signals.notices import CATEGORY_LABELS, status_label
from bot.services.signals.public import public_place
from storage.db import Database
from storage.models import Neighbourhood
from storage.repo import budgets, ideas, initiatives, places, polls, public

PAGE = 50
WE_DID = timedelta(days=91)  # "the last three months"
SHORT_LISTS = 50  # ideas and "you said, we did": the newest ones
POLLS = 10


def tile_origin(url: str) -> str:
    """The tile server for the CSP's img-src: "https://{s}.tile.x/…" → "https://*.tile.x"."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def page_number(raw: str) -> int:
    """`?page=` counted from 1; anything else is the first page."""
    return max(int(raw), 1) if raw.isdigit() else 1


class PublicPages:
    """`page(template, locale, headers=…, **values)` and `not_found(locale)` come from the
    web overview, so both share their templates, messages and security headers."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        page: Callable[..., Response],
        not_found: Callable[[str], Response],
        headers: dict[str, str],
    ) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.page, self.not_found = page, not_found
        origin = tile_origin(settings.web_tile_url)
        csp = f"{headers['Content-Security-Policy']}; img-src 'self' {origin}".rstrip()
        self.headers = {**headers, "Content-Security-Policy": csp}

    async def show(self, request: Request) -> Response:
        q = request.query_params
        lang = q.get("lang", "")
        locale = normalise_locale(lang) if lang in LANGUAGES else self.settings.default_locale
        page_no = page_number(q.get("page", ""))
        async with self.db.session() as session:
            hood = await places.neighbourhood_by_slug(session, request.path_params["slug"])
            if hood is None or not hood.public_page or hood.id is None:
                return self.not_found(locale)
            with use_locale(locale):
                values = await self.gather(session, hood, hood.id, page_no)
        return self.page(
            "public.html", locale, headers=self.headers, hood=hood, page_no=page_no,
            lang_param=lang if lang in LANGUAGES else "", **values,
        )  # fmt: skip

    async def gather(
        self, session: AsyncSession, hood: Neighbourhood, hood_id: int, page_no: int
    ) -> dict[str, Any]:
        found, total = await public.reports(session, hood_id, PAGE, (page_no - 1) * PAGE)
        history = await public.histories(session, [s.id for s in found if s.id is not None])
        reports = []
        for sig in found:
            place = public_place(sig)
            reports.append({
                "ref": sig.reference, "category": _(CATEGORY_LABELS.get(sig.category, "")),
                "status": status_label(sig.status), "street": place.street,
                "lat": place.lat, "lon": place.lon, "created_at": sig.created_at,
                "history": [(u.created_at, status_label(u.status)) for u in history[sig.id or 0]],
            })  # fmt: skip
        since = self.clock.now() - WE_DID
        solved = await public.solved_since(session, hood_id, since, SHORT_LISTS)
        done = await public.done_since(session, hood_id, since, SHORT_LISTS)
        return {
            "reports": reports, "total": total, "pages": max((total + PAGE - 1) // PAGE, 1),
            "ideas": await self.ideas(session, hood_id), "polls": await self.polls(session, hood_id),
            "rounds": await self.rounds(session, hood_id),
            "solved": [(s.reference, _(CATEGORY_LABELS.get(s.category, "")),
                        public_place(s).street, s.updated_at) for s in solved],
            "done": [(idea_ref(idea.id), idea.title, ini.done_at) for idea, ini in done],
            "map": self.map_data(reports),
        }  # fmt: skip

    async def ideas(self, session: AsyncSession, hood_id: int) -> list[tuple[str, str, int, str]]:
        found = await ideas.recent_ideas(session, hood_id, limit=SHORT_LISTS)
        ids = [i.id for i, _n in found if i.id is not None]
        started = await initiatives.of_ideas(session, ids)
        teams = await initiatives.team_sizes(session, list(started))
        return [
            (
                idea_ref(i.id),
                i.title,
                n,
                status_text(started.get(i.id or 0), teams.get(i.id or 0, 0)),
            )
            for i, n in found
        ]

    async def polls(self, session: AsyncSession, hood_id: int) -> list[dict[str, Any]]:
        shown = []
        for poll in await public.closed_polls(session, hood_id, POLLS):
            tally = await polls.tally(session, poll)  # counts only: names are never shown
            most = max(tally.counts, default=0) or 1
            shown.append({
                "question": poll.question, "closed_at": poll.closed_at, "voters": tally.voters,
                "options": [(o, n, round(100 * n / most)) for o, n in zip(poll.options, tally.counts, strict=True)],
            })  # fmt: skip
        return shown

    async def rounds(self, session: AsyncSession, hood_id: int) -> list[dict[str, Any]]:
        shown = []
        for round_ in await budgets.rounds_in(session, [hood_id]):
            if round_.phase != "results" or not round_.result or round_.id is None:
                continue
            votes: dict[str, int] = round_.result.get("votes", {})
            selected = set(round_.result.get("selected", []))
            most = max(votes.values(), default=0) or 1
            projects = sorted(
                await budgets.projects_of(session, round_.id),
                key=lambda p: -votes.get(p.code, 0),
            )
            shown.append({
                "title": round_.title, "budget": round_.budget,
                "projects": [(p.title, p.cost, votes.get(p.code, 0), p.code in selected,
                              round(100 * votes.get(p.code, 0) / most))
                             for p in projects if p.code in votes],
            })  # fmt: skip
        return shown

    def map_data(self, reports: list[dict[str, Any]]) -> dict[str, Any]:
        settings = self.settings
        return {
            "tiles": settings.web_tile_url, "attribution": settings.web_tile_attribution,
            "area": list(settings.area) if settings.area else None,
            "markers": [
                {k: r[k] for k in ("ref", "category", "status", "street", "lat", "lon")}
                for r in reports if r["lat"] is not None
            ],
        }  # fmt: skip
