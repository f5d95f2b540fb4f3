"""Who may take part in a round's proposals phase, in one place for its buttons.

Proposing and supporting are for the round's neighbourhood: its residents (members, as in
`audience`) and coordinators. Voting has its own rule (`handlers.budget.vote`): members
vote in person, anyone else only with a letter code of that round.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.permissions import Actor
from storage.models import BudgetProject, BudgetRound
from storage.repo import audience


async def of_the_neighbourhood(session: AsyncSession, round_: BudgetRound, actor: Actor) -> bool:
    if actor.coordinates(round_.neighbourhood_id):
        return True
    return actor.person_id is not None and await audience.includes_person(
        session, actor.person_id, round_.neighbourhood_id, None
    )


async def may_propose(session: AsyncSession, round_: BudgetRound, actor: Actor) -> bool:
    return await of_the_neighbourhood(session, round_, actor)


async def may_support(
    session: AsyncSession, round_: BudgetRound, project: BudgetProject, actor: Actor
) -> bool:
    """A resident's proposal that is not refused (the only ones with a Support button)."""
    return (
        project.round_id == round_.id
        and project.proposer_id is not None
        and project.feasible is not False
        and await of_the_neighbourhood(session, round_, actor)
    )
