"""SQLModel tables for neighbourhood budgets: rounds, projects, supports, ballots, codes
and the voter roll (kept apart from `storage.models` by size; re-exported there)."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.base import _ts
from storage.types import UTCDateTime

# Ballot secrecy by schema: a Ballot (or, while voting is open, a SealedBallot) holds
# choices and nothing about its voter; a VoterRoll row says who (or which code) voted and
# nothing about the choices. Neither references the other, neither has a timestamp, and
# both have random UUID keys (WITHOUT ROWID on SQLite), so no id or row order links them;
# the sealing (bot/services/budget/sealing.py) covers transaction ids and file order.


def _uuid() -> str:
    return uuid.uuid4().hex


class BudgetRound(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id", ondelete="CASCADE", index=True)
    title: str = Field(max_length=200)
    budget: int  # whole euros
    ballot_type: str = Field(default="knapsack", max_length=20)  # approval|knapsack|cumulative
    min_projects: int = 1  # approval and cumulative: at least this many projects
    max_projects: int | None = None  # approval: at most this many
    points: int | None = None  # cumulative: points to divide
    counting_rule: str = Field(default="greedy", max_length=20)
    phase: str = Field(default="proposals", max_length=20)  # proposals|voting|closed|results
    opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    locked: bool = False
    # Set when counted at closing: {"selected": [codes], "total_cost": N, "votes": {code: n}}.
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    code_salt: str = Field(default_factory=lambda: secrets.token_hex(32), max_length=64)
    # Who may vote: "codes" (a letter from the population register; binding rounds),
    # "members" (residents who say they live here; informal) or "both".
    voters: str = Field(default="codes", max_length=10)
    # Which secret key (its public fingerprint) hashes this round's codes and seals its
    # ballots; "legacy" for rounds from before sealing (codes hashed with the salt only).
    key_id: str | None = Field(default=None, max_length=16)
    created_at: datetime = _ts()


class BudgetProject(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("round_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="budgetround.id", ondelete="CASCADE", index=True)
    code: str = Field(max_length=40)  # the project id on ballots and in Pabulib files
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    cost: int  # whole euros
    feasible: bool | None = None
    feasibility_reason: str | None = Field(default=None, sa_type=Text)
    # Proposed by a resident in the proposals phase (NULL: added by a coordinator or import).
    proposer_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")


class BudgetSupport(SQLModel, table=True):
    """A resident supports a proposal (proposals phase): once per person per project."""

    __table_args__ = (UniqueConstraint("project_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="budgetproject.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")


class Ballot(SQLModel, table=True):
    """Choices only: project codes (a list) or {code: points}. No voter, no time."""

    __table_args__ = {"sqlite_with_rowid": False}
    id: str = Field(default_factory=_uuid, primary_key=True, max_length=32)
    round_id: int = Field(foreign_key="budgetround.id", ondelete="CASCADE", index=True)
    choices: Any = Field(sa_column=Column(JSON, nullable=False))


class SealedBallot(SQLModel, table=True):
    """A ballot cast while voting is open, encrypted to the round's key and padded to one
    length (bot/services/budget/sealing.py); opened into a :class:`Ballot` at closing."""

    __table_args__ = {"sqlite_with_rowid": False}
    id: str = Field(default_factory=_uuid, primary_key=True, max_length=32)
    round_id: int = Field(foreign_key="budgetround.id", ondelete="CASCADE", index=True)
    sealed: bytes = Field(sa_type=LargeBinary)


class VotingCode(SQLModel, table=True):
    """A one-time code for a letter, stored only as an HMAC under a key derived from the
    secret key (outside the database) and the round's salt."""

    __table_args__ = (UniqueConstraint("round_id", "code_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="budgetround.id", ondelete="CASCADE", index=True)
    code_hash: str = Field(max_length=64)
    used: bool = False


class VoterRoll(SQLModel, table=True):
    """Who (a person) or which code has voted in a round: once each. No choices, no time."""

    __table_args__ = (
        UniqueConstraint("round_id", "person_id"),
        UniqueConstraint("round_id", "voting_code_id"),
        {"sqlite_with_rowid": False},
    )
    id: str = Field(default_factory=_uuid, primary_key=True, max_length=32)
    round_id: int = Field(foreign_key="budgetround.id", ondelete="CASCADE", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    voting_code_id: int | None = Field(
        default=None, foreign_key="votingcode.id", ondelete="SET NULL"
    )
