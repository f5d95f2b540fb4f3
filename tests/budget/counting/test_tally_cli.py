"""``wijkbot tally``: output format, --json, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.services.budget.counting.tally_cli import main, natural_key, render
from tests.budget.counting.realdata import REPO

ELECTION = """META
key;value
budget;100
vote_type;approval
PROJECTS
project_id;cost
9;40
10;40
2;30
VOTES
voter_id;vote
1;9,10,2
2;9,10
3;9,2
"""


@pytest.fixture
def pb_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.pb"
    path.write_text(ELECTION, encoding="utf-8")
    return path


def test_prints_ids_in_natural_order_then_total(
    pb_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Greedy: 9 has 3 votes; 10 and 2 tie on 2 and "10" wins as text; then 2 does not fit.
    assert main([str(pb_file), "--rule", "greedy"]) == 0
    out = capsys.readouterr()
    assert out.out == "9\n10\ntotal_cost: 80\n"
    assert out.err == ""


def test_json_output(pb_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(pb_file), "--rule", "greedy-stop", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"selected": ["9", "10"], "total_cost": 80}


def refused(bad: Path, text: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Count `text` as file `bad`: exit 2, nothing on stdout; what stderr says."""
    bad.write_text(text, encoding="utf-8")
    assert main([str(bad), "--rule", "mes"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    return out.err


def test_malformed_file_gives_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.pb"
    err = refused(bad, ELECTION.replace("3;9,2", "3;9,7"), capsys)
    assert err.count("\n") == 1
    assert str(bad) in err
    assert "line 14" in err
    assert "unknown project '7'" in err


def test_section_without_header_row_gives_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.pb"
    err = refused(bad, ELECTION.replace("project_id;cost\n9;40\n10;40\n2;30\n", ""), capsys)
    assert err == f"wijkbot tally: {bad}: line 6: section PROJECTS has no header row\n"


def test_missing_file_and_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.pb"), "--rule", "mes"]) == 2
    assert "cannot read" in capsys.readouterr().err
    binary = tmp_path / "bin.pb"
    binary.write_bytes(b"META\nkey;value\n\xff\xfe\n")
    assert main([str(binary), "--rule", "mes"]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "not UTF-8" in err


def test_unknown_rule_is_a_usage_error(pb_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([str(pb_file), "--rule", "borda"])
    assert exited.value.code == 2
    assert "mes-add1-greedy" in capsys.readouterr().err


def test_runs_as_a_module(pb_file: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.services.budget.counting.tally_cli",
            str(pb_file),
            "--rule",
            "mes",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"selected": ["9", "10"], "total_cost": 80}


def test_render_and_natural_order() -> None:
    assert sorted(["c10", "c9", "10", "9", "b", "a2"], key=natural_key) == [
        "9",
        "10",
        "a2",
        "b",
        "c9",
        "c10",
    ]
    assert render(("b", "a"), 5, as_json=False) == "a\nb\ntotal_cost: 5"


# What counting never needs: settings, a database, a chat library, the web server.
HEAVY = ("pydantic", "pydantic_settings", "sqlalchemy", "sqlmodel", "psycopg", "alembic",
         "apscheduler", "telegram", "nio", "httpx", "starlette", "uvicorn", "babel")  # fmt: skip


def test_wijkbot_tally_starts_without_settings_database_or_chat_libraries(pb_file: Path) -> None:
    # A tally of a small file is over in a blink: the `wijkbot` command imports for
    # `tally` only what counting needs (start-up was 0.34 s, mostly pydantic and SQLAlchemy).
    # A broken configuration does not matter either: counting reads no settings.
    probe = (
        "import sys\nfrom bot.cli import main\n"
        f"code = main(['tally', {str(pb_file)!r}, '--rule', 'greedy'])\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})\n"
        "print('heavy:', ','.join(heavy)); sys.exit(code)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "WIJKBOT_DATABASE_URL": "nonsense://", "WIJKBOT_LOG_LEVEL": "x"}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, env=env,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["9", "10", "total_cost: 80", "heavy: "]
