"""One Synapse per session; per test a fresh bot account run as the real App, and residents.

Synapse is installed into `.tmp/synapse-venv` on first use. Without it (no network) the
suite is skipped, unless WIJKBOT_REQUIRE_SYNAPSE=1 (CI), which makes it fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.matrix.adapter import MatrixAdapter
from bot.app import App
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.i18n import set_locale
from bot.ops.setup_data import apply_setup
from tests.e2e.matrix.resident import Resident
from tests.support.synapse import Account, SynapseServer, SynapseUnavailable

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_SETUP = ROOT / "wijkbot.example.toml"
REQUIRE = os.environ.get("WIJKBOT_REQUIRE_SYNAPSE") == "1"

# Every Matrix e2e test: SQLite is enough (the store is not what is tested here).
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    server = SynapseServer(tmp_path_factory.mktemp("synapse"))
    try:
        server.start()
    except SynapseUnavailable as exc:
        if REQUIRE:
            pytest.fail(f"Synapse is required (WIJKBOT_REQUIRE_SYNAPSE=1) but: {exc}")
        pytest.skip(f"Synapse not available: {exc}")
    yield server
    server.cleanup()


class Crash(BaseException):
    """The process dies here (a power cut, a kill): no handler, no clean-up of ours runs."""


def die_at(app: App, n: int) -> None:
    """The process dies when it begins to handle its n-th event."""
    handle = app.dispatcher.handle
    calls = 0

    async def dying(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == n:
            raise Crash
        await handle(*args, **kwargs)

    app.dispatcher.handle = dying  # type: ignore[method-assign]


class Bot:
    """The bot's account and data directory; `start()` runs a new App on them each time."""

    def __init__(self, server: SynapseServer, account: Account, settings: Settings) -> None:
        self.server = server
        self.account = account
        self.user_id = account.user_id
        self.settings = settings
        self.runs: list[tuple[App, MatrixAdapter, asyncio.Task[None]]] = []

    @property
    def app(self) -> App:
        return self.runs[-1][0]

    @property
    def adapter(self) -> MatrixAdapter:
        return self.runs[-1][1]

    @property
    def running(self) -> bool:
        return bool(self.runs) and not self.runs[-1][2].done()

    async def died(self, within: float = 30) -> None:
        with contextlib.suppress(Crash):
            await asyncio.wait_for(self.runs[-1][2], within)

    async def start(
        self, clock: FrozenClock, dies_at: int | None = None, **options: Any
    ) -> MatrixAdapter:
        """`dies_at`: the process dies when it begins to handle its n-th event."""
        set_locale("nl")
        app = App(self.settings, clock=clock)
        await apply_setup(app.db, EXAMPLE_SETUP)
        options.setdefault("undecryptable_grace", 1.0)
        adapter = MatrixAdapter(self.settings, app.adapter_store, **options)
        app.add(adapter)
        if dies_at is not None:
            die_at(app, dies_at)
        task = asyncio.create_task(adapter.start(app.dispatcher.feed_for(adapter)))
        self.runs.append((app, adapter, task))
        ready = asyncio.create_task(adapter.ready.wait())
        await asyncio.wait({ready, task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if task.done() and not (dies_at is not None and isinstance(task.exception(), Crash)):
            task.result()  # raises what went wrong
        if task.done():
            return adapter
        assert ready.done(), "the Matrix adapter did not finish its first sync in 30 s"
        return adapter

    async def stop(self) -> None:
        if not self.runs:
            return
        app, adapter, task = self.runs[-1]
        if not task.done():
            await adapter.stop()
            await asyncio.wait_for(task, 20)
        else:  # it died: what a new process finds is only what was stored
            await adapter.session.close()
        await app.db.dispose()


@pytest.fixture
async def bot(
    synapse: SynapseServer, db_url: str, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Bot]:
    account = synapse.fresh_user("wijkbot")
    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        matrix_homeserver=synapse.url,
        matrix_user_id=account.user_id,
        matrix_password=SecretStr(account.password),
    )
    handle = Bot(synapse, account, settings)
    yield handle
    await handle.stop()


@pytest.fixture
async def make_resident(
    synapse: SynapseServer, tmp_path: Path
) -> AsyncIterator[Callable[[str], Awaitable[Resident]]]:
    made: list[Resident] = []

    async def make(prefix: str = "bewoner") -> Resident:
        account = synapse.fresh_user(prefix)
        resident = await Resident(synapse.url, account, tmp_path / account.localpart).start()
        made.append(resident)
        return resident

    yield make
    for resident in made:
        await resident.stop()


async def direct_chat(resident: Resident, bot: Bot, encrypted: bool) -> str:
    """A direct chat the resident opens with the bot, as Element does; returns the room id."""
    room_id = await resident.create_room([bot.user_id], direct=True, encrypted=encrypted)
    await resident.member(room_id, bot.user_id)
    return room_id
