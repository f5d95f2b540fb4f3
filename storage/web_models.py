"""The coordinators' web overview (issue 20): one-time login links and sessions, each kept
only as a hash. Reachable from storage.models like every table."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.base import _ts
from storage.types import UTCDateTime


class WebLogin(SQLModel, table=True):
    """A one-time login link a coordinator asked for with /dashboard: only its hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime())
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = _ts()


class WebSession(SQLModel, table=True):
    """A browser session started by a login link; the cookie's hash and the form token."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    csrf: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime())
    created_at: datetime = _ts()
