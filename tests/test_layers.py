"""The layers hold (`.importlinter`), and each contract really fails when someone breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = [
    sys.executable,
    "-c",
    "from importlinter.cli import lint_imports_command; lint_imports_command()",
]


def _lint(cwd: Path, *contract: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    only = [arg for c in contract for arg in ("--contract", c)]
    return subprocess.run(
        [*LINT, "--config", str(ROOT / ".importlinter"), "--no-cache", *only],
        cwd=cwd, env=env, capture_output=True, text=True,
    )  # fmt: skip


def test_the_layers_hold_today() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("bot/core/router.py", "from bot.services import polls", "layers"),
        ("bot/services/polls.py", "from bot.handlers import polls", "layers"),
        ("storage/repo/ideas.py", "import bot.core.events", "layers"),
        ("bot/handlers/ideas.py", "import telegram", "platform-free"),
        ("bot/services/digests/render.py", "from bot.adapters.telegram import TelegramAdapter", "platform-free"),
        ("bot/adapters/console.py", "from storage.repo import people", "adapters-no-storage"),
        ("bot/services/budget/counting/greedy.py", "import sqlmodel", "counting-is-pure"),
        ("bot/services/polls.py", "from bot.services.signals import notices", "capabilities-apart"),
        ("bot/core/states.py", "from bot.core import router", "no-cycles"),
    ],
)  # fmt: skip
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    for package in ("bot", "storage"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    assert _lint(tmp_path, contract).returncode == 0  # the copy holds before the change …
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    done = _lint(tmp_path, contract)
    assert done.returncode == 1, done.stdout + done.stderr  # … and this contract catches it
    assert "BROKEN" in done.stdout
