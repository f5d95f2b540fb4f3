"""Rules about the code itself: platform-free handlers, complete catalogs, migrations in step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from bot.core.i18n import _, translations, use_locale
from storage.db import sync_url

ROOT = Path(__file__).resolve().parent.parent
RUFF = [sys.executable, "-m", "ruff"]


def _ruff_on(source: str, filename: str) -> str:
    done = subprocess.run(
        [*RUFF, "check", "--no-cache", "--stdin-filename", filename, "-"],
        input=source, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    return done.stdout + done.stderr


@pytest.mark.parametrize(
    "source",
    ["import telegram", "from telegram.ext import Application", "from nio import AsyncClient",
     "import nio.events", "from bot.adapters.matrix.adapter import MatrixAdapter"],
)  # fmt: skip
def test_lint_rule_keeps_platform_libraries_out_of_handlers(source: str) -> None:
    assert "TID251" in _ruff_on(source + "\n", "bot/handlers/example.py")
    assert "TID251" not in _ruff_on(source + "\n", "bot/adapters/example.py")


def test_no_handler_imports_a_platform_library_today() -> None:
    done = subprocess.run([*RUFF, "check", "--no-cache", "--select", "TID251", "bot/handlers"],
                          capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    "source",
    ["from datetime import datetime, UTC\nx = datetime.now(UTC)", "import time\nx = time.time()",
     "import datetime\nx = datetime.date.today()", "from bot.core.clock import SystemClock"],
)  # fmt: skip
def test_lint_rule_keeps_the_wall_clock_out_of_tests(source: str) -> None:
    """Data a test builds from the wall clock passes today and fails once the date moves on."""
    assert "TID251" in _ruff_on(source + "\n", "tests/test_example.py")
    assert "TID251" not in _ruff_on(source + "\n", "bot/example.py")


def test_catalogs_complete_in_dutch_and_english() -> None:
    done = subprocess.run([sys.executable, "tools/i18n.py", "check"], capture_output=True,
                          text=True, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_dutch_is_really_dutch() -> None:
    assert translations("nl").gettext("Cancel") == "Annuleer"
    with use_locale("nl"):
        assert _("Please choose one of the buttons.") != "Please choose one of the buttons."
    with use_locale("en"):
        assert _("Cancel") == "Cancel"


def test_migrations_match_the_models(db_url: str) -> None:
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], "models changed: add an Alembic migration"
