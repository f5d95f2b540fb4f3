"""Read and write the Pabulib ``.pb`` format (pabulib.org).

A file has three sections, ``META``, ``PROJECTS`` and ``VOTES``, each a section line followed by
a header row and semicolon-separated rows (CSV quoting allowed). :func:`parse_pabulib` turns the
text into an :class:`~bot.services.budget.counting.election.Election`; anything malformed raises
:class:`PabulibError` naming the line. :func:`write_pabulib` is its inverse.

Tolerated quirks of real files: a UTF-8 byte-order mark, CRLF or mixed line ends, blank lines,
quoted fields, trailing semicolons, empty vote lists, extra columns (kept in ``extra``), and
unquoted semicolons inside a META value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import TextIO

from bot.services.budget.counting.amounts import Number, parse_amount
from bot.services.budget.counting.election import (
    APPROVAL_TYPES,
    VOTE_TYPES,
    Ballot,
    Election,
    Project,
)
from bot.services.budget.counting.pabulib_write import write_pabulib

__all__ = ["Ballot", "Election", "PabulibError", "Project", "parse_pabulib", "write_pabulib"]

_SECTIONS = ("meta", "projects", "votes")
_Row = list[str]


class PabulibError(ValueError):
    """A malformed Pabulib file. ``line`` is the 1-based line number."""

    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"line {line}: {problem}")


def _rows(source: str | TextIO) -> Iterator[tuple[int, _Row]]:
    """Yield ``(line number, fields)`` for every non-blank row."""
    stream = io.StringIO(source, newline="") if isinstance(source, str) else source
    reader = csv.reader(stream, delimiter=";", strict=True)
    first = True
    try:
        for row in reader:
            if first and row:
                row[0] = row[0].removeprefix("\ufeff")
                first = False
            if not row or not "".join(row).strip():
                continue
            yield reader.line_num, row
    except csv.Error as exc:
        raise PabulibError(reader.line_num, f"unreadable row ({exc})") from None


def _section_of(row: _Row) -> str | None:
    name = row[0].strip().lower()
    if name in _SECTIONS and not "".join(row[1:]).strip():
        return name
    return None


def _amount(text: str, what: str, lineno: int) -> Number:
    value = parse_amount(text)
    if value is None:
        raise PabulibError(lineno, f"{what} is not a number: {text.strip()!r}")
    if value < 0:
        raise PabulibError(lineno, f"{what} is negative: {text.strip()!r}")
    return value


class _Parser:
    """A line-by-line state machine over the three sections."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.header: list[str] = []
        self.handle: Callable[[int, _Row], None] = self._before_meta
        self.wants_header = False  # a section line came; its header row has not
        self.meta: dict[str, str] = {}
        self.meta_lines: dict[str, int] = {}
        self.meta_line = 0
        self.projects: list[Project] = []
        self.ids: set[str] = set()
        self.ballots: list[Ballot] = []
        self.voter_ids: set[str] = set()
        self.vote_type = ""
        self.budget: Number = 0
        self.last_line = 0
        self.i_voter = self.i_vote = self.i_points = -1
        self.extra: list[tuple[int, str]] = []

    # -- section and header lines -------------------------------------------------------------

    def feed(self, lineno: int, row: _Row) -> None:
        self.last_line = lineno
        section = _section_of(row)
        if section is None:
            self.handle(lineno, row)
        else:
            self._start(lineno, section)

    def _start(self, lineno: int, section: str) -> None:
        if self.wants_header:
            raise PabulibError(lineno, f"section {self.seen[-1].upper()} has no header row")
        if section in self.seen:
            raise PabulibError(lineno, f"section {section.upper()} appears twice")
        expected = _SECTIONS[len(self.seen)]
        if section != expected:
            raise PabulibError(
                lineno, f"missing section {expected.upper()} (found {section.upper()} first)"
            )
        if section == "meta":
            self.meta_line = lineno
        elif section == "projects":
            self.vote_type = self._meta_vote_type()
            self.budget = self._meta_budget()
        self.seen.append(section)
        self.handle = self._header_row
        self.wants_header = True

    def _before_meta(self, lineno: int, row: _Row) -> None:
        raise PabulibError(lineno, f"expected section META, found {row[0].strip()!r}")

    def _header_row(self, lineno: int, row: _Row) -> None:
        header = [h.strip() for h in row]
        while len(header) > 1 and not header[-1]:
            header.pop()
        section = self.seen[-1]
        if "" in header or len(set(header)) != len(header):
            raise PabulibError(lineno, f"{section.upper()} header has empty or repeated columns")
        if section == "meta" and [h.lower() for h in header] != ["key", "value"]:
            raise PabulibError(lineno, f"META header must be key;value, found {';'.join(header)!r}")
        required = {
            "meta": (),
            "projects": ("project_id", "cost"),
            "votes": ("voter_id", "vote")
            + (() if self.vote_type in APPROVAL_TYPES else ("points",)),
        }[section]
        missing = [c for c in required if c not in header]
        if missing:
            raise PabulibError(
                lineno, f"{section.upper()} header lacks column(s) {', '.join(missing)}"
            )
        self.header = header
        self.wants_header = False
        if section == "meta":
            self.handle = self._meta_row
        elif section == "projects":
            self.handle = self._project_row
        else:
            self._prepare_votes()
            self.handle = self._vote_row

    def _fit(self, lineno: int, row: _Row) -> _Row:
        """Check the column count; tolerate trailing empty fields (a trailing ``;``)."""
        width = len(self.header)
        if len(row) > width and not "".join(row[width:]).strip():
            del row[width:]
        if len(row) != width:
            raise PabulibError(
                lineno,
                f"{self.seen[-1].upper()} row has {len(row)} columns but the header has "
                f"{width} ({';'.join(self.header)})",
            )
        return row

    # -- META ---------------------------------------------------------------------------------

    def _meta_row(self, lineno: int, row: _Row) -> None:
        while len(row) > 2 and not row[-1].strip():
            row.pop()
        if len(row) < 2:
            raise PabulibError(lineno, f"META row {row[0].strip()!r} has no value (want key;value)")
        key = row[0].strip()
        if key in self.meta:
            raise PabulibError(lineno, f"META key {key!r} given twice")
        self.meta[key] = ";".join(row[1:]).strip()
        self.meta_lines[key] = lineno

    def _meta_budget(self) -> Number:
        if "budget" not in self.meta:
            raise PabulibError(self.meta_line, "META section has no budget")
        return _amount(self.meta["budget"], "budget", self.meta_lines["budget"])

    def _meta_vote_type(self) -> str:
        if "vote_type" not in self.meta:
            raise PabulibError(self.meta_line, "META section has no vote_type")
        vote_type = self.meta["vote_type"].strip().lower()
        if vote_type not in VOTE_TYPES:
            raise PabulibError(
                self.meta_lines["vote_type"],
                f"unsupported vote_type {vote_type!r} (supported: {', '.join(sorted(VOTE_TYPES))})",
            )
        return vote_type

    # -- PROJECTS -----------------------------------------------------------------------------

    def _project_row(self, lineno: int, row: _Row) -> None:
        fields = dict(zip(self.header, self._fit(lineno, row), strict=True))
        pid = fields.pop("project_id").strip()
        if not pid:
            raise PabulibError(lineno, "empty project_id")
        if pid in self.ids:
            raise PabulibError(lineno, f"project_id {pid!r} given twice")
        self.ids.add(pid)
        cost = _amount(fields.pop("cost"), f"cost of project {pid!r}", lineno)
        self.projects.append(Project(pid, cost, MappingProxyType(fields)))

    # -- VOTES --------------------------------------------------------------------------------

    def _prepare_votes(self) -> None:
        header = self.header
        self.i_voter = header.index("voter_id")
        self.i_vote = header.index("vote")
        self.i_points = header.index("points") if "points" in header else -1
        if self.vote_type in APPROVAL_TYPES:
            self.i_points = -1
        skip = {self.i_voter, self.i_vote, self.i_points}
        self.extra = [(i, h) for i, h in enumerate(header) if i not in skip]

    def _vote_row(self, lineno: int, row: _Row) -> None:
        if len(row) != len(self.header):
            row = self._fit(lineno, row)
        voter = row[self.i_voter].strip()
        if not voter:
            raise PabulibError(lineno, "empty voter_id")
        if voter in self.voter_ids:
            raise PabulibError(lineno, f"voter_id {voter!r} given twice")
        self.voter_ids.add(voter)
        projects = _id_list(row[self.i_vote])
        if not self.ids.issuperset(projects):
            unknown = next(p for p in projects if p not in self.ids)
            raise PabulibError(
                lineno, f"ballot of voter {voter!r} names unknown project {unknown!r}"
            )
        if len(set(projects)) != len(projects):
            twice = next(p for p in projects if projects.count(p) > 1)
            raise PabulibError(lineno, f"ballot of voter {voter!r} lists project {twice!r} twice")
        points: tuple[Number, ...] | None = None
        if self.i_points >= 0:
            raw = _id_list(row[self.i_points])
            if len(raw) != len(projects):
                raise PabulibError(
                    lineno,
                    f"ballot of voter {voter!r} lists {len(projects)} projects "
                    f"but {len(raw)} points",
                )
            points = tuple(_amount(p, f"points of voter {voter!r}", lineno) for p in raw)
        extra = MappingProxyType({h: row[i] for i, h in self.extra})
        self.ballots.append(Ballot(voter, projects, points, extra))

    def finish(self) -> Election:
        if len(self.seen) < len(_SECTIONS) or self.wants_header:
            if len(self.seen) == 0:
                raise PabulibError(max(self.last_line, 1), "empty file (no META section)")
            if self.wants_header:
                problem = f"section {self.seen[-1].upper()} has no header row"
            else:
                problem = f"missing section {_SECTIONS[len(self.seen)].upper()}"
            raise PabulibError(max(self.last_line, 1), f"{problem} (the file ends here)")
        return Election(
            budget=self.budget,
            vote_type=self.vote_type,
            projects=tuple(self.projects),
            ballots=tuple(self.ballots),
            meta=self.meta,
        )


def _id_list(text: str) -> tuple[str, ...]:
    """Split a comma list, dropping blanks (``""`` is the empty list)."""
    if not text:
        return ()
    items = text.split(",")
    if " " in text or "\t" in text:
        items = [i.strip() for i in items]
    if "" in items:
        items = [i for i in items if i]
    return tuple(items)


def parse_pabulib(source: str | TextIO) -> Election:
    """Parse a Pabulib file given as text or as a text stream.

    Raises :class:`PabulibError` (a ``ValueError``) naming the line of the first problem.
    """
    parser = _Parser()
    for lineno, row in _rows(source):
        parser.feed(lineno, row)
    return parser.finish()
