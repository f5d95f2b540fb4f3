"""A closed round's anonymous ballots as an election: for counting and a public recount."""

from __future__ import annotations

import random
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.budget.counting.election import Ballot as PbBallot
from bot.services.budget.counting.election import Election
from bot.services.budget.counting.election import Project as PbProject
from bot.services.budget.counting.pabulib_write import write_pabulib
from storage.models import Ballot, BudgetRound
from storage.repo.budgets import BudgetError, is_closed, on_ballot, projects_of


async def election_of(session: AsyncSession, round_: BudgetRound) -> Election:
    """The round's anonymous ballots as an election; voters numbered in a random order."""
    assert round_.id is not None
    projects = [p for p in await projects_of(session, round_.id) if on_ballot(p)]
    stmt = select(Ballot.choices).where(col(Ballot.round_id) == round_.id)
    all_choices = list((await session.exec(stmt)).all())
    random.SystemRandom().shuffle(all_choices)
    cumulative = round_.ballot_type == "cumulative"
    ballots = []
    for number, choices in enumerate(all_choices, start=1):
        if cumulative:
            ballots.append(
                PbBallot(str(number), tuple(choices), tuple(int(v) for v in choices.values()))
            )
        else:
            ballots.append(PbBallot(str(number), tuple(choices)))
    meta = {
        "description": round_.title,
        "num_projects": str(len(projects)),
        "num_votes": str(len(ballots)),
        "budget": str(round_.budget),
        "vote_type": "cumulative" if cumulative else "approval",
        "rule": round_.counting_rule,
        "currency": "EUR",
        "language": "nl",
    }
    if round_.ballot_type == "knapsack":
        meta["max_sum_cost"] = str(round_.budget)
    else:
        meta["min_length"] = str(round_.min_projects)
    if round_.ballot_type == "approval" and round_.max_projects is not None:
        meta["max_length"] = str(round_.max_projects)
    if cumulative:
        meta["max_sum_points"] = str(round_.points)
    return Election(
        budget=round_.budget,
        vote_type=meta["vote_type"],
        projects=tuple(
            PbProject(p.code, p.cost, {"name": p.title, "description": p.description})
            for p in projects
        ),
        ballots=tuple(ballots),
        meta=meta,
    )


def is_counted(round_: BudgetRound) -> bool:
    """The round's result is counted and published in the chat: its ballots may be shown."""
    return round_.phase == "results" and round_.result is not None


async def export_pabulib(session: AsyncSession, round_: BudgetRound, now: datetime) -> str:
    """The anonymised ballots as a Pabulib file; only after voting has closed."""
    if not is_closed(round_, now):
        raise BudgetError("voting has not closed yet: ballots are shown only after closing")
    if round_.phase != "results":
        raise BudgetError(
            "the ballots are opened when the round is counted (within a minute of closing, "
            "while `wijkbot run` is running); try again then"
        )
    return write_pabulib(await election_of(session, round_))
