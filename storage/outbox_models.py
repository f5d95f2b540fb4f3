"""The outbox's shared send budget (several workers on PostgreSQL). Reachable from
storage.models like every table."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class SendBudget(SQLModel, table=True):
    """A token bucket per platform that every sending worker takes from (one row each).

    `tokens` as left at `at`, a moment by the database's clock; `granted` is what the last
    worker took. See storage/repo/send_budget.py.
    """

    platform: str = Field(primary_key=True, max_length=20)
    tokens: float
    granted: int
    at: datetime = Field(sa_type=UTCDateTime())
