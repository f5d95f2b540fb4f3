"""Neighbourhood budget rounds: projects, import, voting codes, secret ballots, export.

Secrecy: casting (storage/repo/ballots.py) writes a :class:`VoterRoll` row (who or which
code voted) and a :class:`SealedBallot` (the choices, encrypted to a key that is not in the
database) in one transaction; at closing the sealed ballots become plain :class:`Ballot`
rows in a random order. The roll's unique constraints make a second vote impossible.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    BudgetProject,
    BudgetRound,
    BudgetSupport,
    VoterRoll,
    VotingCode,
)
from storage.repo.unique import add_once

BALLOT_TYPES = ("approval", "knapsack", "cumulative")
VOTERS = ("codes", "members", "both")  # who may vote: letter codes, members who say they live here
PHASES = ("proposals", "voting", "closed", "results")


class BudgetError(ValueError):
    """A round, project list or import that cannot be accepted; ``line`` when from a file."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"line {line}: {problem}" if line is not None else problem)


# --- rounds and projects ------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSpec:
    code: str
    title: str
    cost: int
    description: str = ""


@dataclass(frozen=True)
class RoundSpec:
    """What an import file says about a round (the caller adds neighbourhood and rule)."""

    title: str
    budget: int | None
    ballot_type: str | None
    min_projects: int | None
    max_projects: int | None
    points: int | None
    projects: tuple[ProjectSpec, ...]


async def create_round(
    session: AsyncSession,
    *,
    neighbourhood_id: int,
    title: str,
    budget: int,
    counting_rule: str,
    ballot_type: str = "knapsack",
    min_projects: int = 1,
    max_projects: int | None = None,
    points: int | None = None,
    voters: str = "codes",
) -> BudgetRound:
    if voters not in VOTERS:
        raise BudgetError(f"unknown voters {voters!r}; valid: {', '.join(VOTERS)}")
    if ballot_type not in BALLOT_TYPES:
        raise BudgetError(f"unknown ballot type {ballot_type!r}; valid: {', '.join(BALLOT_TYPES)}")
    if budget <= 0:
        raise BudgetError("the budget must be a positive number of euros")
    if ballot_type == "cumulative" and not points:
        raise BudgetError("a cumulative ballot needs the number of points to divide")
    if max_projects is not None and max_projects < min_projects:
        raise BudgetError("the maximum number of projects is below the minimum")
    round_ = BudgetRound(
        neighbourhood_id=neighbourhood_id,
        title=title,
        budget=budget,
        counting_rule=counting_rule,
        ballot_type=ballot_type,
        min_projects=min_projects,
        max_projects=max_projects,
        points=points,
        voters=voters,
    )
    session.add(round_)
    await session.flush()
    return round_


async def rounds_in_progress(session: AsyncSession) -> list[BudgetRound]:
    """Rounds not counted yet (their codes and sealed ballots still need their key)."""
    stmt = select(BudgetRound).where(col(BudgetRound.phase) != "results")
    return list((await session.exec(stmt)).all())


async def get_round(session: AsyncSession, round_id: int) -> BudgetRound | None:
    return await session.get(BudgetRound, round_id)


async def add_projects(
    session: AsyncSession, round_: BudgetRound, projects: Sequence[ProjectSpec]
) -> list[BudgetProject]:
    if round_.locked:
        raise BudgetError("the round is locked: voting has opened")
    assert round_.id is not None
    rows = [
        BudgetProject(
            round_id=round_.id, code=p.code, title=p.title, description=p.description, cost=p.cost
        )
        for p in projects
    ]
    session.add_all(rows)
    try:
        await session.flush()
    except IntegrityError:
        raise BudgetError("a project id is used twice in this round") from None
    return rows


def on_ballot(project: BudgetProject) -> bool:
    """Feasible projects go on the ballot; a resident's proposal only once marked feasible."""
    return project.feasible is True or (project.feasible is None and project.proposer_id is None)


async def projects_of(session: AsyncSession, round_id: int) -> list[BudgetProject]:
    stmt = (
        select(BudgetProject)
        .where(col(BudgetProject.round_id) == round_id)
        .order_by(col(BudgetProject.id))
    )
    return list((await session.exec(stmt)).all())


async def open_voting(
    session: AsyncSession, round_: BudgetRound, opens_at: datetime, closes_at: datetime
) -> None:
    """Schedule voting and lock the rules."""
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise BudgetError("opening and closing times need a time zone")
    if closes_at <= opens_at:
        raise BudgetError("voting must close after it opens")
    round_.opens_at, round_.closes_at = opens_at.astimezone(UTC), closes_at.astimezone(UTC)
    round_.phase = "voting"
    round_.locked = True
    session.add(round_)
    await session.flush()


def is_closed(round_: BudgetRound, now: datetime) -> bool:
    """Voting is over: closed by phase, or the closing time has passed."""
    closes_at = round_.closes_at
    return round_.phase in ("closed", "results") or (closes_at is not None and now >= closes_at)


# --- voting codes -------------------------------------------------------------------------

# Crockford base32: no I, L, O, U. 12 random symbols (60 bits) and a Luhn mod 32 check
# symbol, shown as XXXX-XXXX-XXXX-X (13 symbols, like Amsterdam's letters).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_DATA_LENGTH = 12
_SIMILAR = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _luhn_sum(symbols: str, double_first: bool) -> int:
    n = len(ALPHABET)
    total = 0
    factor = 2 if double_first else 1
    for ch in reversed(symbols):
        addend = factor * _INDEX[ch]
        total += addend // n + addend % n
        factor = 3 - factor
    return total


def check_symbol(data: str) -> str:
    n = len(ALPHABET)
    return ALPHABET[(n - _luhn_sum(data, double_first=True) % n) % n]


def new_code() -> str:
    data = "".join(secrets.choice(ALPHABET) for _ in range(_DATA_LENGTH))
    return format_code(data + check_symbol(data))


def format_code(symbols: str) -> str:
    return "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))


def normalise_code(typed: str) -> str | None:
    """The 13 symbols of a typed code, or None when it is mistyped (check the code)."""
    cleaned = re.sub(r"[\s\-_.]", "", typed).upper().translate(_SIMILAR)
    if len(cleaned) != _DATA_LENGTH + 1 or any(c not in _INDEX for c in cleaned):
        return None
    if _luhn_sum(cleaned, double_first=False) % len(ALPHABET) != 0:
        return None
    return cleaned


def hash_code(key: bytes, symbols: str) -> str:
    """A code as stored: an HMAC under the round's code key (never in the database)."""
    return hmac.new(key, symbols.encode(), hashlib.sha256).hexdigest()


async def create_codes(
    session: AsyncSession, round_: BudgetRound, count: int, *, key: bytes, now: datetime
) -> list[str]:
    """``count`` new one-time codes; only their hashes under ``key`` are stored."""
    if count <= 0:
        raise BudgetError("the number of codes must be positive")
    if is_closed(round_, now):
        raise BudgetError("voting in this round has closed")
    assert round_.id is not None
    codes: dict[str, str] = {}
    while len(codes) < count:
        code = new_code()
        codes[hash_code(key, code.replace("-", ""))] = code
    session.add_all(VotingCode(round_id=round_.id, code_hash=h) for h in codes)
    await session.flush()
    return list(codes.values())


# --- rounds in chat: settings, proposals, feasibility, schedule ---------------------------


def _check_open(round_: BudgetRound) -> None:
    if round_.locked:
        raise BudgetError("the round is locked: voting has opened")


async def update_rules(
    session: AsyncSession,
    round_: BudgetRound,
    *,
    budget: int | None = None,
    counting_rule: str | None = None,
    ballot_type: str | None = None,
    min_projects: int | None = None,
    max_projects: int | None = None,
    points: int | None = None,
    voters: str | None = None,
) -> None:
    """Change a round's rules; refused once voting has opened (the rules are locked)."""
    _check_open(round_)
    if voters is not None:
        if voters not in VOTERS:
            raise BudgetError(f"unknown voters {voters!r}")
        round_.voters = voters
    if budget is not None:
        if budget <= 0:
            raise BudgetError("the budget must be a positive number of euros")
        round_.budget = budget
    if counting_rule is not None:
        round_.counting_rule = counting_rule
    if ballot_type is not None:
        if ballot_type not in BALLOT_TYPES:
            raise BudgetError(f"unknown ballot type {ballot_type!r}")
        if ballot_type == "cumulative" and not points:
            raise BudgetError("a cumulative ballot needs the number of points to divide")
        if max_projects is not None and max_projects < (min_projects or 1):
            raise BudgetError("the maximum number of projects is below the minimum")
        round_.ballot_type = ballot_type
        round_.min_projects = min_projects or 1
        round_.max_projects = max_projects
        round_.points = points
    session.add(round_)
    await session.flush()


async def next_project_code(session: AsyncSession, round_id: int) -> str:
    """The lowest unused number as a project id: "1", "2", … (ids may come from an import)."""
    used = {p.code for p in await projects_of(session, round_id)}
    n = len(used) + 1
    while str(n) in used:
        n += 1
    return str(n)


async def add_project(
    session: AsyncSession,
    round_: BudgetRound,
    *,
    title: str,
    description: str,
    cost: int,
    proposer_id: int | None = None,
) -> BudgetProject:
    """One project, by a coordinator (on the ballot) or proposed by a resident (to assess)."""
    _check_open(round_)
    if proposer_id is not None and round_.phase != "proposals":
        raise BudgetError("the proposals phase is over")
    assert round_.id is not None
    for _attempt in range(3):
        code = await next_project_code(session, round_.id)
        project = BudgetProject(
            round_id=round_.id,
            code=code,
            title=title,
            description=description,
            cost=cost,
            proposer_id=proposer_id,
        )
        if await add_once(session, project):
            return project
    raise BudgetError("could not give the project an id; try again")


async def project(session: AsyncSession, project_id: int) -> BudgetProject | None:
    return await session.get(BudgetProject, project_id)


async def add_support(session: AsyncSession, project_id: int, person_id: int) -> bool:
    """Support a proposal once; False if this person already did (a database constraint)."""
    return await add_once(session, BudgetSupport(project_id=project_id, person_id=person_id))


async def support_counts(session: AsyncSession, round_id: int) -> dict[int, int]:
    stmt = (
        select(BudgetSupport.project_id, func.count())
        .join(BudgetProject, col(BudgetProject.id) == col(BudgetSupport.project_id))
        .where(col(BudgetProject.round_id) == round_id)
        .group_by(col(BudgetSupport.project_id))
    )
    return {int(pid): int(n) for pid, n in (await session.exec(stmt)).all()}


async def set_feasibility(
    session: AsyncSession, round_: BudgetRound, project_: BudgetProject, feasible: bool, reason: str
) -> None:
    _check_open(round_)
    if not feasible and not reason.strip():
        raise BudgetError("give a reason when a project is not feasible")
    project_.feasible = feasible
    project_.feasibility_reason = reason or None
    session.add(project_)
    await session.flush()


async def schedule_voting(
    session: AsyncSession, round_: BudgetRound, opens_at: datetime, closes_at: datetime
) -> None:
    """Set when voting opens and closes; the scheduled job opens it (and locks the rules)."""
    _check_open(round_)
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise BudgetError("opening and closing times need a time zone")
    if closes_at <= opens_at:
        raise BudgetError("voting must close after it opens")
    # Stored in UTC: SQLite keeps only the wall time of an aware datetime.
    round_.opens_at, round_.closes_at = opens_at.astimezone(UTC), closes_at.astimezone(UTC)
    session.add(round_)
    await session.flush()


async def extend_voting(
    session: AsyncSession, round_: BudgetRound, closes_at: datetime, now: datetime
) -> None:
    """Move the closing time of an open vote later; never earlier, never into the past."""
    if round_.phase != "voting" or is_closed(round_, now):
        raise BudgetError("voting is not open")
    if closes_at.tzinfo is None:
        raise BudgetError("the closing time needs a time zone")
    if closes_at <= now or (round_.closes_at is not None and closes_at <= round_.closes_at):
        raise BudgetError("voting can only close later")
    round_.closes_at = closes_at.astimezone(UTC)
    session.add(round_)
    await session.flush()


async def rounds_in(
    session: AsyncSession, neighbourhood_ids: Sequence[int], *, include_done: bool = True
) -> list[BudgetRound]:
    stmt = select(BudgetRound).where(col(BudgetRound.neighbourhood_id).in_(neighbourhood_ids))
    if not include_done:
        stmt = stmt.where(col(BudgetRound.phase) != "results")
    return list((await session.exec(stmt.order_by(col(BudgetRound.id).desc()))).all())


async def due_to_open(session: AsyncSession, now: datetime) -> list[int]:
    stmt = select(BudgetRound.id).where(
        col(BudgetRound.phase) == "proposals",
        col(BudgetRound.opens_at).is_not(None),
        col(BudgetRound.opens_at) <= now,
    )
    return [int(i) for i in (await session.exec(stmt)).all() if i is not None]


async def due_to_close(session: AsyncSession, now: datetime) -> list[int]:
    stmt = select(BudgetRound.id).where(
        col(BudgetRound.phase).in_(("voting", "closed")),
        col(BudgetRound.closes_at).is_not(None),
        col(BudgetRound.closes_at) <= now,
    )
    return [int(i) for i in (await session.exec(stmt)).all() if i is not None]


async def lock_for_update(session: AsyncSession, round_id: int) -> BudgetRound | None:
    """The round, locked against a second sweep doing the same (a row lock on PostgreSQL)."""
    stmt = select(BudgetRound).where(col(BudgetRound.id) == round_id).with_for_update()
    return (await session.exec(stmt)).first()


async def start_voting(session: AsyncSession, round_: BudgetRound) -> None:
    """Voting opens now: the rules are locked."""
    round_.phase = "voting"
    round_.locked = True
    session.add(round_)
    await session.flush()


async def turnout(session: AsyncSession, round_id: int) -> int:
    """How many have voted (the roll holds no choices)."""
    stmt = select(func.count()).select_from(VoterRoll).where(col(VoterRoll.round_id) == round_id)
    return int((await session.exec(stmt)).one())


async def has_voted(session: AsyncSession, round_id: int, person_id: int) -> bool:
    stmt = select(VoterRoll.id).where(
        col(VoterRoll.round_id) == round_id, col(VoterRoll.person_id) == person_id
    )
    return (await session.exec(stmt)).first() is not None


def accepts_votes(round_: BudgetRound, now: datetime) -> bool:
    opens_at, closes_at = round_.opens_at, round_.closes_at
    return (
        round_.phase == "voting"
        and opens_at is not None
        and closes_at is not None
        and opens_at <= now < closes_at
    )


async def open_rounds(session: AsyncSession, now: datetime) -> list[BudgetRound]:
    """Rounds taking votes right now."""
    stmt = (
        select(BudgetRound).where(col(BudgetRound.phase) == "voting").order_by(col(BudgetRound.id))
    )
    return [r for r in (await session.exec(stmt)).all() if accepts_votes(r, now)]


async def withdraw_unchecked_proposals(session: AsyncSession, person_id: int) -> int:
    """A proposer erases their data: their proposals not yet checked go with them.

    (Without a proposer they would look like a coordinator's project, which is on the
    ballot.) Proposals already found feasible or not stay, without a name.
    """
    result = await session.exec(
        delete(BudgetProject).where(
            col(BudgetProject.proposer_id) == person_id, col(BudgetProject.feasible).is_(None)
        )
    )
    return int(result.rowcount or 0)
