"""The data model of a participatory-budgeting election: frozen, exact, I/O free."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.services.budget.counting.amounts import Number, format_amount, parse_amount

APPROVAL_TYPES = frozenset({"approval", "choose-1"})
"""Vote types whose ballots are plain sets of approved projects."""
POINTS_TYPES = frozenset({"cumulative", "scoring"})
"""Vote types whose ballots give each listed project a number of points."""
VOTE_TYPES = APPROVAL_TYPES | POINTS_TYPES

_EMPTY: Mapping[str, str] = MappingProxyType({})


def _empty() -> Mapping[str, str]:
    return _EMPTY


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    if isinstance(value, MappingProxyType):
        return value
    return MappingProxyType(dict(value))


@dataclass(frozen=True, slots=True)
class Project:
    """A project on the ballot. ``extra`` holds the other columns (name, votes, ...)."""

    project_id: str
    cost: Number
    extra: Mapping[str, str] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", _frozen_mapping(self.extra))


@dataclass(frozen=True, slots=True)
class Ballot:
    """One voter's ballot.

    ``projects`` keeps the order of the file. ``points`` is ``None`` for approval ballots and
    otherwise holds one amount per listed project. ``extra`` holds the other columns (age, ...).
    """

    voter_id: str
    projects: tuple[str, ...]
    points: tuple[Number, ...] | None = None
    extra: Mapping[str, str] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", _frozen_mapping(self.extra))
        if self.points is not None and len(self.points) != len(self.projects):
            raise ValueError(
                f"ballot {self.voter_id!r}: {len(self.projects)} projects "
                f"but {len(self.points)} points"
            )


@dataclass(frozen=True, slots=True)
class Election:
    """A whole election: metadata, budget limit, projects and ballots.

    ``meta`` always contains ``budget`` and ``vote_type`` entries that agree with the typed
    fields (they are filled in when missing), so that writing and re-reading is lossless.
    """

    budget: Number
    vote_type: str
    projects: tuple[Project, ...]
    ballots: tuple[Ballot, ...]
    meta: Mapping[str, str] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        if self.vote_type not in VOTE_TYPES:
            supported = ", ".join(sorted(VOTE_TYPES))
            raise ValueError(f"unsupported vote_type {self.vote_type!r}; supported: {supported}")
        meta = dict(self.meta)
        if meta.get("vote_type", "").strip() != self.vote_type:
            meta["vote_type"] = self.vote_type
        if parse_amount(meta.get("budget", "")) != self.budget:
            meta["budget"] = format_amount(self.budget)
        object.__setattr__(self, "meta", MappingProxyType(meta))

    @property
    def uses_points(self) -> bool:
        """True for cumulative/scoring ballots, False for approval ballots."""
        return self.vote_type in POINTS_TYPES

    def project_costs(self) -> dict[str, Number]:
        """Map each project id to its cost, in file order."""
        return {p.project_id: p.cost for p in self.projects}
