"""Fixtures: a database on SQLite and on PostgreSQL, an app with a fake adapter, chats."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.app import App
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.i18n import set_locale
from bot.ops.setup_data import apply_setup
from storage.migrate import upgrade
from storage.models import use_clock
from tests.support.fake import Chat, FakeAdapter, MakeChat
from tests.support.outage import Outage, PostgresOutage, SqliteOutage
from tests.support.pg import PostgresServer, find_bin

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SETUP = ROOT / "wijkbot.example.toml"
REQUIRE_PG = os.environ.get("WIJKBOT_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str | None]:
    url = os.environ.get("WIJKBOT_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    if not find_bin("initdb"):
        if REQUIRE_PG:
            pytest.fail("PostgreSQL binaries are missing but WIJKBOT_REQUIRE_POSTGRES=1")
        yield None
        return
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str | None) -> str | None:
    """A migrated template database; each test copies it (CREATE DATABASE … TEMPLATE)."""
    if pg_admin_url is None:
        return None
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS wijkbot_template")
        conn.execute("CREATE DATABASE wijkbot_template")
    upgrade(pg_admin_url.rsplit("/", 1)[0] + "/wijkbot_template")
    return "wijkbot_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "wijkbot.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    admin = request.getfixturevalue("pg_admin_url")
    if admin is None:
        pytest.skip("PostgreSQL is not available on this machine")
    template = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield admin.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_outage_server() -> Iterator[tuple[PostgresServer, str]]:
    """A PostgreSQL server of its own for tests that stop it (the session's keeps running)."""
    if not find_bin("initdb"):
        if REQUIRE_PG:
            pytest.fail("PostgreSQL binaries are missing but WIJKBOT_REQUIRE_POSTGRES=1")
        pytest.skip("PostgreSQL is not available on this machine")
    server = PostgresServer()
    try:
        admin = server.start()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE wijkbot_template")
        upgrade(admin.rsplit("/", 1)[0] + "/wijkbot_template")
        yield server, admin
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outage(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Outage]:
    """A fresh database that a test can take down (`async with outage:`) and bring back."""
    if request.param == "sqlite":
        path = tmp_path / "wijkbot.db"
        shutil.copy(sqlite_template, path)
        sqlite_outage = SqliteOutage(path)
        yield sqlite_outage
        sqlite_outage.close()
        return
    server, admin = request.getfixturevalue("pg_outage_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE wijkbot_template')
    pg_outage = PostgresOutage(server, admin.rsplit("/", 1)[0] + f"/{name}")
    yield pg_outage
    pg_outage.close()  # a test that failed inside the outage: the next one needs the server
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def system_clock_after_each_test() -> Iterator[None]:
    """An App stamps rows by its clock (`use_clock`); the next test starts from the system's."""
    yield
    use_clock(None)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 26, 18, 0, tzinfo=UTC))


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path)


@pytest.fixture
async def app(settings: Settings, clock: FrozenClock) -> AsyncIterator[App]:
    set_locale("nl")
    application = App(settings, clock=clock)
    await apply_setup(application.db, EXAMPLE_SETUP)
    yield application
    await application.db.dispose()


@pytest.fixture
def adapter(app: App) -> FakeAdapter:
    fake = FakeAdapter()
    app.add(fake)  # type: ignore[arg-type]
    return fake


@pytest.fixture
def chat(app: App, adapter: FakeAdapter) -> Chat:
    return Chat(app, adapter, "anna")


@pytest.fixture
def make_chat(app: App, adapter: FakeAdapter) -> MakeChat:
    def make(user: str, group: str | None = None, lang: str | None = None) -> Chat:
        return Chat(app, adapter, user, group=group, lang=lang)

    return make
