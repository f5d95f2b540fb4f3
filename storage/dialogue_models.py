"""Conversations (gesprekken, issue 15): a question, short statements, and one vote per
person per statement — agree, disagree or pass — as Pol.is collects them.

Votes are stored per person, because the opinion map needs them, but they are never shown
with a name; /vergeetmij removes them (and the statements keep their text, without author).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.base import _ts
from storage.types import UTCDateTime

AGREE, PASS, DISAGREE = 1, 0, -1  # as in Pol.is's open-data export (votes.csv)


class Conversation(SQLModel, table=True):
    """A question to a neighbourhood (or one theme in it), open until `closes_at`."""

    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id", ondelete="CASCADE", index=True)
    theme_id: int | None = Field(default=None, foreign_key="theme.id", ondelete="SET NULL")
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    question: str = Field(max_length=300)
    moderated: bool = False  # True: a resident's statement waits for a coordinator's yes
    closes_at: datetime = Field(sa_type=UTCDateTime(), index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = _ts()


class Statement(SQLModel, table=True):
    """One short sentence people vote on; `status` is "shown", "waiting" or "rejected"."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE", index=True)
    author_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    text: str = Field(max_length=140)
    status: str = Field(default="shown", max_length=10)
    seed: bool = False  # written by whoever opened the conversation
    reason: str | None = Field(default=None, max_length=300)  # why it was rejected
    created_at: datetime = _ts()


class StatementVote(SQLModel, table=True):
    """One person's latest vote on one statement, whatever chat or platform they used."""

    __table_args__ = (UniqueConstraint("statement_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    statement_id: int = Field(foreign_key="statement.id", ondelete="CASCADE", index=True)
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    value: int  # AGREE, DISAGREE or PASS
    created_at: datetime = _ts()
    changed_at: datetime = _ts()
