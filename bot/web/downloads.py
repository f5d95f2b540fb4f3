"""`/downloads`: the reports (CSV, GeoJSON; served by the overview's `/export.*`) and each
counted budget round of the coordinator's neighbourhoods as a Pabulib `.pb` file.

A round elsewhere, or one that does not exist, answers 404 alike. A round's file exists
once its result is published in the chat (phase "results"), as `wijkbot budget export`
gives it; each download is audited as `web.export`. The file holds the anonymous ballots,
numbered in a fresh random order (`bot.services.budget.results.election_of`): nothing in it
names, orders or links a voter.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.core.callbacks import MAX_ID
from bot.core.i18n import N_
from bot.services.budget import results
from bot.web.site import Site
from storage.repo import audit, budgets, places
from storage.repo.budgets import BudgetError

N_NOT_FOUND = N_("This page does not exist.")
N_NOT_COUNTED = N_(
    "The votes of this round are not counted yet. The file is here once the result is "
    "published in the chat."
)
FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Downloads:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def show(self, request: Request) -> Response:
        site = self.site
        async with site.db.session() as session:
            visitor = await site.visitor(session, request)
            if visitor is None:
                return site.login_needed()
            rounds = await budgets.rounds_in(session, visitor.neighbourhood_ids)
            names = await places.neighbourhood_names(session, visitor.neighbourhood_ids)
        shown = [(r, names.get(r.neighbourhood_id, ""), results.is_counted(r)) for r in rounds]
        return site.page(
            "downloads.html", visitor.person.locale, rounds=shown, csrf=visitor.session_row.csrf
        )

    async def round_file(self, request: Request) -> Response:
        site = self.site
        round_id = request.path_params["round_id"]
        async with site.db.session() as session:
            visitor = await site.visitor(session, request)
            if visitor is None:
                return site.login_needed()
            locale = visitor.person.locale
            round_ = await budgets.get_round(session, round_id) if round_id <= MAX_ID else None
            if round_ is None or round_.neighbourhood_id not in visitor.neighbourhood_ids:
                return site.message(N_NOT_FOUND, 404, locale)
            if not results.is_counted(round_):
                return site.message(N_NOT_COUNTED, 409, locale)
            try:
                text = await results.export_pabulib(session, round_, site.clock.now())
            except BudgetError:
                return site.message(N_NOT_COUNTED, 409, locale)
        async with site.db.transaction() as session:
            await audit.record(session, visitor.person.id, "web.export", "budgetround",
                               round_id, format="pb")  # fmt: skip
        return Response(
            text, media_type="text/plain; charset=utf-8",
            headers={**FILE_HEADERS,
                     "Content-Disposition": f'attachment; filename="wijkbudget-{round_id}.pb"'},
        )  # fmt: skip
