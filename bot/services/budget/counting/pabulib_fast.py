"""Read a Pabulib file straight into a counting profile, without a Python object per ballot.

:func:`read_profile` gives what ``build_profile(parse_pabulib(text))`` gives, and raises the same
:class:`~bot.services.budget.counting.pabulib.PabulibError` for a malformed file. The META and
PROJECTS sections go through the same parser. The VOTES section, tens of thousands of plain
lines in a city-wide election, is cut up as bytes: one split gives every field of every row,
slices give the columns, and each ballot's projects go straight into their lists of voters.

The fast way only takes what it can check just as strictly: no quotes, every row with exactly
the header's columns, plain ASCII voter ids present and unique, vote lists without empty items
naming known projects at most once each, points as whole numbers (one per project). Anything
else (a trailing semicolon, a blank row with spaces, a misspelled id ...) sends the whole file
through :func:`~bot.services.budget.counting.pabulib.parse_pabulib`, which reads every quirk it
tolerates and names the line of the first problem.
"""

from __future__ import annotations

import codecs
import csv
import io
from itertools import chain, repeat
from operator import eq

from bot.services.budget.counting.amounts import Number
from bot.services.budget.counting.pabulib import PabulibError, _Parser, _rows, parse_pabulib
from bot.services.budget.counting.profile import Profile, build_profile

_SECTIONS = (b"meta", b"projects", b"votes")
# ASCII characters ``str.strip`` removes but ``bytes.strip`` keeps.
_STR_ONLY_SPACE = (b"\x1c", b"\x1d", b"\x1e", b"\x1f")


def _decode(raw: bytes) -> str:
    """``raw`` as text (UTF-8, with or without a byte-order mark); raises ``PabulibError``."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PabulibError(line, "not UTF-8 text") from None


def read_profile(raw: bytes) -> Profile:
    """The counting profile of the Pabulib file ``raw``; raises ``PabulibError`` like
    :func:`~bot.services.budget.counting.pabulib.parse_pabulib`."""
    text = _decode(raw)
    head = _read_head(text)
    if head is not None:
        parser, offset = head
        start = len(text[:offset].encode()) + (3 if raw.startswith(codecs.BOM_UTF8) else 0)
        fields = _fields(raw[start:], len(parser.header))
        if fields is not None and 0 not in (parser.i_vote, parser.i_points):
            profile = _profile(parser, fields)
            if profile is not None:
                return profile
    return build_profile(parse_pabulib(text))


def _read_head(text: str) -> tuple[_Parser, int] | None:
    """Parse up to and including the VOTES header row, exactly as ``parse_pabulib`` does.

    Returns the parser and the offset of the first vote row, or ``None`` when the file ends
    first. A problem before that raises the same error as ``parse_pabulib``.
    """
    stream = io.StringIO(text, newline="")
    parser = _Parser()
    for lineno, row in _rows(stream):
        parser.feed(lineno, row)
        if parser.handle == parser._vote_row:
            return parser, stream.tell()
    return None


def _fields(rest: bytes, width: int) -> list[bytes] | None:
    """Every field of the vote rows, row after row, or ``None`` if a row is not plain.

    The rows are split in one go: each line end becomes ``;\\n`` so that the text splits at
    every ``;``, and a row starts exactly where a field starts with the line end. If every
    ``width``-th field does, every row has ``width`` fields. ``bytes.strip`` later removes the
    line end from the first field together with any spaces, as the slow path strips them.
    """
    if b'"' in rest:
        return None
    if b"\r" in rest:
        rest = rest.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    rest = rest.strip(b"\n")
    while b"\n\n" in rest:  # empty lines: skipped, as the slow path does
        rest = rest.replace(b"\n\n", b"\n")
    if not rest:
        return []
    limit = csv.field_size_limit()
    fields = rest.replace(b"\n", b";\n").split(b";")
    if len(fields) != width * (rest.count(b"\n") + 1):
        return None
    if not all(map(bytes.startswith, fields[width::width], repeat(b"\n"))):
        return None
    if len(rest) > limit and max(map(len, fields)) > limit:
        return None
    return fields


def _voters_ok(fields: list[bytes], width: int, column: int) -> bool:
    """Every voter id present and unique, and no row that may be a section line."""
    voters = list(map(bytes.strip, fields[column::width]))
    if b"" in voters or len(set(voters)) != len(voters):
        return False
    joined = b"\n".join(voters)
    if not joined.isascii() or any(c in joined for c in _STR_ONLY_SPACE):
        return False  # ids that ``str.strip`` might strip differently
    firsts = (joined if column == 0 else b"\n".join(fields[::width])).lower()
    return not any(name in firsts for name in _SECTIONS)


def _approvals(votes: list[bytes], ids: list[bytes]) -> list[list[int]] | None:
    """Each project's voters (ascending), or ``None`` for an unknown project or an empty item.

    Items are not stripped: an item with a space at either end names no project (project ids
    are stripped), so it sends the file to the slow reader, which strips it.
    """
    voters: list[list[int]] = [[] for _ in ids]
    adder = dict(zip(ids, [lst.append for lst in voters], strict=True)).__getitem__
    try:
        for v, field in enumerate(votes):
            if field:
                for add in map(adder, field.split(b",")):
                    add(v)
    except KeyError:
        return None
    return voters


def _items(fields: list[bytes]) -> tuple[list[bytes], list[int]]:
    """All comma-separated items of ``fields`` in one list, and the number per field."""
    joined = b",".join(filter(None, fields))
    items = joined.split(b",") if joined else []
    return items, [field.count(b",") + 1 if field else 0 for field in fields]


def _scores(
    votes: list[bytes], points: list[bytes], ids: list[bytes]
) -> tuple[list[list[int]], list[list[Number]]] | None:
    """Each project's voters with positive points and their points, or ``None``."""
    tokens, sizes = _items(votes)
    scores, counts = _items(points)
    digits = b"".join(scores)
    if counts != sizes or b"" in scores or (digits and not digits.isdigit()):
        return None  # not one whole number per project
    index = dict(zip(ids, range(len(ids)), strict=True))
    try:
        projects = list(map(index.__getitem__, tokens))
    except KeyError:
        return None
    owners = chain.from_iterable(map(repeat, range(len(votes)), sizes))
    voters: list[list[int]] = [[] for _ in ids]
    utilities: list[list[Number]] = [[] for _ in ids]
    for p, v, u in zip(projects, owners, map(int, scores), strict=True):
        if u:
            voters[p].append(v)
            utilities[p].append(u)
    return voters, utilities


def _profile(parser: _Parser, fields: list[bytes]) -> Profile | None:
    """Build the profile from plain vote rows, or ``None`` if something needs a closer look."""
    width = len(parser.header)
    if not _voters_ok(fields, width, parser.i_voter):
        return None
    ids = [p.project_id.encode() for p in parser.projects]
    votes = fields[parser.i_vote :: width]
    utilities: list[list[Number]] | None = None
    if parser.i_points < 0:
        voters = _approvals(votes, ids)
        if voters is None:
            return None
    else:
        scored = _scores(votes, fields[parser.i_points :: width], ids)
        if scored is None:
            return None
        voters, utilities = scored
    if any(any(map(eq, lst[1:], lst)) for lst in voters):
        return None  # a ballot names a project twice (voter lists are ascending)
    return Profile(
        ids=tuple(p.project_id for p in parser.projects),
        costs=tuple(p.cost for p in parser.projects),
        budget=parser.budget,
        n_voters=len(votes),
        supporters=tuple(map(tuple, voters)),
        utilities=None if utilities is None else tuple(map(tuple, utilities)),
        support=(
            tuple(map(len, voters)) if utilities is None else tuple(sum(u, 0) for u in utilities)
        ),
    )
