"""The network (issue 13): help offers, initiatives, introductions and partner organisations.

Reachable from storage.models like every table. An offer, a partner and its answers go with
the person (CASCADE); an initiative and an introduction outlive the people in them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.base import _ts
from storage.types import UTCDateTime


class IdeaOffer(SQLModel, table=True):
    """ "I'll help": what a neighbour offers for an idea, one per person (a second press edits
    it). The initiator hears in a batch and answers; erased with the helper (CASCADE)."""

    __table_args__ = (UniqueConstraint("idea_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=20)  # time, skill, materials, place, other
    text: str = Field(default="", sa_type=Text)
    status: str = Field(default="open", max_length=20)  # open, accepted, declined
    author_notified: bool = Field(default=False, index=True)
    created_at: datetime = _ts()


class Initiative(SQLModel, table=True):
    """An idea with helpers that became an initiative: its team is the idea's accepted
    offers (a helper erased with /vergeetmij leaves it with their offer). A group chat may
    be linked (`/koppel I-12`, or the room the bot made on Matrix); done with a line "what
    we did" and an optional photo (kept as a platform file reference, like reports)."""

    __table_args__ = (UniqueConstraint("platform", "chat_id"),)
    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE", unique=True)
    status: str = Field(default="started", max_length=20)  # started, done
    platform: str | None = Field(default=None, max_length=20)
    chat_id: str | None = Field(default=None, max_length=255)
    done_text: str = Field(default="", sa_type=Text)
    photo_platform: str | None = Field(default=None, max_length=20)
    photo_file_id: str | None = Field(default=None, max_length=500)
    created_at: datetime = _ts()
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class Introduction(SQLModel, table=True):
    """Introducing an initiator and a helper they accepted: both are asked, each in the
    moment. A handle is kept only after that person's "yes" and shared only when both said
    yes. /vergeetmij ends a pending one and removes that person's side of a done one."""

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE", index=True)
    offer_id: int | None = Field(
        default=None, foreign_key="ideaoffer.id", ondelete="SET NULL", index=True
    )
    initiator_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    helper_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    initiator_yes: bool = False
    helper_yes: bool = False
    # "platform" and the handle there, kept from the moment of that person's "yes"
    initiator_platform: str | None = Field(default=None, max_length=20)
    initiator_handle: str | None = Field(default=None, max_length=255)
    helper_platform: str | None = Field(default=None, max_length=20)
    helper_handle: str | None = Field(default=None, max_length=255)
    status: str = Field(default="asked", max_length=20)  # asked, done (a "no" deletes it)
    created_at: datetime = _ts()
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class Partner(SQLModel, table=True):
    """A person who speaks for a local organisation in one neighbourhood: they hear about
    new ideas of their themes and new reports of their categories, and may answer "we can
    help" as the organisation. Erased with the person (and so are the answers)."""

    __table_args__ = (UniqueConstraint("person_id", "neighbourhood_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id", ondelete="CASCADE", index=True)
    organisation: str = Field(max_length=120)
    theme_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    may_announce: bool = False  # a coordinator allowed news to the partner's themes
    # News is told up to these ids (set to the newest ones when the partner is added).
    told_idea_id: int = 0
    told_signal_id: int = 0
    created_at: datetime = _ts()


class PartnerResponse(SQLModel, table=True):
    """ "We can help" from a partner's organisation on an idea; shown by organisation name."""

    __table_args__ = (UniqueConstraint("idea_id", "partner_id"),)
    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE", index=True)
    partner_id: int = Field(foreign_key="partner.id", ondelete="CASCADE", index=True)
    created_at: datetime = _ts()
