"""`wijkbot budget import|codes|export` and a recount of the export with `wijkbot tally`."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.services.budget.counting.election import Ballot, Election, Project
from bot.services.budget.counting.rules import count
from bot.services.budget.rounds import close_round
from bot.services.budget.sealing import keys_for
from storage.db import Database
from storage.repo import ballots, budgets
from storage.repo.ballots import VoteResult
from tests.budget.test_store import CSV
from tests.conftest import EXAMPLE_SETUP


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WIJKBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("WIJKBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WIJKBOT_CONFIG", raising=False)
    assert main(["setup", "--file", str(EXAMPLE_SETUP)]) == 0
    return db_url


async def _vote_and_close(url: str, round_id: int, codes: list[str], cast: list[list[str]]) -> None:
    db = Database(url)
    now = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # the vote passes its own moment
    keys = keys_for(Settings())  # the key the CLI used: the same data directory
    try:
        async with db.transaction() as s:
            r = await budgets.get_round(s, round_id)
            assert r is not None
            await budgets.open_voting(s, r, now - timedelta(days=1), now + timedelta(days=1))
        for code, choices in zip(codes, cast, strict=False):
            voted = await ballots.vote(db, round_id, choices, keys=keys, now=now, code=code)
            assert voted is VoteResult.OK
        async with db.transaction() as s:
            r = await budgets.get_round(s, round_id)
            assert r is not None
            await close_round(s, r, now + timedelta(days=1), keys)
    finally:
        await db.dispose()


def test_import_codes_export_and_recount(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    projects = tmp_path / "projects.csv"
    projects.write_text(CSV, encoding="utf-8")
    capsys.readouterr()
    argv = ["budget", "import", "--neighbourhood", "schalkwijk", "--title", "Schalkwijk aan Zet"]
    assert main([*argv, "--rule", "greedy", "--budget", "70000", str(projects)]) == 0
    round_id = int(capsys.readouterr().out.strip())

    codes_file = tmp_path / "codes.csv"
    assert main(["budget", "codes", str(round_id), "--count", "25", "--out", str(codes_file)]) == 0
    rows = list(csv.reader(codes_file.open(encoding="utf-8")))
    assert rows[0] == ["code"] and len({r[0] for r in rows[1:]}) == 25
    codes = [r[0] for r in rows[1:]]
    assert all(budgets.normalise_code(c) for c in codes)
    capsys.readouterr()
    # An existing codes file is never overwritten (its codes may be printed already).
    assert main(["budget", "codes", str(round_id), "--count", "1", "--out", str(codes_file)]) == 2
    assert "exists already" in capsys.readouterr().err

    # Coordinators see nothing before closing.
    assert main(["budget", "export", str(round_id)]) == 2
    err = capsys.readouterr().err
    assert "not closed" in err and "Traceback" not in err and err.count("\n") == 1

    cast = [["A", "D"], ["B"], ["B", "D"], ["C"], ["C", "D"], ["A", "B", "D"], ["D"], ["A"]]
    asyncio.run(_vote_and_close(cli_env, round_id, codes, cast))
    out = tmp_path / "round.pb"
    assert main(["budget", "export", str(round_id), "--out", str(out)]) == 0
    direct = Election(
        budget=70000,
        vote_type="approval",
        projects=(
            Project("A", 12000),
            Project("B", 30000),
            Project("C", 45000),
            Project("D", 8000),
        ),
        ballots=tuple(Ballot(str(i), tuple(c)) for i, c in enumerate(cast)),
    )
    for rule in ("greedy", "greedy-stop", "mes", "mes-add1", "mes-add1-greedy"):
        capsys.readouterr()
        assert main(["tally", str(out), "--rule", rule, "--json"]) == 0
        tallied = json.loads(capsys.readouterr().out)
        expected = count(direct, rule)
        assert set(tallied["selected"]) == set(expected.selected), rule
        assert tallied["total_cost"] == expected.total_cost


def test_errors_are_one_line(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,title,description,cost\nA,Bankjes,,12000\nB,Moestuin,,veel\n", encoding="utf-8"
    )
    base = ["budget", "import", "--neighbourhood", "schalkwijk", "--title", "T", "--rule"]
    cases = [
        ([*base, "greedy", "--budget", "1000", str(bad)], "bad.csv: line 3: cost"),
        ([*base, "greedy", str(bad)], "line 3"),
        ([*base, "nope", "--budget", "9", str(tmp_path / "x.csv")], "cannot read"),
        (
            [
                "budget",
                "import",
                "--neighbourhood",
                "nergens",
                "--rule",
                "greedy",
                "--budget",
                "5",
                str(bad),
            ],
            "unknown neighbourhood",
        ),
        (["budget", "export", "999"], "unknown budget round 999"),
        (
            ["budget", "codes", "999", "--count", "3", "--out", str(tmp_path / "c.csv")],
            "unknown budget round",
        ),
    ]
    for argv, words in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1 and "Traceback" not in err, err
    good = tmp_path / "good.csv"
    good.write_text(CSV, encoding="utf-8")
    capsys.readouterr()
    assert main([*base, "greedy", str(good)]) == 2
    assert "--budget" in capsys.readouterr().err
    assert main([*base, "wrong", "--budget", "9", str(good)]) == 2
    assert "unknown counting rule" in capsys.readouterr().err
