"""Bulk actions on the report queue: tick reports, then set a status with a note, send them
to the municipality, or merge them into one original. Each report goes through the
services the chat's buttons use (`status`, `triage`), so each change is audited with the
coordinator's id and each reporter is told in the chat, in their own language.

One refused report (its reason shown in the coordinator's language) neither stops nor undoes
the others, and what was typed stays in the form. A report outside the coordinator's
neighbourhoods is "not found", exactly as one that does not exist. A form that cannot be
ours (ids that are no ids, too many of them) changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import Response

from bot.core.callbacks import MAX_ID
from bot.core.i18n import N_, _, use_locale
from bot.services.signals import status as status_service
from bot.services.signals import triage
from bot.web.site import Site
from bot.web.visitor import N_CSRF, Visitor, csrf_matches, own_signal, read_form
from storage.models import Signal, signal_reference
from storage.repo import signals

BULK_LIMIT = 100  # reports in one action; the queue shows 50 a page
ACTIONS = ("status", "forward", "merge")

N_TOO_BIG = N_(
    "This form is too big: you can change at most {n} reports at once. Nothing was changed."
)
N_BAD_IDS = N_(
    "Something is wrong with the ticked reports, so nothing was changed. Please try again."
)
N_NONE_TICKED = N_("Tick at least one report first.")
N_NO_ACTION = N_("Choose what to do with the ticked reports.")
N_NOT_FOUND = N_("I can't find report {ref}, or it is not in your neighbourhood.")


@dataclass(frozen=True)
class Result:
    """What happened to one ticked report, for the coordinator to read."""

    signal_id: int
    done: bool
    text: str

    @property
    def reference(self) -> str:
        return signal_reference(self.signal_id)


@dataclass(frozen=True)
class Kept:
    """What the coordinator ticked and typed, shown again in the form."""

    ticked: frozenset[int] = frozenset()
    action: str = ""
    status: str = ""
    note: str = ""
    original: str = ""


class BulkSite(Site, Protocol):
    """What the web overview lends the bulk actions, besides what every page gets."""

    after_commit: Callable[[], Awaitable[None]] | None

    async def queue_values(
        self, session: AsyncSession, visitor: Visitor, q: QueryParams
    ) -> dict[str, Any]: ...


def parse_ids(values: list[str]) -> list[int] | None:
    """The ticked report ids in order, each once; None if one of them is no report id."""
    ids: dict[int, None] = {}
    for raw in values:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 1 <= int(raw) <= MAX_ID:
            return None
        ids[int(raw)] = None
    return list(ids)


def kept_from(form: FormData, ticked: list[int]) -> Kept:
    def field(name: str, size: int) -> str:
        return str(form.get(name) or "").strip()[:size]

    return Kept(
        frozenset(ticked), field("action", 20), field("status", 20), field("note", 1000),
        field("original", 20),
    )  # fmt: skip


class BulkActions:
    def __init__(self, site: BulkSite) -> None:
        self.site = site

    async def post(self, request: Request) -> Response:
        site = self.site
        async with site.db.transaction() as session:
            visitor = await site.visitor(session, request)
            if visitor is None:
                return site.login_needed()
            locale = visitor.person.locale
            # A few fields besides the ticks; more cannot come from our form.
            form = await read_form(request, max_fields=BULK_LIMIT + 10)
            if form is not None and not csrf_matches(form, visitor):
                return site.message(N_CSRF, 403, locale)
            ids = parse_ids([str(v) for v in form.getlist("report")]) if form else None
            kept = kept_from(form, ids or []) if form else Kept()
            with use_locale(locale):
                if form is None or (ids is not None and len(ids) > BULK_LIMIT):
                    outcome: str | list[Result] = _(N_TOO_BIG).format(n=BULK_LIMIT)
                elif ids is None:
                    outcome = _(N_BAD_IDS)
                else:
                    outcome = await self.apply(session, visitor, ids, kept)
        changed = isinstance(outcome, list) and any(r.done for r in outcome)
        if changed and site.after_commit is not None:
            await site.after_commit()
        if isinstance(outcome, list):  # refused ones stay ticked, to try something else
            kept = replace(kept, ticked=frozenset(r.signal_id for r in outcome if not r.done))
        async with site.db.session() as session:
            values = await site.queue_values(session, visitor, request.query_params)
        values["kept"] = kept
        return site.page(
            "queue.html", locale, 200 if changed else 400,
            results=outcome if isinstance(outcome, list) else [],
            notice=outcome if isinstance(outcome, str) else "", **values,
        )  # fmt: skip

    async def apply(
        self, session: AsyncSession, visitor: Visitor, ids: list[int], kept: Kept
    ) -> str | list[Result]:
        """Each ticked report's result, or why nothing was done (the whole form's problem)."""
        if not ids:
            return _(N_NONE_TICKED)
        if kept.action not in ACTIONS:
            return _(N_NO_ACTION)
        if kept.action == "status" and kept.status not in status_service.BY_HAND:
            return _("Choose a status.")
        original = None
        if kept.action == "merge":
            original_id = signals.parse_reference(kept.original)
            if original_id is None:
                return _("Please type a report number, for example M-1042.")
            original = await own_signal(session, visitor, original_id)
            if original is None:
                return _(N_NOT_FOUND).format(ref=signal_reference(original_id))
        assert visitor.person.id is not None
        results = []
        for signal_id in ids:
            sig = await own_signal(session, visitor, signal_id)
            if sig is None:
                ref = signal_reference(signal_id)
                results.append(Result(signal_id, False, _(N_NOT_FOUND).format(ref=ref)))
            else:
                results.append(await self.one(session, sig, kept, original, visitor.person.id))
        return results

    async def one(
        self,
        session: AsyncSession,
        sig: Signal,
        kept: Kept,
        original: Signal | None,
        coordinator_id: int,
    ) -> Result:
        if kept.action == "status":
            problem = status_service.refusal(sig, kept.status, kept.note)
            if problem is None:
                told = await status_service.change_status(
                    session, sig, kept.status, kept.note, coordinator_id
                )
                return Result(sig.id or 0, True, status_service.done_text(sig, kept.status, told))
            return Result(sig.id or 0, False, problem)
        if kept.action == "forward":
            done = await triage.forward(session, sig, coordinator_id, self.site.clock.now())
            status = "forwarded"
        else:
            assert original is not None
            done = await triage.merge(session, sig, original, coordinator_id)
            status = "closed"
        if done.refused:
            return Result(sig.id or 0, False, done.refused)
        return Result(sig.id or 0, True, status_service.done_text(sig, status, done.told))
