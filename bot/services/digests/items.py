"""What is new in a run, indexed once, and what each resident's or group's digest holds."""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from storage.models import Theme
from storage.repo.digest_network import InitiativeRow, OfferRow, SeekingRow
from storage.repo.digests import Group, IdeaRow, PollRow, Resident, SignalRow

SOON = timedelta(days=2)  # "closes soon"
MAX_ITEMS = 5  # per section; the rest is counted
MAX_SEEKING = 3  # ideas that still need helpers, newest first
Ids = AbstractSet[int]


@dataclass(frozen=True)
class Helpers:
    """How many neighbours offered help on ideas of a followed theme, and on which ideas."""

    theme_id: int
    people: int
    idea_ids: list[int]


@dataclass
class Digest:
    ideas: list[IdeaRow] = field(default_factory=list)
    more_ideas: int = 0
    my_signals: list[SignalRow] = field(default_factory=list)
    hood_signals: list[SignalRow] = field(default_factory=list)
    more_signals: int = 0
    closing: list[PollRow] = field(default_factory=list)
    results: list[PollRow] = field(default_factory=list)
    helpers: list[Helpers] = field(default_factory=list)
    seeking: list[int] = field(default_factory=list)  # idea ids
    initiatives: list[InitiativeRow] = field(default_factory=list)
    supported: set[int] = field(default_factory=set)  # idea ids among those, I supported

    @property
    def empty(self) -> bool:
        """Ideas that still need helpers are no news on their own: they only come along."""
        return not (
            self.ideas or self.my_signals or self.hood_signals or self.closing or self.results
            or self.helpers or self.initiatives
        )  # fmt: skip


class Items:
    """Everything new in a run, indexed so each digest is a few lookups, not a scan."""

    def __init__(
        self, ideas: list[IdeaRow], signals: list[SignalRow], polls: list[PollRow],
        themes: dict[int, Theme], offers: Sequence[OfferRow] = (),
        seeking: Sequence[SeekingRow] = (), initiatives: Sequence[InitiativeRow] = (),
    ) -> None:  # fmt: skip
        self.themes = themes
        self.initiatives: dict[tuple[int, int], list[InitiativeRow]] = defaultdict(list)
        self.initiative = {i.idea_id: i for i in initiatives}
        for ini in initiatives:  # oldest change first
            self.initiatives[(ini.neighbourhood_id, ini.theme_id)].append(ini)
        self.offers: dict[tuple[int, int], list[OfferRow]] = defaultdict(list)
        for o in offers:  # oldest first
            self.offers[(o.neighbourhood_id, o.theme_id)].append(o)
        self.seeking: dict[tuple[int, int], list[SeekingRow]] = defaultdict(list)
        for i in seeking:  # newest first
            self.seeking[(i.neighbourhood_id, i.theme_id)].append(i)
        self.ideas: dict[tuple[int, int | None], list[IdeaRow]] = defaultdict(list)
        self.ideas_in: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
        self.authored: dict[int, list[IdeaRow]] = defaultdict(list)
        for idea in ideas:  # oldest first
            key = (idea.neighbourhood_id, idea.theme_id)
            if key not in self.ideas:
                self.ideas_in[idea.neighbourhood_id].append(key)
            self.ideas[key].append(idea)
            if idea.author_id is not None:
                self.authored[idea.author_id].append(idea)
        self.idea_times = {k: [i.created_at for i in v] for k, v in self.ideas.items()}
        self.signals: dict[int, list[SignalRow]] = defaultdict(list)
        self.signal = {s.id: s for s in signals}
        self.reported: dict[int, list[int]] = defaultdict(list)
        self.changed_by: dict[int, set[int]] = defaultdict(set)
        for sig in signals:  # by last change
            self.signals[sig.neighbourhood_id].append(sig)
            if sig.reporter_id is not None:
                self.reported[sig.reporter_id].append(sig.id)
            for _at, by in sig.changes:
                if by is not None:
                    self.changed_by[by].add(sig.id)
        self.signal_times = {h: [s.last_change for s in v] for h, v in self.signals.items()}
        self.closing = [p for p in polls if p.closed_at is None]
        self.results = [p for p in polls if p.closed_at is not None]
        self.involved = {*self.authored, *self.reported, *self.changed_by}
        self.involved |= {o.person_id for o in offers}
        self.involved |= {i.author_id for i in seeking if i.author_id is not None}

    def personal(
        self, me: int, following: Ids, voted: Ids,
        supported: Ids,
    ) -> bool:  # fmt: skip
        """Whether anything in a digest depends on who I am: my own ideas, reports, changes and
        offers are left out or shown apart, and the reports I follow, the polls I voted in and
        the initiatives I supported. Residents for whom nothing does, in the same places,
        themes, period, setting and language, get the same digest (see `run`)."""
        return bool(me in self.involved or following or voted or supported)

    # -- ideas --

    def idea_keys(self, hoods: Ids, themes: Ids) -> list[tuple[int, int | None]]:
        """Ideas without a theme in my neighbourhoods, and those in themes I follow there
        (a local theme of another neighbourhood too). Following nothing: all of them."""
        if not themes:
            return [k for h in hoods for k in self.ideas_in.get(h, ())]
        keys: list[tuple[int, int | None]] = [(h, None) for h in hoods]
        for tid in themes:
            theme = self.themes.get(tid)
            if theme is None:
                continue
            if theme.neighbourhood_id is None:
                keys += [(h, tid) for h in hoods]
            else:
                keys.append((theme.neighbourhood_id, tid))
        return [k for k in keys if k in self.ideas]

    def new_ideas(
        self, keys: list[tuple[int, int | None]], since: datetime, me: int | None
    ) -> tuple[list[IdeaRow], int]:
        """The newest few ideas after `since` (not my own) and how many more there are."""
        tails: list[Iterator[IdeaRow]] = []
        total = 0
        for key in keys:
            start = bisect_right(self.idea_times[key], since)
            ideas = self.ideas[key]
            total += len(ideas) - start
            tails.append(reversed(ideas[start:]) if start < len(ideas) else iter(()))
        if me is not None:
            keyset = set(keys)
            total -= sum(
                1
                for i in self.authored.get(me, ())
                if i.created_at > since and (i.neighbourhood_id, i.theme_id) in keyset
            )
        newest = _take(
            (i for i in _newest_first(tails, lambda i: (i.created_at, i.id)) if i.author_id != me),
            MAX_ITEMS,
        )
        return newest, total - len(newest)

    # -- matchmaking --

    def theme_keys(self, hoods: Ids, theme_id: int) -> list[tuple[int, int]]:
        """A followed theme in my own neighbourhoods only (a local theme: where it is)."""
        theme = self.themes.get(theme_id)
        if theme is None:
            return []
        return [(h, theme_id) for h in sorted(hoods) if theme.neighbourhood_id in (None, h)]

    def helpers(
        self, hoods: Ids, themes: Iterable[int], since: datetime, me: int | None
    ) -> list[Helpers]:
        """Per followed theme: the neighbours (not me) who offered help after `since`."""
        out = []
        for tid in sorted(themes):
            offers = [
                o
                for key in self.theme_keys(hoods, tid)
                for o in self.offers.get(key, ())
                if o.created_at > since and o.person_id != me
            ]
            if offers:
                ideas = sorted({o.idea_id for o in offers})
                out.append(Helpers(tid, len({o.person_id for o in offers}), ideas))
        return out

    def seeking_helpers(self, hoods: Ids, themes: Iterable[int], me: int | None) -> list[int]:
        """Ideas of followed themes (not mine) nobody's offer was accepted for, newest first."""
        tails = [
            iter(self.seeking.get(key, ())) for tid in themes for key in self.theme_keys(hoods, tid)
        ]
        found = (
            i for i in _newest_first(tails, lambda i: (i.created_at, i.id)) if i.author_id != me
        )
        return [i.id for i in _take(found, MAX_SEEKING)]

    def initiative_news(
        self, hoods: Ids, themes: Iterable[int], since: datetime, supported: Ids
    ) -> list[InitiativeRow]:
        """Initiatives of followed themes started or done after `since`, and those done that
        I supported (followed or not), at most MAX_ITEMS, the newest."""
        found = {
            i.idea_id: i
            for tid in themes
            for key in self.theme_keys(hoods, tid)
            for i in self.initiatives.get(key, ())
            if i.changed_at > since
        }
        for idea_id in supported:
            i = self.initiative.get(idea_id)
            if i is not None and i.status == "done" and i.changed_at > since:
                found[idea_id] = i
        news = sorted(found.values(), key=lambda i: (i.changed_at, i.idea_id))
        return news[-MAX_ITEMS:]

    # -- signals --

    def my_signals(self, me: int, following: Iterable[int], since: datetime) -> list[SignalRow]:
        mine = {*self.reported.get(me, ()), *following}
        found = [self.signal[s] for s in mine if s in self.signal]
        return sorted(
            (s for s in found if s.changed_for(me, since)), key=lambda s: (s.last_change, s.id)
        )[-MAX_ITEMS:]

    def hood_signals(
        self, hoods: Ids, since: datetime, me: int | None, skip: Ids
    ) -> tuple[list[SignalRow], int]:
        """Reports in my neighbourhoods changed after `since` by others (not those in `skip`)."""
        tails: list[Iterator[SignalRow]] = []
        total = 0
        for h in hoods:
            sigs = self.signals.get(h, [])
            start = bisect_right(self.signal_times.get(h, []), since)
            total += len(sigs) - start
            tails.append(reversed(sigs[start:]))
        left_out = skip | (self.changed_by.get(me, set()) if me is not None else set())
        for sid in left_out:
            s = self.signal.get(sid)
            if (
                s is not None
                and s.neighbourhood_id in hoods
                and s.last_change > since
                and (sid in skip or not s.changed_for(me, since))
            ):
                total -= 1
        newest = _take(
            (
                s
                for s in _newest_first(tails, lambda s: (s.last_change, s.id))
                if s.id not in skip and s.changed_for(me, since)
            ),
            MAX_ITEMS,
        )
        return newest, total - len(newest)

    # -- polls --

    def closing_for(
        self, hoods: Ids, themes: Ids | None, since: datetime, voted: Ids
    ) -> list[PollRow]:
        """Polls out to me that close soon, not voted in, and not in a digest before."""
        return [
            p
            for p in self.closing
            if _reaches(p, hoods, themes)
            and p.id not in voted
            # not in an earlier digest: it closed later than that one looked ahead, or it
            # was sent after it
            and (p.closes_at > since + SOON or (p.sent_at is not None and p.sent_at > since))
        ][:MAX_ITEMS]

    def results_for(self, hoods: Ids, themes: Ids, since: datetime) -> list[PollRow]:
        return [
            p
            for p in self.results
            if _reaches(p, hoods, themes) and p.closed_at is not None and p.closed_at > since
        ][:MAX_ITEMS]


def _reaches(poll: PollRow, hoods: Ids, themes: Ids | None) -> bool:
    """A neighbourhood poll reaches its residents; a theme poll those following the theme.

    For a group `themes` is its one theme (or None: a neighbourhood group gets no theme polls).
    """
    if poll.neighbourhood_id not in hoods:
        return False
    if poll.theme_id is None:
        return True
    return themes is not None and poll.theme_id in themes


def _newest_first(tails: list[Iterator[Any]], key: Any) -> Iterator[Any]:
    return heapq.merge(*tails, key=key, reverse=True)


def _take(items: Iterable[Any], n: int) -> list[Any]:
    out = []
    for item in items:
        out.append(item)
        if len(out) == n:
            break
    return out


def resident_digest(
    items: Items, r: Resident, since: datetime, hoods: Ids,
    themes: Ids, following: Ids, voted: Ids,
    supported: Ids = frozenset(),
) -> Digest:  # fmt: skip
    me = r.person_id
    d = Digest()
    d.ideas, d.more_ideas = items.new_ideas(items.idea_keys(hoods, themes), since, me)
    d.my_signals = items.my_signals(me, following, since)
    mine = {*items.reported.get(me, ()), *following}
    d.hood_signals, d.more_signals = items.hood_signals(hoods, since, me, mine)
    d.closing = items.closing_for(hoods, themes, since, voted)
    if not r.broadcasts:  # the others got the results by message when the poll closed
        d.results = items.results_for(hoods, themes, since)
    d.helpers = items.helpers(hoods, themes, since, me)
    d.seeking = items.seeking_helpers(hoods, themes, me)
    d.initiatives = items.initiative_news(hoods, themes, since, supported)
    d.supported = {i.idea_id for i in d.initiatives} & supported
    return d


def group_digest(items: Items, g: Group, since: datetime) -> Digest:
    hoods = {g.neighbourhood_id}
    themes = {g.theme_id} if g.theme_id is not None else None
    keys = [(g.neighbourhood_id, g.theme_id)] if g.theme_id else items.idea_keys(hoods, set())
    d = Digest()
    d.ideas, d.more_ideas = items.new_ideas([k for k in keys if k in items.ideas], since, None)
    d.hood_signals, d.more_signals = items.hood_signals(hoods, since, None, set())
    d.closing = items.closing_for(hoods, themes, since, set())
    if g.theme_id is not None:  # a theme group: who wants to help with its theme
        d.helpers = items.helpers(hoods, [g.theme_id], since, None)
        d.seeking = items.seeking_helpers(hoods, [g.theme_id], None)
        d.initiatives = items.initiative_news(hoods, [g.theme_id], since, set())
    return d
