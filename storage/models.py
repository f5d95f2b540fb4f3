"""SQLModel tables for the neighbourhood-platform domain.

Personal data is kept to what the flows need: no phone numbers, and a name only with a
vote in a poll with names. Ideas and signals outlive their author (author set to NULL on
erasure); `tests/privacy/test_everything.py` checks every reference to a person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.base import _ts
from storage.base import use_clock as use_clock
from storage.base import utcnow as utcnow

# The budget tables live in storage.budget_models (by size); they are reachable from here.
from storage.budget_models import Ballot as Ballot
from storage.budget_models import BudgetProject as BudgetProject
from storage.budget_models import BudgetRound as BudgetRound
from storage.budget_models import BudgetSupport as BudgetSupport
from storage.budget_models import SealedBallot as SealedBallot
from storage.budget_models import VoterRoll as VoterRoll
from storage.budget_models import VotingCode as VotingCode

# Conversations (issue 15) live in storage.dialogue_models.
from storage.dialogue_models import Conversation as Conversation
from storage.dialogue_models import Statement as Statement
from storage.dialogue_models import StatementVote as StatementVote
from storage.forum_models import AgeBand as AgeBand

# Lottery-drawn forums (issue 16) live in storage.forum_models.
from storage.forum_models import Forum as Forum
from storage.forum_models import ForumCode as ForumCode
from storage.forum_models import ForumMember as ForumMember
from storage.forum_models import Population as Population

# The network (issue 13) lives in storage.network_models, the web overview in web_models,
# the outbox's shared send budget in outbox_models.
from storage.network_models import IdeaOffer as IdeaOffer
from storage.network_models import Initiative as Initiative
from storage.network_models import Introduction as Introduction
from storage.network_models import Partner as Partner
from storage.network_models import PartnerResponse as PartnerResponse
from storage.outbox_models import SendBudget as SendBudget
from storage.types import UTCDateTime
from storage.web_models import WebLogin as WebLogin
from storage.web_models import WebSession as WebSession


class Neighbourhood(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=120)
    # How reports reach the municipality (kind and non-secret settings); secrets are
    # named here by environment variable, never stored.
    forwarding: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Opted in by the setup file: a public web page `/wijk/<slug>` without resident details.
    public_page: bool = False
    created_at: datetime = _ts()


class Theme(SQLModel, table=True):
    """A theme people gather around; city-wide when neighbourhood_id is NULL."""

    __table_args__ = (UniqueConstraint("neighbourhood_id", "slug"),)
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, index=True)
    neighbourhood_id: int | None = Field(
        default=None, foreign_key="neighbourhood.id", ondelete="CASCADE"
    )
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()

    def name_in(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("nl") or self.slug


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    locale: str = Field(default="nl", max_length=8)
    onboarded: bool = False
    created_at: datetime = _ts()


class Account(SQLModel, table=True):
    """A platform account (Telegram user id, Matrix id, console name) of a person."""

    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    platform: str = Field(max_length=20)
    platform_user_id: str = Field(max_length=255)
    created_at: datetime = _ts()


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("person_id", "neighbourhood_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id", ondelete="CASCADE")
    role: str = Field(default="resident", max_length=20)  # resident | coordinator
    is_home: bool = False
    # Since when this is the person's home (set each time they choose it): who may vote
    # as a member in a budget round is decided by this, so /wijk never grants a vote in a
    # round that is already open.
    home_since: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = _ts()


class ThemeFollow(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("person_id", "theme_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    theme_id: int = Field(foreign_key="theme.id", ondelete="CASCADE")
    created_at: datetime = _ts()


class Channel(SQLModel, table=True):
    """A platform chat we talk in: a group linked to a neighbourhood, or a direct chat."""

    __table_args__ = (UniqueConstraint("platform", "chat_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    chat_id: str = Field(max_length=255)
    kind: str = Field(default="direct", max_length=10)  # direct | group
    person_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="CASCADE", index=True
    )
    neighbourhood_id: int | None = Field(
        default=None, foreign_key="neighbourhood.id", ondelete="SET NULL"
    )
    theme_id: int | None = Field(default=None, foreign_key="theme.id", ondelete="SET NULL")
    reachable: bool = True
    last_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = _ts()


class GroupWelcome(SQLModel, table=True):
    """ "Yes, welcome me": someone took the way into a theme group and may be welcomed there
    by first name when they join. Only that yes is kept (no name: it comes with the join);
    used once, and erased with them (CASCADE) or with the group."""

    __table_args__ = (UniqueConstraint("person_id", "channel_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    channel_id: int = Field(foreign_key="channel.id", ondelete="CASCADE", index=True)
    created_at: datetime = _ts()


class Idea(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id", index=True)
    theme_id: int | None = Field(default=None, foreign_key="theme.id", ondelete="SET NULL")
    author_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_type=Text)
    status: str = Field(default="open", max_length=20)
    created_at: datetime = _ts(index=True)


class IdeaSupport(SQLModel, table=True):
    """One support per person per idea, enforced by the database."""

    __table_args__ = (UniqueConstraint("idea_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    author_notified: bool = Field(default=False, index=True)
    created_at: datetime = _ts()


class Signal(SQLModel, table=True):
    """A report (melding) of something wrong in the neighbourhood."""

    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id", index=True)
    reporter_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    category: str = Field(max_length=40)
    text: str = Field(sa_type=Text)
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = None
    lon: float | None = None
    photo_platform: str | None = Field(default=None, max_length=20)
    photo_file_id: str | None = Field(default=None, max_length=500)
    status: str = Field(default="new", max_length=20, index=True)
    duplicate_of_id: int | None = Field(default=None, foreign_key="signal.id", ondelete="SET NULL")
    created_at: datetime = _ts()
    updated_at: datetime = _ts()

    @property
    def reference(self) -> str:
        return signal_reference(self.id or 0)


def signal_reference(signal_id: int) -> str:
    """A report's number as people see it: id 42 is M-1042."""
    return f"M-{1000 + signal_id}"


class SignalFollower(SQLModel, table=True):
    """A resident who reported the same problem; they hear what happens too."""

    __table_args__ = (UniqueConstraint("signal_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    signal_id: int = Field(foreign_key="signal.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    created_at: datetime = _ts()


class SignalForward(SQLModel, table=True):
    """A signal on its way to (or at) the municipality; at most one per signal."""

    id: int | None = Field(default=None, primary_key=True)
    signal_id: int = Field(foreign_key="signal.id", ondelete="CASCADE", unique=True)
    kind: str = Field(max_length=20)
    idempotency_key: str = Field(max_length=80, unique=True)
    external_id: str | None = Field(default=None, max_length=200)
    external_state: str | None = Field(default=None, max_length=40)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    failed: bool = False  # given up: never sent again unless a coordinator asks
    # Why it failed, in words a coordinator can act on (see forwarding.REASONS);
    # "number_unknown": accepted, but the answer was unreadable (never sent again).
    reason: str | None = Field(default=None, max_length=20)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    forwarded_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = _ts()
    # The number people see at the municipality ("SIG-123"), when it differs from the id.
    external_number: str | None = Field(default=None, max_length=40)
    # When the municipality closed it; polled a while longer to see a reopen.
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # The reporter says it is not solved: told to the municipality from `reopen_due_at`.
    reopen_note: str | None = Field(default=None, sa_type=Text)
    reopen_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class SignalUpdate(SQLModel, table=True):
    """Status history of a signal; each change is told to the reporter."""

    id: int | None = Field(default=None, primary_key=True)
    signal_id: int = Field(foreign_key="signal.id", ondelete="CASCADE", index=True)
    status: str = Field(max_length=20)
    kind: str = Field(default="status", max_length=20)  # status | question | answer | municipality
    note: str = Field(default="", sa_type=Text)
    by_person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = _ts()


class ConversationState(SQLModel, table=True):
    """Where a user is in a multi-step dialog, per chat; survives restarts."""

    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    chat_id: str = Field(max_length=255)
    user_id: str = Field(max_length=255)
    state: str | None = Field(default=None, max_length=80)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    choices: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    updated_at: datetime = _ts()


_LEASED = "sent_at IS NULL AND lease_until IS NOT NULL"
# As the claim writes it (storage/repo/outbox_claim.py), so each database can use the index.
_WAITING = {
    "sqlite": "sent_at IS NULL AND failed IS 0",
    "postgresql": "sent_at IS NULL AND failed IS false",
}


class OutboxMessage(SQLModel, table=True):
    """A message to send later (feedback, batches); written in the same transaction."""

    __table_args__ = (
        Index("ix_outbox_pending", "platform", "sent_at"),
        # A chat's messages: the buttons last sent there, erasing a person's messages.
        Index("ix_outbox_chat", "platform", "chat_id", "claimed_at"),
        # Rows under a lease: the claim looks up the chats other workers hold (a few rows).
        Index(
            "ix_outbox_leased",
            "platform",
            "lease_until",
            sqlite_where=text(_LEASED),
            postgresql_where=text(_LEASED),
        ),
        # Rows still to send, in id order: PostgreSQL's claim reads the oldest waiting ones
        # without walking past the sent rows kept for 30 days (bench/outbox/bench_claim.py).
        # SQLite finds them in id order on ix_outbox_pending already (equal keys are in rowid
        # order) and does not use it; kept on both so one schema serves both (a few waiting
        # rows: small, cheap to keep up).
        # A chat's unsent rows (usually none): a handled message looks for earlier answers to
        # its chat nobody is sending (bot/core/replies.py), not through 30 days of its sent.
        Index(
            "ix_outbox_unsent_chat",
            "platform",
            "chat_id",
            "id",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
        Index(
            "ix_outbox_waiting",
            "platform",
            "id",
            sqlite_where=text(_WAITING["sqlite"]),
            postgresql_where=text(_WAITING["postgresql"]),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    chat_id: str = Field(max_length=255)
    chat_kind: str = Field(default="direct", max_length=10)  # direct | group (its rate limit)
    text: str = Field(sa_type=Text)
    buttons: list[list[dict[str, str]]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # What goes with the text: {"poll": PollSpec fields, "poll_id": N}, {"media_id": N} (an
    # image we made), {"photo": {"platform", "file_id"}} (a photo a coordinator sent),
    # {"ends": message id} (poll results: end the poll message there), {"results_of": poll id}
    # (a name in named results is taken out on /vergeetmij). See bot/delivery/broadcast.py.
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = _ts()
    # Claimed (set) before the platform is asked to send, cleared when that attempt fails:
    # after a crash, claimed_at without sent_at marks the message that was in flight.
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # The worker that claimed it, and until when no other worker may take it over (its
    # lease): a worker that dies mid-send leaves rows another resumes after the lease.
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime())
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # The platform's id of the sent message (a poll is ended there when it closes).
    sent_ref: str | None = Field(default=None, max_length=255)
    failed: bool = False


class Media(SQLModel, table=True):
    """An image the bot made (a result chart), stored once and sent to many chats."""

    id: int | None = Field(default=None, primary_key=True)
    content_type: str = Field(default="image/png", max_length=40)
    data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = _ts()


class Preference(SQLModel, table=True):
    """How a resident wants to hear from us: digest rhythm and broadcasts (polls, news)."""

    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", primary_key=True)
    digest: str = Field(default="weekly", max_length=10)  # daily | weekly | never
    broadcasts: bool = True  # polls and announcements by direct message
    last_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


# --- Polls and announcements (issue 5) ----------------------------------------------------


class Poll(SQLModel, table=True):
    """A question to a neighbourhood (or one theme in it); rules locked once sent."""

    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id", ondelete="CASCADE", index=True)
    theme_id: int | None = Field(default=None, foreign_key="theme.id", ondelete="SET NULL")
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    question: str = Field(max_length=300)
    options: list[str] = Field(sa_column=Column(JSON, nullable=False))
    multiple: bool = False
    live_results: bool = True  # False: results only after closing
    named: bool = False  # True: results show who chose what (voters are told before voting)
    closes_at: datetime = Field(sa_type=UTCDateTime(), index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    recipients: int = 0  # residents reached by direct message when it was sent
    groups: int = 0  # linked groups it was sent to
    created_at: datetime = _ts()


class PollVote(SQLModel, table=True):
    """One row per chosen option; one person's choices per poll, whatever channel they used."""

    __table_args__ = (UniqueConstraint("poll_id", "person_id", "option"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    option: int
    # Only for named polls: the name the platform showed when the person voted.
    display_name: str | None = Field(default=None, max_length=120)
    created_at: datetime = _ts()


class Announcement(SQLModel, table=True):
    """News from a coordinator, optionally about an event (reminded the day before)."""

    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(foreign_key="neighbourhood.id", ondelete="CASCADE", index=True)
    theme_id: int | None = Field(default=None, foreign_key="theme.id", ondelete="SET NULL")
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    text: str = Field(sa_type=Text)
    photo_platform: str | None = Field(default=None, max_length=20)
    photo_file_id: str | None = Field(default=None, max_length=500)
    event_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), index=True)
    place: str | None = Field(default=None, max_length=300)
    reminder_sent: bool = False
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # What the organiser last heard about "I'm coming" (batched: at most once an hour).
    rsvp_told: int = 0
    rsvp_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = _ts()


class EventRsvp(SQLModel, table=True):
    """Someone said "I'm coming" to an announced event; erased with them (the count drops)."""

    __table_args__ = (UniqueConstraint("announcement_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(foreign_key="announcement.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    reminded: bool = False  # their own reminder, two hours before
    created_at: datetime = _ts()


class SyncCursor(SQLModel, table=True):
    """Last processed position per platform (Telegram update_id, Matrix next_batch)."""

    key: str = Field(primary_key=True, max_length=80)
    value: str = Field(sa_type=Text)
    updated_at: datetime = _ts()


class CountedAction(SQLModel, table=True):
    """Something a person did that counts towards a per-hour limit and leaves no dated row of
    its own (a changed poll vote, a budget proposal). Kept for an hour or so, then purged."""

    __table_args__ = (Index("ix_countedaction_person_action", "person_id", "action", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    action: str = Field(max_length=20)
    created_at: datetime = _ts()


class InboxEntry(SQLModel, table=True):
    """An event a platform handed us, kept before the platform is told it may forget it.

    Handled once: the handling transaction empties `event` and stamps `handled_at`; the key
    stays a while, so an event the platform sends again is recognised (bot/core/inbox.py).
    """

    __table_args__ = (
        UniqueConstraint("source", "key"),
        Index("ix_inbox_waiting", "source", "handled_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)  # the order events are handled in
    source: str = Field(max_length=80)  # "telegram.<bot id>", "matrix"
    key: str = Field(max_length=255)  # the platform's id: update_id, event_id
    chat_id: str = Field(max_length=255)  # one chat's events are handled in order
    event: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = _ts()
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class AuditEvent(SQLModel, table=True):
    """Who changed what: every coordinator action leaves one."""

    id: int | None = Field(default=None, primary_key=True)
    actor_person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    action: str = Field(max_length=60)
    subject_type: str = Field(max_length=40)
    subject_id: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()
