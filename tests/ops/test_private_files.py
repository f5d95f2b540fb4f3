"""The data directory holds residents' words and the bot's keys: only its owner reads it."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.adapters.matrix.session import CONNECTION_ERRORS, MatrixSession
from bot.cli import main
from bot.config import Settings
from bot.core.adapter_store import DatabaseAdapterStore
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import EXAMPLE_SETUP


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022], ids=["umask-000", "umask-022"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "srv" / "wijkbot"
    monkeypatch.setenv("WIJKBOT_DATA_DIR", str(data))
    monkeypatch.delenv("WIJKBOT_DATABASE_URL", raising=False)
    monkeypatch.delenv("WIJKBOT_CONFIG", raising=False)
    return data


async def _while_running(url: str) -> dict[str, int]:
    """The modes of the database files while the bot has the database open and writes."""
    db = Database(url)
    try:
        await DatabaseAdapterStore(db).save_cursor("test.cursor", "1")
        db_file = Path(url.removeprefix("sqlite:///"))
        files = [db_file, db_file.with_name(db_file.name + "-wal"),
                 db_file.with_name(db_file.name + "-shm")]  # fmt: skip
        return {f.name: _mode(f) for f in files}
    finally:
        await db.dispose()


def test_a_fresh_data_dir_is_private(umask: int, data_dir: Path) -> None:
    assert main(["db", "upgrade"]) == 0
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "wijkbot.db") == 0o600
    assert main(["setup", "--file", str(EXAMPLE_SETUP)]) == 0  # the app's own engine
    url = Settings(data_dir=data_dir).effective_database_url
    modes = asyncio.run(_while_running(url))
    assert modes == {"wijkbot.db": 0o600, "wijkbot.db-wal": 0o600, "wijkbot.db-shm": 0o600}
    assert not any(p.stat().st_mode & 0o077 for p in data_dir.rglob("*"))


def test_an_old_database_file_is_made_private(umask: int, data_dir: Path) -> None:
    """A database made by an earlier version (world-readable) is tightened at start-up."""
    assert main(["db", "upgrade"]) == 0
    (data_dir / "wijkbot.db").chmod(0o644)
    assert main(["db", "upgrade"]) == 0
    assert _mode(data_dir / "wijkbot.db") == 0o600


async def test_the_matrix_store_is_private(umask: int, tmp_path: Path) -> None:
    data = tmp_path / "matrix-data"
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{tmp_path / 'db' / 'wijkbot.db'}",
        matrix_homeserver="http://127.0.0.1:9",  # nothing listens: the login fails
        matrix_user_id="@wijkbot:localhost",
        matrix_password=SecretStr("matrix-wachtwoord"),
    )
    upgrade(settings.effective_database_url)
    db = Database(settings.effective_database_url)
    session = MatrixSession(settings, DatabaseAdapterStore(db))
    stopping = asyncio.Event()
    stopping.set()
    try:
        with pytest.raises(CONNECTION_ERRORS):
            await session.connect(stopping)
    finally:
        await session.close()
        await db.dispose()
    assert _mode(data) == 0o700
    assert _mode(data / "matrix-store") == 0o700
    assert _mode(tmp_path / "db") == 0o700
