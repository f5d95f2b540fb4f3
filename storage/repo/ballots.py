"""Casting a secret ballot: one vote per person or code, checked against the round's rules
and who may vote, under a lock on the round.

The voter-roll row and the ballot are written in one transaction, so the ballot is stored
*sealed* (encrypted, one padded length; the key is not in the database): a copy of the
database taken during voting cannot pair a voter with their choices, by transaction id,
row order or file offset. :func:`open_sealed` turns them into plain ballots at closing, in a
random order. Storage holds no keys: the caller passes a :class:`Sealer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import Ballot, BudgetRound, Membership, SealedBallot, VoterRoll, VotingCode
from storage.repo.budgets import (
    get_round,
    has_voted,
    hash_code,
    normalise_code,
    on_ballot,
    projects_of,
)


class VoteResult(enum.Enum):
    OK = "ok"
    ALREADY_VOTED = "already_voted"
    CODE_TYPO = "code_typo"  # malformed or wrong check symbol: "check the code"
    WRONG_CODE = "wrong_code"
    USED_CODE = "used_code"
    OUTSIDE_WINDOW = "outside_window"
    OVER_BUDGET = "over_budget"
    INVALID = "invalid"
    NOT_ELIGIBLE = "not_eligible"  # the round's voters do not include this way of voting


class Sealer(Protocol):
    """The keys of a round, kept outside the database (bot/services/budget/sealing.py)."""

    def code_key(self, round_: BudgetRound) -> bytes: ...

    def seal(self, round_: BudgetRound, choices: Any, ballot_codes: Sequence[str]) -> bytes: ...

    def open(self, round_: BudgetRound, sealed: bytes) -> Any: ...


def members_may_vote(round_: BudgetRound) -> bool:
    return round_.voters in ("members", "both")


def codes_may_vote(round_: BudgetRound) -> bool:
    return round_.voters in ("codes", "both")


async def is_member_voter(session: AsyncSession, round_: BudgetRound, person_id: int) -> bool:
    """A member voter: the round lets members vote, and the person had chosen the round's
    neighbourhood as home before voting opened (so /wijk never grants a vote)."""
    if not members_may_vote(round_) or round_.opens_at is None:
        return False
    stmt = select(Membership.home_since).where(
        col(Membership.person_id) == person_id,
        col(Membership.neighbourhood_id) == round_.neighbourhood_id,
        col(Membership.is_home),
    )
    since = (await session.exec(stmt)).first()
    return since is not None and since < round_.opens_at


def _canonical_choices(
    round_: BudgetRound, costs: Mapping[str, int], choices: Any
) -> tuple[VoteResult, Any]:
    """Check ``choices`` against the round's ballot type; the form to store when valid."""
    if round_.ballot_type == "cumulative":
        if not isinstance(choices, Mapping) or not choices:
            return VoteResult.INVALID, None
        points = dict(choices)
        if any(k not in costs for k in points) or any(
            not isinstance(v, int) or isinstance(v, bool) or v <= 0 for v in points.values()
        ):
            return VoteResult.INVALID, None
        if sum(points.values()) > (round_.points or 0) or len(points) < round_.min_projects:
            return VoteResult.INVALID, None
        return VoteResult.OK, {k: points[k] for k in sorted(points)}
    if isinstance(choices, str | bytes | Mapping) or not isinstance(choices, Sequence | set):
        return VoteResult.INVALID, None
    chosen = list(choices)
    if len(set(chosen)) != len(chosen) or any(c not in costs for c in chosen) or not chosen:
        return VoteResult.INVALID, None
    if round_.ballot_type == "knapsack":
        if sum(costs[c] for c in chosen) > round_.budget:
            return VoteResult.OVER_BUDGET, None
    elif len(chosen) < round_.min_projects or (
        round_.max_projects is not None and len(chosen) > round_.max_projects
    ):
        return VoteResult.INVALID, None
    return VoteResult.OK, sorted(chosen)


async def cast_ballot(  # noqa: C901 -- one refusal per rule of the ballot
    session: AsyncSession,
    round_: BudgetRound,
    choices: Any,
    *,
    keys: Sealer,
    now: datetime,
    person_id: int | None = None,
    code: str | None = None,
) -> VoteResult:
    """Record one sealed ballot for a person or a code, atomically with the voter roll.

    Call at the start of a transaction and commit it; ``choices`` is a list of project ids
    (approval, knapsack) or ``{project id: points}`` (cumulative). Without a code, the
    person votes as a member; with one, a known person is on the roll as well, so an
    account votes once either way.
    """
    if person_id is None and code is None:
        raise ValueError("give a person, a code, or both (a known person voting with a code)")
    assert round_.id is not None
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        # Take SQLite's write lock first (waiting for it), so a later write cannot fail
        # with a stale read snapshot when many voters arrive at once.
        await session.exec(
            text("UPDATE budgetround SET locked = locked WHERE id = :id").bindparams(id=round_.id)
        )  # type: ignore[call-overload]
    else:
        # Share-lock the round and read it again: closing (which locks it for update) waits
        # for this vote, or this vote sees the round closed — never a vote after the count.
        locked = (
            select(BudgetRound)
            .where(col(BudgetRound.id) == round_.id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
        round_ = (await session.exec(locked)).one()
    assert round_.id is not None
    if person_id is not None and await has_voted(session, round_.id, person_id):
        return VoteResult.ALREADY_VOTED
    opens_at, closes_at = round_.opens_at, round_.closes_at
    if (
        round_.phase != "voting"
        or opens_at is None
        or closes_at is None
        or not opens_at <= now < closes_at
    ):
        return VoteResult.OUTSIDE_WINDOW
    if code is None:
        assert person_id is not None
        if not await is_member_voter(session, round_, person_id):
            return VoteResult.NOT_ELIGIBLE
    elif not codes_may_vote(round_):
        return VoteResult.NOT_ELIGIBLE
    code_row: VotingCode | None = None
    if code is not None:
        symbols = normalise_code(code)
        if symbols is None:
            return VoteResult.CODE_TYPO
        stmt = select(VotingCode).where(
            col(VotingCode.round_id) == round_.id,
            col(VotingCode.code_hash) == hash_code(keys.code_key(round_), symbols),
        )
        code_row = (await session.exec(stmt)).first()
        if code_row is None:
            return VoteResult.WRONG_CODE
        if code_row.used:
            return VoteResult.USED_CODE
    projects = await projects_of(session, round_.id)
    costs = {p.code: p.cost for p in projects if on_ballot(p)}
    result, stored = _canonical_choices(round_, costs, choices)
    if result is not VoteResult.OK:
        return result
    sealed = keys.seal(round_, stored, list(costs))
    try:
        async with session.begin_nested():
            session.add(
                VoterRoll(
                    round_id=round_.id,
                    person_id=person_id,
                    voting_code_id=code_row.id if code_row else None,
                )
            )
            await session.flush()
            if code_row is not None:
                await session.exec(
                    update(VotingCode).where(col(VotingCode.id) == code_row.id).values(used=True)
                )
            session.add(SealedBallot(round_id=round_.id, sealed=sealed))
            await session.flush()
    except IntegrityError:
        if person_id is not None and await has_voted(session, round_.id, person_id):
            return VoteResult.ALREADY_VOTED
        return VoteResult.USED_CODE if code_row is not None else VoteResult.ALREADY_VOTED
    return VoteResult.OK


_SQLITE_VOTE_LOCKS: weakref.WeakKeyDictionary[object, asyncio.Lock] = weakref.WeakKeyDictionary()


async def vote(
    db: Database | AsyncEngine,
    round_id: int,
    choices: Any,
    *,
    keys: Sealer,
    now: datetime,
    person_id: int | None = None,
    code: str | None = None,
) -> VoteResult:
    """:func:`cast_ballot` in its own transaction (what a chat handler calls).

    ``db`` is the database or its engine (a handler has the engine of its session). On SQLite,
    votes in this process take turns: SQLite has one writer at a time anyway, and many
    connections waiting for its lock at once can time out.
    """
    engine = db.engine if isinstance(db, Database) else db
    sqlite = engine.dialect.name == "sqlite"
    lock = _SQLITE_VOTE_LOCKS.setdefault(engine.sync_engine, asyncio.Lock()) if sqlite else None
    async with (
        lock or contextlib.nullcontext(),
        AsyncSession(engine, expire_on_commit=False) as session,
        session.begin(),
    ):
        round_ = await get_round(session, round_id)
        if round_ is None:
            return VoteResult.INVALID
        return await cast_ballot(
            session, round_, choices, keys=keys, now=now, person_id=person_id, code=code
        )


async def code_status(
    session: AsyncSession, rounds: Sequence[BudgetRound], symbols: str, keys: Sealer
) -> tuple[BudgetRound | None, VoteResult]:
    """Which of ``rounds`` a normalised code belongs to: OK, WRONG_CODE or USED_CODE."""
    for round_ in rounds:
        if not codes_may_vote(round_):
            continue
        stmt = select(VotingCode).where(
            col(VotingCode.round_id) == round_.id,
            col(VotingCode.code_hash) == hash_code(keys.code_key(round_), symbols),
        )
        row = (await session.exec(stmt)).first()
        if row is not None:
            return round_, VoteResult.USED_CODE if row.used else VoteResult.OK
    return None, VoteResult.WRONG_CODE


async def open_sealed(session: AsyncSession, round_: BudgetRound, keys: Sealer) -> int:
    """At closing: the round's sealed ballots become plain ballots, in one transaction.

    They are written in a random order under fresh random ids (one transaction, so one
    transaction id on PostgreSQL), and the sealed rows are deleted; what was cast when can
    no longer be told from the plain ballots. Returns how many were opened.
    """
    assert round_.id is not None
    stmt = select(SealedBallot).where(col(SealedBallot.round_id) == round_.id)
    rows = list((await session.exec(stmt)).all())
    opened = [keys.open(round_, row.sealed) for row in rows]
    random.SystemRandom().shuffle(opened)
    await session.exec(delete(SealedBallot).where(col(SealedBallot.round_id) == round_.id))
    session.add_all(Ballot(round_id=round_.id, choices=choices) for choices in opened)
    await session.flush()
    return len(opened)
