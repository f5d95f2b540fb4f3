"""Logging in to Matrix at DEBUG: neither the password nor the access token it gets back
reach the log (nio logs every response it parses at DEBUG)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.adapters.matrix.session import MatrixSession
from bot.config import Settings
from bot.core.adapter_store import DatabaseAdapterStore
from bot.util import logs
from storage.db import Database
from tests.privacy.conftest import everything_logged

PASSWORD = "wachtwoord-van-de-bot-93kd"
ACCESS_TOKEN = "Kp0wQx7mT4vB9nL2sD6fH1jR"  # no known shape: only remembering it hides it


async def _homeserver() -> tuple[web.AppRunner, str, list[dict[str, object]]]:
    logins: list[dict[str, object]] = []

    async def login(request: web.Request) -> web.Response:
        logins.append(await request.json())
        return web.json_response(
            {"user_id": "@wijkbot:localhost", "access_token": ACCESS_TOKEN, "device_id": "QXDEV"}
        )

    app = web.Application()
    app.router.add_post("/_matrix/client/v3/login", login)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}", logins


async def test_matrix_login_leaves_no_secret_in_the_log(
    settings: Settings, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    runner, url, logins = await _homeserver()
    matrix = Settings.model_validate(
        settings.model_dump()
        | {"matrix_homeserver": url, "matrix_user_id": "@wijkbot:localhost",
           "matrix_password": SecretStr(PASSWORD), "data_dir": tmp_path / "data"}
    )  # fmt: skip
    logs.configure(matrix)  # as `wijkbot run` does
    db = Database(matrix.effective_database_url)
    session = MatrixSession(matrix, DatabaseAdapterStore(db))
    try:
        client = await session.connect(asyncio.Event())
        assert client.access_token == ACCESS_TOKEN and logins[0]["password"] == PASSWORD
    finally:
        await session.close()
        await db.dispose()
        await runner.cleanup()
    logged = everything_logged(debug_logs)
    assert "logged in as @wijkbot:localhost" in logged
    assert PASSWORD not in logged and ACCESS_TOKEN not in logged
    assert json.dumps(PASSWORD) not in logged
