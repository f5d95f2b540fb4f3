"""Who is behind a request, and whether their form came from this site (its CSRF token)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from bot.core.callbacks import MAX_ID  # a bigger "id" is no row, and no query
from bot.core.i18n import N_
from storage.models import Person, Signal, WebSession
from storage.repo import signals

N_CSRF = N_("This form is too old or did not come from this site. Please go back and try again.")


@dataclass
class Visitor:
    """The coordinator behind a request's cookie."""

    person: Person
    session_row: WebSession
    neighbourhood_ids: list[int]


async def read_form(request: Request, max_fields: int = 50) -> FormData | None:
    """The posted form, or None when it is too big to be one of ours (too many fields)."""
    try:
        return await request.form(max_fields=max_fields)
    except HTTPException:
        return None


def csrf_matches(form: FormData, visitor: Visitor) -> bool:
    sent = str(form.get("csrf") or "")
    return hmac.compare_digest(sent.encode(), visitor.session_row.csrf.encode())


async def own_signal(session: AsyncSession, visitor: Visitor, signal_id: int) -> Signal | None:
    """The report if it is in this coordinator's neighbourhoods; otherwise None (404)."""
    if not 1 <= signal_id <= MAX_ID:
        return None
    sig = await signals.signal(session, signal_id)
    if sig is None or sig.neighbourhood_id not in visitor.neighbourhood_ids:
        return None
    return sig
