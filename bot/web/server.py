"""Serve the web overview inside `wijkbot run`: uvicorn on the configured loopback port.

uvicorn is the ASGI server Starlette documents; the bot's own loop runs it, so the web and
the chat share one process, database pool and outbox. `wijkbot run` owns the signals.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # SIGINT/SIGTERM stop the whole bot (bot.app), which then stops this server


def server(site: ASGIApp, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        site, host=host, port=port, log_level="warning", lifespan="off", proxy_headers=False,
        server_header=False,
    )  # fmt: skip
    return _Server(config)
