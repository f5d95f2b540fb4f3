"""The network's part of a digest (issue 13): help offers, ideas that still seek helpers and
initiative news, each one query for the whole run, like the rest of storage.repo.digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Idea, IdeaOffer, Initiative
from storage.repo.digests import _rows


@dataclass(frozen=True)
class OfferRow:
    """An offer of help made in the period, on an open idea with a theme (no helper named)."""

    idea_id: int
    neighbourhood_id: int
    theme_id: int
    person_id: int
    created_at: datetime


async def new_offers(session: AsyncSession, since: datetime) -> list[OfferRow]:
    """Offers made after `since` on open ideas with a theme, oldest first."""
    stmt = (
        _rows(
            IdeaOffer.idea_id, Idea.neighbourhood_id, Idea.theme_id, IdeaOffer.person_id,
            IdeaOffer.created_at,
        )
        .join(Idea, col(Idea.id) == col(IdeaOffer.idea_id))
        .where(
            col(IdeaOffer.created_at) > since, col(Idea.status) == "open",
            col(Idea.theme_id).is_not(None),
        )
        .order_by(col(IdeaOffer.created_at), col(IdeaOffer.id))
    )  # fmt: skip
    return [OfferRow(*row) for row in (await session.exec(stmt)).all()]


@dataclass(frozen=True)
class SeekingRow:
    """An open idea with a theme that nobody's offer was accepted for yet."""

    id: int
    neighbourhood_id: int
    theme_id: int
    author_id: int | None
    created_at: datetime


async def ideas_seeking_helpers(session: AsyncSession, per_theme: int) -> list[SeekingRow]:
    """Open ideas with a theme and no accepted offer, newest first: at most `per_theme` per
    neighbourhood and theme (a digest shows a few), so a run does not load the history."""
    accepted = exists().where(
        col(IdeaOffer.idea_id) == col(Idea.id), col(IdeaOffer.status) == "accepted"
    )
    rank = (
        func.row_number()
        .over(
            partition_by=(col(Idea.neighbourhood_id), col(Idea.theme_id)),
            order_by=(col(Idea.created_at).desc(), col(Idea.id).desc()),
        )
        .label("rank")
    )
    ranked = (
        _rows(Idea.id, Idea.neighbourhood_id, Idea.theme_id, Idea.author_id, Idea.created_at, rank)
        .where(col(Idea.status) == "open", col(Idea.theme_id).is_not(None), ~accepted)
        .subquery()
    )
    stmt = (
        _rows(ranked.c.id, ranked.c.neighbourhood_id, ranked.c.theme_id, ranked.c.author_id,
              ranked.c.created_at)
        .where(ranked.c.rank <= per_theme)
        .order_by(ranked.c.created_at.desc(), ranked.c.id.desc())
    )  # fmt: skip
    return [SeekingRow(*row) for row in (await session.exec(stmt)).all()]


@dataclass(frozen=True)
class InitiativeRow:
    """An initiative of an idea with a theme that started or was done in the period."""

    idea_id: int
    neighbourhood_id: int
    theme_id: int
    title: str
    status: str
    team: int
    done_text: str
    changed_at: datetime


async def initiative_news(session: AsyncSession, since: datetime) -> list[InitiativeRow]:
    """Initiatives started or done after `since` on ideas with a theme, with their team size,
    oldest change first."""
    team = (
        select(IdeaOffer.idea_id, func.count().label("n"))
        .where(col(IdeaOffer.status) == "accepted")
        .group_by(col(IdeaOffer.idea_id))
        .subquery()
    )
    changed = func.coalesce(col(Initiative.done_at), col(Initiative.created_at))
    stmt = (
        _rows(
            Initiative.idea_id, Idea.neighbourhood_id, Idea.theme_id, Idea.title,
            Initiative.status, func.coalesce(team.c.n, 0), Initiative.done_text, changed,
        )
        .join(Idea, col(Idea.id) == col(Initiative.idea_id))
        .outerjoin(team, team.c.idea_id == col(Initiative.idea_id))
        .where(changed > since, col(Idea.theme_id).is_not(None), col(Idea.status) == "open")
        .order_by(changed, col(Initiative.idea_id))
    )  # fmt: skip
    return [
        InitiativeRow(i, h, t, title, st, int(n), what, at)
        for i, h, t, title, st, n, what, at in (await session.exec(stmt)).all()
    ]
