"""`/participation`: a coordinator's charts of who takes part in their neighbourhoods, and
"who is missing" by age group (as /wiemister in the chat). Tables with CSS bars, no script:
the numbers are the chart's text, the bars only repeat them (`bot.services.participation`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.core.i18n import use_locale
from bot.services import participation
from bot.services.forum.missing import MIN_SHOWN
from bot.web.site import Site
from storage.repo import places


class ParticipationPage:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def show(self, request: Request) -> Response:
        site = self.site
        now = site.clock.now()
        async with site.db.session() as session:
            visitor = await site.visitor(session, request)
            if visitor is None:
                return site.login_needed()
            ids = visitor.neighbourhood_ids
            names = participation.names_in_order(
                await places.neighbourhood_names(session, ids), ids
            )
            with use_locale(visitor.person.locale):
                months = await participation.per_month(session, names, now)
                missing = await participation.who_is_missing(session, names)
                kinds = participation.kind_labels()
        return site.page(
            "participation.html", visitor.person.locale, charts=months, missing=missing,
            kinds=kinds, least=MIN_SHOWN, csrf=visitor.session_row.csrf,
        )  # fmt: skip
