"""Lottery-drawn neighbourhood forums (geloot wijkforum, issue 16): a forum with seats and
quotas, and the pool of residents who put themselves forward.

A pool member's answers (age band, area, ...) are kept only for the draw and erased when
the forum ends; the forum keeps the panel's composition (counts per category) only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.base import _ts
from storage.types import UTCDateTime

# A pool member's state: in the pool, invited (waits for an answer), confirmed, declined
# (or no answer by the deadline; they are not drawn again).
POOL, INVITED, CONFIRMED, DECLINED = "pool", "invited", "confirmed", "declined"


class Forum(SQLModel, table=True):
    """A forum for one neighbourhood. `quotas` is {feature: {value: [min, max]}}."""

    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id", ondelete="CASCADE", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    purpose: str = Field(max_length=300)
    seats: int
    quotas: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pool_closes_at: datetime = Field(sa_type=UTCDateTime())
    confirm_days: int = 7  # invited people answer within this many days
    ends_at: datetime = Field(sa_type=UTCDateTime(), index=True)
    seed: int | None = None  # the published seed of the draw (None: not drawn yet)
    # After the draw: anonymous selection probabilities (pool number -> probability) and,
    # kept after the end, the panel's composition {feature: {value: count}}.
    probabilities: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    composition: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = _ts()


class ForumMember(SQLModel, table=True):
    """A resident in a forum's pool: their balancing answers, given with consent."""

    __table_args__ = (
        UniqueConstraint("forum_id", "person_id"),
        UniqueConstraint("forum_id", "number"),
    )
    id: int | None = Field(default=None, primary_key=True)
    forum_id: int = Field(foreign_key="forum.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    number: int  # the anonymous pool number used in published reports
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=POOL, max_length=10)
    invited_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = _ts()


class Population(SQLModel, table=True):
    """Residents per age band of a neighbourhood (CBS "Kerncijfers wijken en buurten"),
    loaded by an operator; the forum dialog offers them as quotas."""

    __table_args__ = (UniqueConstraint("neighbourhood_id", "age_band"),)
    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id", ondelete="CASCADE", index=True)
    age_band: str = Field(max_length=8)
    residents: int
    source: str = Field(default="", max_length=200)
    created_at: datetime = _ts()


class AgeBand(SQLModel, table=True):
    """The age band a resident chose to share, once ("helps us see who we miss"); counted
    per neighbourhood, never shown per person. Erased with the person."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", unique=True, index=True)
    age_band: str = Field(max_length=8)
    created_at: datetime = _ts()


class ForumCode(SQLModel, table=True):
    """A one-time code from a letter to a random sample of addresses: it lets the reader
    join the pool. Stored only as an HMAC under a key derived from the secret key."""

    __table_args__ = (UniqueConstraint("forum_id", "code_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    forum_id: int = Field(foreign_key="forum.id", ondelete="CASCADE", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
