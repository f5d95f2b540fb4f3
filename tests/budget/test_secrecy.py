"""An attacker with a copy of the database tries to pair voters with their ballots.

Twelve residents vote, one after the other, each a different basket. At every moment the
attacker may take a copy: every row with PostgreSQL's system columns (``xmin``: the
transaction that wrote it, ``ctid``: where it lies), the raw files (the SQLite file and its
WAL; PostgreSQL's table files and WAL segments), ids and lengths. During voting no copy
holds a readable ballot at all; after closing the readable ballots carry one transaction
id and lie in an order that is not the voting order; without the secret key, a copy can
neither open a sealed ballot nor test a voting code. A confirmed vote survives ``kill -9``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.app import App
from bot.cli import main
from bot.core.secret_key import SecretKey
from bot.services.budget import imports
from bot.services.budget.rounds import close_round
from bot.services.budget.sealing import BallotKeys
from storage.models import Ballot, BudgetRound, SealedBallot, VotingCode
from storage.repo import ballots, budgets, people, places
from storage.repo.ballots import VoteResult
from tests.conftest import EXAMPLE_SETUP

ROOT = Path(__file__).resolve().parents[2]
OPENS = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
CLOSES = datetime(2026, 11, 15, 17, 0, tzinfo=UTC)
DURING = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
PROJECTS = ["XQA", "XQB", "XQC", "XQD", "XQE"]
CSV = "id,title,description,cost\n" + "".join(f"{p},Project {p},,1000\n" for p in PROJECTS)
# Twelve different baskets, in voting order.
BASKETS = [
    ["XQA"], ["XQB"], ["XQC"], ["XQD"], ["XQE"], ["XQA", "XQB"], ["XQA", "XQC"],
    ["XQB", "XQD"], ["XQC", "XQE"], ["XQA", "XQB", "XQC"], ["XQB", "XQC", "XQD", "XQE"],
    ["XQA", "XQB", "XQC", "XQD", "XQE"],
]  # fmt: skip


def _needles(basket: list[str]) -> list[bytes]:
    """How a basket could appear in a file: JSON with or without spaces."""
    return [
        json.dumps(sorted(basket)).encode(),
        json.dumps(sorted(basket), separators=(",", ":")).encode(),
    ]


async def _round_with_voters(app: App) -> tuple[BudgetRound, list[int]]:
    async with app.db.transaction() as s:
        hood = await places.neighbourhood_by_slug(s, "schalkwijk")
        assert hood is not None and hood.id is not None
        round_ = await imports.import_round(
            s, neighbourhood_id=hood.id, source=CSV, kind="csv", counting_rule="greedy",
            title="Geheim", budget=70000, voters="both",
        )  # fmt: skip
        await budgets.open_voting(s, round_, OPENS, CLOSES)
        voters = []
        for i in range(len(BASKETS)):
            person = await people.get_or_create_person(s, "console", f"voter{i}", "nl")
            assert person.id is not None
            await people.set_home(s, person.id, hood.id)
            for m in await people.memberships_of(s, person.id):
                m.home_since = OPENS - timedelta(days=10)
                s.add(m)
            voters.append(person.id)
    return round_, voters


def _rows(url: str, table: str) -> list[dict[str, Any]]:
    """Every row as the attacker reads it, with PostgreSQL's system columns."""
    sync = make_url(url).set(drivername="postgresql")
    with psycopg.connect(sync.render_as_string(hide_password=False)) as conn:
        cur = conn.execute(f"SELECT xmin::text AS xmin, ctid::text AS ctid, * FROM {table}")
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _ctid_key(ctid: str) -> tuple[int, int]:
    page, item = ctid.strip("()").split(",")
    return int(page), int(item)


def _files(url: str) -> list[Path]:
    """The raw files a backup or a stolen disk holds."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = Path(str(parsed.database))
        return [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-journal")) if p.exists()]
    sync = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(sync, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        data = Path(str(conn.execute("SHOW data_directory").fetchone()[0]))  # type: ignore[index]
        oid = conn.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]  # type: ignore[index]
    return [*(data / "base" / str(oid)).iterdir(), *(data / "pg_wal").glob("0*")]


def _found_in_files(files: Iterable[Path], needles: list[bytes]) -> list[str]:
    hits = []
    for path in files:
        try:
            raw = path.read_bytes()
        except (PermissionError, IsADirectoryError, FileNotFoundError):
            continue
        hits += [f"{path.name}: {n.decode()}" for n in needles if n in raw]
    return hits


def _file_order(files: Iterable[Path]) -> list[int]:
    """Baskets in the order their plain JSON lies in the files (offset order)."""
    found: dict[int, int] = {}
    for path in files:
        try:
            raw = path.read_bytes()
        except (PermissionError, IsADirectoryError, FileNotFoundError):
            continue
        for i, basket in enumerate(BASKETS):
            for needle in _needles(basket):
                at = raw.find(needle)
                if at >= 0 and i not in found:
                    found[i] = at
    return sorted(found, key=found.__getitem__)


async def test_a_copy_of_the_database_cannot_pair_a_voter_with_a_ballot(
    app: App, db_url: str
) -> None:
    round_, voters = await _round_with_voters(app)
    keys = app.ballot_keys
    pg = make_url(db_url).get_backend_name() != "sqlite"
    for person_id, basket in zip(voters, BASKETS, strict=True):
        result = await ballots.vote(
            app.db, round_.id or 0, basket, keys=keys, now=DURING, person_id=person_id
        )
        assert result is VoteResult.OK
        # A copy taken now: no file holds any basket in readable form (so no transaction id,
        # page, offset or WAL frame can pair it with the roll row written with it).
        needles = [n for b in BASKETS for n in _needles(b)]
        assert _found_in_files(_files(db_url), needles) == []
    async with app.db.session() as s:
        sealed = list((await s.exec(select(SealedBallot))).all())
        assert len(sealed) == len(BASKETS) and not (await s.exec(select(Ballot))).all()
    # One length for every sealed ballot: a basket of one and of five look alike.
    assert len({len(b.sealed) for b in sealed}) == 1
    # Without the secret key (a database copy alone), a sealed ballot does not open.
    stranger = BallotKeys(SecretKey(b"\x01" * 32))
    with pytest.raises(InvalidTag):
        stranger.open(round_, sealed[0].sealed)
    if pg:
        # The roll row and its sealed ballot share xmin; the ballot is unreadable there.
        for roll in _rows(db_url, "voterroll"):
            twins = [r for r in _rows(db_url, "sealedballot") if r["xmin"] == roll["xmin"]]
            assert len(twins) == 1
            blob = bytes(twins[0]["sealed"])
            assert not any(n in blob for b in BASKETS for n in _needles(b))

    async with app.db.transaction() as s:
        loaded = await budgets.get_round(s, round_.id or 0)
        assert loaded is not None
        await close_round(s, loaded, CLOSES, keys)
    async with app.db.session() as s:
        plain = list((await s.exec(select(Ballot))).all())
        assert not (await s.exec(select(SealedBallot))).all()
    assert sorted(sorted(b.choices) for b in plain) == sorted(sorted(b) for b in BASKETS)
    voting_order = list(range(len(BASKETS)))
    index = {json.dumps(sorted(b)): i for i, b in enumerate(BASKETS)}
    # Random ids: sorting by id does not give the voting order.
    by_id = [index[json.dumps(sorted(b.choices))] for b in sorted(plain, key=lambda b: b.id)]
    assert by_id != voting_order
    if pg:
        rows = _rows(db_url, "ballot")
        assert len({r["xmin"] for r in rows}) == 1  # one transaction wrote them all
        by_place = [
            index[json.dumps(sorted(r["choices"]))]
            for r in sorted(rows, key=lambda r: _ctid_key(r["ctid"]))
        ]
        assert by_place != voting_order
    else:
        assert _file_order(_files(db_url)) != voting_order
    # Counting used them all.
    async with app.db.session() as s:
        done = await budgets.get_round(s, round_.id or 0)
        assert done is not None and done.result is not None
        assert done.result["voters"] == len(BASKETS)


async def test_a_copy_cannot_test_voting_codes_without_the_key(app: App) -> None:
    """The codes' key is derived from the secret key, outside the database: with the
    round's salt alone (what a copy holds) a guessed code cannot be checked offline."""
    round_, _voters = await _round_with_voters(app)
    async with app.db.transaction() as s:
        loaded = await budgets.get_round(s, round_.id or 0)
        assert loaded is not None
        [code] = await budgets.create_codes(
            s, loaded, 1, key=app.ballot_keys.code_key(loaded), now=DURING
        )
        salt = loaded.code_salt
    symbols = budgets.normalise_code(code)
    assert symbols is not None
    async with app.db.session() as s:
        stored = (await s.exec(select(VotingCode.code_hash))).one()
    assert budgets.hash_code(bytes.fromhex(salt), symbols) != stored
    assert budgets.hash_code(app.ballot_keys.code_key(round_), symbols) == stored


async def test_a_round_sealed_with_another_key_is_refused_not_miscounted(app: App) -> None:
    """A lost or swapped key file: voting and counting stop with a clear error instead of
    counting nothing or accepting codes that were never issued."""
    round_, voters = await _round_with_voters(app)
    async with app.db.transaction() as s:
        loaded = await budgets.get_round(s, round_.id or 0)
        assert loaded is not None
        app.ballot_keys.bind(loaded)
        s.add(loaded)
    other = BallotKeys(SecretKey(b"\x02" * 32))
    with pytest.raises(Exception, match="another secret key"):
        await ballots.vote(
            app.db, round_.id or 0, ["XQA"], keys=other, now=DURING, person_id=voters[0]
        )
    async with app.db.session() as s:
        assert not (await s.exec(select(SealedBallot))).all()


VOTER_SCRIPT = """
import asyncio, sys
from datetime import datetime, UTC
from bot.core.secret_key import SecretKey
from bot.services.budget.sealing import BallotKeys
from storage.db import Database
from storage.repo import ballots

async def main():
    db = Database(sys.argv[1])
    keys = BallotKeys(SecretKey(bytes.fromhex(sys.argv[3])))
    now = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    for person_id in map(int, sys.argv[4:]):
        result = await ballots.vote(db, int(sys.argv[2]), ["XQA"], keys=keys, now=now,
                                    person_id=person_id)
        print("confirmed", person_id, result.value, flush=True)

asyncio.run(main())
"""


def _vote_then_kill(args: list[str], after: int) -> list[int]:
    """Run the voter script; SIGKILL it once `after` votes were confirmed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", VOTER_SCRIPT, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    confirmed = []
    deadline = time.monotonic() + 60
    while len(confirmed) < after and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("confirmed"):
            assert line.split()[2] == "ok", line
            confirmed.append(int(line.split()[1]))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return confirmed


async def test_a_confirmed_vote_survives_kill_9(app: App, db_url: str) -> None:
    """Votes are confirmed only after their transaction committed: killed mid-stream, the
    bot keeps every confirmed vote, and the roll and the ballot box agree."""
    round_, voters = await _round_with_voters(app)
    secret = "03" * 32
    keys = BallotKeys(SecretKey(bytes.fromhex(secret)))
    confirmed = await asyncio.to_thread(
        _vote_then_kill, [db_url, str(round_.id), secret, *map(str, voters)], 4
    )
    assert len(confirmed) >= 4
    async with app.db.transaction() as s:
        loaded = await budgets.get_round(s, round_.id or 0)
        assert loaded is not None
        await close_round(s, loaded, CLOSES, keys)
    async with app.db.session() as s:
        done = await budgets.get_round(s, round_.id or 0)
        assert done is not None and done.result is not None
        counted = int(done.result["voters"])
        roll = await budgets.turnout(s, round_.id or 0)
    assert counted >= len(confirmed) and counted == roll
    for person_id in confirmed:
        async with app.db.session() as s:
            assert await budgets.has_voted(s, round_.id or 0, person_id)


def test_a_lost_or_swapped_key_file_stops_the_bot_with_one_line(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Codes were made with one key; the key file is then replaced (a restore without it, a
    new server): the bot refuses to start, and says what to do, instead of turning every
    letter code into 'unknown' or counting ballots it cannot open."""
    monkeypatch.setenv("WIJKBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("WIJKBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WIJKBOT_CONFIG", raising=False)
    assert main(["setup", "--file", str(EXAMPLE_SETUP)]) == 0
    projects = tmp_path / "projects.csv"
    projects.write_text(CSV, encoding="utf-8")
    argv = ["budget", "import", "--neighbourhood", "schalkwijk", "--title", "T", "--rule"]
    capsys.readouterr()
    assert main([*argv, "greedy", "--budget", "9000", str(projects)]) == 0
    round_id = capsys.readouterr().out.strip()
    key_file = tmp_path / "secret.key"
    assert (
        main(["budget", "codes", round_id, "--count", "2", "--out", str(tmp_path / "c.csv")]) == 0
    )
    assert key_file.stat().st_mode & 0o777 == 0o600
    key_file.write_text("ab" * 32 + "\n")
    capsys.readouterr()
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "another secret key" in err and "Traceback" not in err and err.count("\n") == 1
    assert (
        main(["budget", "codes", round_id, "--count", "1", "--out", str(tmp_path / "d.csv")]) == 2
    )
    assert "another secret key" in capsys.readouterr().err
    key_file.write_text("not a key")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "secret key file" in err and "hexadecimal" in err and "not a key" not in err
