"""The Matrix account behind the adapter: login, device, crypto store, sending with retries.

Trust model for end-to-end encryption: a neighbourhood bot cannot verify residents'
devices out of band, and what it says is meant for whoever is in the room. So it
encrypts for every current device of every room member (nio's
`ignore_unverified_devices=True`: the devices are "ignored", i.e. trusted for sending
without being marked verified) and decrypts from any device. It never verifies or
blacklists; the crypto store keeps its own identity across restarts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

from aiohttp import ClientConnectionError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    LocalProtocolError,
    LoginError,
    RoomSendResponse,
    SendRetryError,
    WhoamiError,
)

from bot.config import Settings
from bot.core.ports import AdapterStore, Unreachable
from bot.util.logs import remember_secret

log = logging.getLogger(__name__)

DEVICE_KEY = "matrix.device_id"
TOKEN_KEY = "matrix.next_batch"
DEVICE_NAME = "Wijkbot"
SEND_ATTEMPTS = 8
CONNECTION_ERRORS = (ClientConnectionError, TimeoutError, OSError)

T = TypeVar("T")


class MatrixLoginError(Exception):
    """The account cannot log in (wrong password or token): not retried."""


class MatrixSendError(Exception):
    """The homeserver refused an event for a reason other than rate limits or membership."""


def backoff(attempt: int, base: float = 1.0, cap: float = 60.0) -> float:
    """1, 2, 4 … seconds, at most `cap`."""
    return min(cap, base * 2.0 ** max(0, attempt - 1))


class MatrixSession:
    """One logged-in nio client with its device id and sync token kept in the database."""

    def __init__(self, settings: Settings, store: AdapterStore) -> None:
        if not settings.matrix_homeserver or not settings.matrix_user_id:
            raise ValueError("WIJKBOT_MATRIX_HOMESERVER and WIJKBOT_MATRIX_USER_ID are needed")
        if not (settings.matrix_password or settings.matrix_access_token):
            raise ValueError("WIJKBOT_MATRIX_PASSWORD or WIJKBOT_MATRIX_ACCESS_TOKEN is needed")
        self.settings = settings
        self.store = store
        remember_secret(settings.matrix_password, settings.matrix_access_token)
        self.homeserver = settings.matrix_homeserver.rstrip("/")
        self.user_id = settings.matrix_user_id
        self.store_path = Path(settings.data_dir) / "matrix-store"
        self.client: AsyncClient | None = None
        self.rate_limited = 0  # how often the homeserver said M_LIMIT_EXCEEDED

    # -- cursors ---------------------------------------------------------------------------

    async def get_cursor(self, key: str) -> str | None:
        return await self.store.cursor(key)

    async def put_cursor(self, key: str, value: str) -> None:
        await self.store.save_cursor(key, value)

    # -- login -----------------------------------------------------------------------------

    async def connect(self, stopping: asyncio.Event) -> AsyncClient:
        """Log in (retrying while the homeserver is unreachable) and load the crypto store."""
        private_dir(self.store_path)
        device_id = await self.get_cursor(DEVICE_KEY)
        store_file = self.store_path / f"{self.user_id}_{device_id}.db"
        if device_id and self.settings.matrix_password and not store_file.exists():
            # Its keys are gone: a device id with new keys would look like a forgery to
            # residents' apps. A new device instead, signed by the same identity.
            log.warning("matrix: the crypto store of device %s is gone; new device", device_id)
            device_id = None
        config = AsyncClientConfig(
            max_limit_exceeded=None,  # nio waits `retry_after_ms` and retries every request
            # One quick retry inside nio for a dropped connection; after that our own
            # backoff (sync loop, sends, login), so a long outage never ends the loop.
            max_timeouts=1,
            request_timeout=30,
            encryption_enabled=True,
            store_sync_tokens=False,  # the token lives in our database, with the events
        )
        client = AsyncClient(
            self.homeserver,
            self.user_id,
            device_id=device_id or "",
            store_path=str(self.store_path),
            config=config,
        )
        client.add_response_callback(self._on_error, ErrorResponse)
        self.client = client
        await self._retry(lambda: self._login(client, device_id), stopping)
        assert client.device_id
        if client.device_id != device_id:
            await self.put_cursor(DEVICE_KEY, client.device_id)
        log.info("matrix: logged in as %s (device %s)", client.user_id, client.device_id)
        return client

    async def _login(self, client: AsyncClient, device_id: str | None) -> None:
        token = self.settings.matrix_access_token
        if token is not None:
            client.access_token = token.get_secret_value()
            who = await client.whoami()
            if isinstance(who, WhoamiError):
                raise MatrixLoginError(f"access token refused: {who.status_code}")
            device = who.device_id or device_id
            if not device:
                raise MatrixLoginError("the access token has no device; log in by password")
            client.restore_login(who.user_id, device, token.get_secret_value())
            return
        assert self.settings.matrix_password is not None
        resp = await client.login(
            self.settings.matrix_password.get_secret_value(), device_name=DEVICE_NAME
        )
        if isinstance(resp, LoginError):
            raise MatrixLoginError(f"login refused: {resp.status_code} {resp.message}")
        remember_secret(client.access_token)  # a new one at every login

    async def relogin(self) -> None:
        """The homeserver forgot our access token: log in again on the same device."""
        client = self.client
        if client is None or self.settings.matrix_password is None:
            log.error("matrix: the access token is no longer valid; set a new one and restart")
            return
        try:
            await self._login(client, client.device_id)
            log.warning("matrix: logged in again (device %s)", client.device_id)
        except (MatrixLoginError, *CONNECTION_ERRORS) as exc:
            log.error("matrix: logging in again failed: %s", exc)

    async def _retry(self, call: Callable[[], Awaitable[T]], stopping: asyncio.Event) -> T:
        attempt = 0
        while True:
            try:
                return await call()
            except CONNECTION_ERRORS as exc:
                attempt += 1
                delay = backoff(attempt)
                log.warning("matrix: homeserver unreachable (%s); retry in %.0f s", exc, delay)
                if await wait_or_stop(stopping, delay):
                    raise

    async def _on_error(self, resp: ErrorResponse) -> None:
        if resp.status_code == "M_LIMIT_EXCEEDED":
            self.rate_limited += 1
            log.info("matrix: rate limited, waiting %s ms", resp.retry_after_ms)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None

    # -- sending ---------------------------------------------------------------------------

    async def room_send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Send one event and return its id; waits out rate limits; one transaction id, so
        a retry never duplicates. Raises Unreachable when the bot is not in the room."""
        client = self.client
        if client is None:
            raise MatrixSendError("the Matrix adapter is not started")
        txn = uuid4().hex
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                resp = await client.room_send(
                    room_id, event_type, content, tx_id=txn, ignore_unverified_devices=True
                )
            except LocalProtocolError as exc:
                if "No such room" in str(exc):
                    raise Unreachable(room_id) from exc
                raise
            except (SendRetryError, *CONNECTION_ERRORS) as exc:
                if attempt == SEND_ATTEMPTS:
                    raise MatrixSendError(f"sending failed: {exc}") from exc
                await asyncio.sleep(backoff(attempt, 0.5, 10))
                continue
            if isinstance(resp, RoomSendResponse):
                return str(resp.event_id)
            if resp.status_code == "M_LIMIT_EXCEEDED":
                await asyncio.sleep((resp.retry_after_ms or 1000) / 1000)
                continue
            if resp.status_code == "M_FORBIDDEN":
                raise Unreachable(f"{room_id}: {resp.message}")
            raise MatrixSendError(f"{resp.status_code}: {resp.message}")
        raise MatrixSendError(f"still rate limited after {SEND_ATTEMPTS} attempts")


def private_dir(path: Path) -> None:
    """The crypto store holds the bot's keys: it and any parent we create are 0700."""
    for missing in reversed([p for p in (path, *path.parents) if not p.exists()]):
        missing.mkdir(mode=0o700, exist_ok=True)
        missing.chmod(0o700)
    path.chmod(0o700)  # ours alone, also when an earlier version made it readable


async def wait_or_stop(stopping: asyncio.Event, delay: float) -> bool:
    """Sleep `delay` seconds; True (early) when stopping was asked for."""
    try:
        await asyncio.wait_for(stopping.wait(), delay)
    except TimeoutError:
        return False
    return True
