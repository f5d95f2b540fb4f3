"""The Pol.is open-data export format: read it, and write it from our own conversations.

A directory holds ``comments.csv`` (the statements), ``participants-votes.csv`` (one row
per participant with Pol.is's ``group-id``, then one column per statement: 1 agree, -1
disagree, 0 pass, empty not seen), optionally ``votes.csv`` (every vote with its time;
when present it is the source of the votes and the latest vote per voter and statement
wins) and ``summary.csv``. Anything malformed raises :class:`PolisFormatError`, whose
message names the file and the row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.services.dialogue.analysis import Analysis, Vote

COMMENTS = "comments.csv"
PARTICIPANTS = "participants-votes.csv"
VOTES = "votes.csv"
SUMMARY = "summary.csv"
FIXED_PARTICIPANT_COLUMNS = ("participant", "group-id", "n-comments", "n-votes", "n-agree",
                             "n-disagree")  # fmt: skip


class PolisFormatError(ValueError):
    """A file of the export is not in the Pol.is format; the message says where."""

    def __init__(self, file: str, row: int | None, problem: str) -> None:
        self.file, self.row, self.problem = file, row, problem
        where = f"{file}, row {row}" if row is not None else file
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Statement:
    id: int
    text: str
    moderated: int = 1  # -1 moderated out, 0 not yet, 1 accepted
    author: int | None = None
    timestamp_ms: int = 0


@dataclass
class Conversation:
    statements: dict[int, Statement] = field(default_factory=dict)
    votes: list[Vote] = field(default_factory=list)
    vote_times: dict[tuple[int, int], int] = field(default_factory=dict)  # ms since 1970
    polis_groups: dict[int, int] = field(default_factory=dict)  # Pol.is's own group-id
    summary: dict[str, str] = field(default_factory=dict)

    @property
    def moderated_out(self) -> frozenset[int]:
        return frozenset(s.id for s in self.statements.values() if s.moderated < 0)


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    name = path.name
    try:
        fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 -- closed below
    except OSError as exc:
        raise PolisFormatError(name, None, f"cannot be read ({exc.strerror})") from None
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                raise PolisFormatError(name, None, "the file is empty")
            header = [h.strip() for h in header]
            missing = [c for c in required if c not in header]
            if missing:
                raise PolisFormatError(name, 1, "missing column(s): " + ", ".join(missing))
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(header):
                    raise PolisFormatError(
                        name, reader.line_num, f"{len(row)} values for {len(header)} columns"
                    )
                yield reader.line_num, dict(zip(header, row, strict=False))
        except csv.Error as exc:
            raise PolisFormatError(name, reader.line_num, f"not valid CSV ({exc})") from None
        except UnicodeDecodeError:
            raise PolisFormatError(name, reader.line_num + 1, "not UTF-8 text") from None


def _int(file: str, row: int, column: str, value: str | None) -> int:
    text = (value or "").strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)  # "1.0", as some spreadsheets write it
    except ValueError:
        number = 0.5
    if number.is_integer():
        return int(number)
    shown = text if len(text) <= 20 else text[:20] + "…"
    raise PolisFormatError(file, row, f"{column} must be a whole number, not {shown!r}")


def _vote(file: str, row: int, column: str, value: str) -> int:
    vote = _int(file, row, column, value)
    if vote not in (-1, 0, 1):
        raise PolisFormatError(file, row, f"vote in column {column} must be 1, -1 or 0, not {vote}")
    return vote


def read_conversation(directory: Path) -> Conversation:
    """Read a conversation in the Pol.is export format (see the module text)."""
    if not directory.is_dir():
        raise PolisFormatError(str(directory), None, "is not a directory")
    conv = Conversation()
    for row, rec in _rows(directory / COMMENTS, ("comment-id", "comment-body")):
        sid = _int(COMMENTS, row, "comment-id", rec["comment-id"])
        moderated = rec.get("moderated", "").strip()
        author = rec.get("author-id", "").strip()
        conv.statements[sid] = Statement(
            sid,
            rec["comment-body"],
            _int(COMMENTS, row, "moderated", moderated) if moderated else 1,
            _int(COMMENTS, row, "author-id", author) if author else None,
            _int(COMMENTS, row, "timestamp", rec["timestamp"]) if rec.get("timestamp") else 0,
        )
    matrix_votes: list[Vote] = []
    for row, rec in _rows(directory / PARTICIPANTS, ("participant", "group-id")):
        pid = _int(PARTICIPANTS, row, "participant", rec["participant"])
        if rec["group-id"].strip():
            conv.polis_groups[pid] = _int(PARTICIPANTS, row, "group-id", rec["group-id"])
        for column, value in rec.items():
            if column in FIXED_PARTICIPANT_COLUMNS or not value.strip():
                continue
            sid = _int(PARTICIPANTS, 1, "the header (a statement id)", column)
            matrix_votes.append((pid, sid, _vote(PARTICIPANTS, row, column, value)))
    if (directory / VOTES).exists():
        latest: dict[tuple[int, int], tuple[int, int, int]] = {}
        required = ("timestamp", "comment-id", "voter-id", "vote")
        for row, rec in _rows(directory / VOTES, required):
            key = (_int(VOTES, row, "voter-id", rec["voter-id"]),
                   _int(VOTES, row, "comment-id", rec["comment-id"]))  # fmt: skip
            when = _int(VOTES, row, "timestamp", rec["timestamp"])
            vote = _vote(VOTES, row, "vote", rec["vote"])
            if key not in latest or when >= latest[key][0]:
                latest[key] = (when, row, vote)
        conv.votes = [(p, s, v) for (p, s), (_, _, v) in latest.items()]
        conv.vote_times = {key: when for key, (when, _, _) in latest.items()}
    else:
        conv.votes = matrix_votes
    if (directory / SUMMARY).exists():
        try:
            text = (directory / SUMMARY).read_text(encoding="utf-8-sig")
            conv.summary = {r[0]: r[1] for r in csv.reader(io.StringIO(text)) if len(r) >= 2}
        except (csv.Error, UnicodeDecodeError) as exc:
            raise PolisFormatError(SUMMARY, None, f"not valid CSV ({exc})") from None
    return conv


def _csv(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


def write_conversation(
    directory: Path,
    statements: Mapping[int, Statement],
    votes: list[Vote],
    analysis: Analysis,
    *,
    vote_times: Mapping[tuple[int, int], int] | None = None,
    topic: str = "",
    description: str = "",
) -> None:
    """Write the four files of the Pol.is export; ``group-id`` comes from ``analysis``."""
    directory.mkdir(parents=True, exist_ok=True)
    latest: dict[tuple[int, int], int] = {}
    for pid, sid, vote in votes:
        latest[(int(pid), int(sid))] = vote
    times = vote_times or {}
    sids = sorted(statements)
    agrees = {s: 0 for s in sids}
    disagrees = {s: 0 for s in sids}
    per_person: dict[int, dict[int, int]] = {}
    for (pid, sid), vote in latest.items():
        per_person.setdefault(pid, {})[sid] = vote
        if vote == 1:
            agrees[sid] = agrees.get(sid, 0) + 1
        elif vote == -1:
            disagrees[sid] = disagrees.get(sid, 0) + 1
    authored: dict[int, int] = {}
    for st in statements.values():
        if st.author is not None:
            authored[st.author] = authored.get(st.author, 0) + 1
    comments: list[list[object]] = [["timestamp", "datetime", "comment-id", "author-id", "agrees",
                                     "disagrees", "moderated", "comment-body"]]  # fmt: skip
    for st in sorted(statements.values(), key=lambda s: -s.id):
        comments.append([st.timestamp_ms, _when(st.timestamp_ms), st.id,
                         "" if st.author is None else st.author, agrees[st.id], disagrees[st.id],
                         st.moderated, st.text])  # fmt: skip
    people: list[list[object]] = [[*FIXED_PARTICIPANT_COLUMNS, *sids]]
    for pid in sorted(per_person):
        mine = per_person[pid]
        group = analysis.groups.get(pid)
        people.append([pid, "" if group is None else group, authored.get(pid, 0), len(mine),
                       sum(1 for v in mine.values() if v == 1),
                       sum(1 for v in mine.values() if v == -1),
                       *(mine.get(s, "") for s in sids)])  # fmt: skip
    vote_rows: list[list[object]] = [["timestamp", "datetime", "comment-id", "voter-id", "vote"]]
    for (pid, sid), vote in sorted(latest.items(), key=lambda kv: (times.get(kv[0], 0), kv[0])):
        when = times.get((pid, sid), 0)
        vote_rows.append([when, _when(when), sid, pid, vote])
    summary: list[list[object]] = [
        ["topic", topic],
        ["voters", len(per_person)],
        ["voters-in-conv", len(analysis.groups)],
        ["commenters", len(authored)],
        ["comments", len(statements)],
        ["groups", analysis.n_groups],
        ["conversation-description", description],
    ]
    for name, rows in ((COMMENTS, comments), (PARTICIPANTS, people), (VOTES, vote_rows),
                       (SUMMARY, summary)):  # fmt: skip
        (directory / name).write_text(_csv(rows), encoding="utf-8", newline="")


def analyse_directory(directory: Path, as_json: bool = False) -> str:
    """What ``wijkbot gesprek analyse DIR [--json]`` prints."""
    import json

    from bot.services.dialogue.analysis import analyse

    conv = read_conversation(directory)
    result = analyse(conv.votes, conv.moderated_out)
    if as_json:
        doc = {
            "groups": {
                str(p): g for p, g in sorted(result.groups.items(), key=lambda kv: str(kv[0]))
            },
            "consensus": [c.statement for c in result.consensus],
            "repness": {
                str(g): [r.statement for r in reps] for g, reps in sorted(result.repness.items())
            },
        }
        return json.dumps(doc, ensure_ascii=False) + "\n"
    text = {s.id: " ".join(s.text.split()) for s in conv.statements.values()}
    voters = len({p for p, _, _ in conv.votes})
    lines = [
        f"{voters} participants, {len(conv.votes)} votes, {len(conv.statements)} statements; "
        f"{len(result.groups)} placed in {result.n_groups} opinion groups.",
        "",
        "Common ground (group-informed consensus):",
    ]
    lines += [f"  [{c.statement}] {c.agree_pct}% agree: {text.get(int(c.statement), '')}"
              for c in result.consensus]  # fmt: skip
    for g, reps in sorted(result.repness.items()):
        lines += ["", f"Group {g} ({result.group_sizes[g]} people):"]
        lines += [f"  [{r.statement}] {r.pct}% {r.repful_for}: {text.get(int(r.statement), '')}"
                  for r in reps]  # fmt: skip
    return "\n".join(lines) + "\n"
