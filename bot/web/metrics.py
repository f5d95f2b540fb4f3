"""/metrics for Prometheus, on a port of its own (`metrics_port`), apart from the web overview.

The web overview sits behind a public reverse proxy, where every request comes from
loopback; so /metrics is not served there. Its own port listens on loopback by default.
Without `metrics_token` only loopback peers are answered; with it, every request must carry
`Authorization: Bearer <token>` (required when `metrics_listen` is not loopback).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.config import Settings
from bot.core.clock import Clock
from bot.core.metrics import Metrics, OutboxCollector
from storage.db import Database
from storage.repo import outbox


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def allowed(request: Request, token: str | None) -> bool:
    if token is None:
        return is_loopback(request.client.host if request.client else None)
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


async def refresh_outbox(
    db: Database, clock: Clock, collector: OutboxCollector, platforms: Iterable[str]
) -> None:
    """The outbox's figures as of now, by the app's clock: one grouped query."""
    now = clock.now()
    async with db.session() as session:
        found = await outbox.backlog(session, now)
    rows = {p: (n, (now - oldest).total_seconds() if oldest else 0.0) for p, n, oldest in found}
    collector.rows = [(p, *rows.get(p, (0, 0.0))) for p in sorted({*platforms, *rows})]


def create_metrics_app(
    db: Database,
    settings: Settings,
    clock: Clock,
    metrics: Metrics,
    platforms: Callable[[], Iterable[str]],
) -> Starlette:
    collector = OutboxCollector()
    metrics.add(collector)
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    async def scrape(request: Request) -> Response:
        if not allowed(request, token):
            return PlainTextResponse("forbidden\n", status_code=403)
        await refresh_outbox(db, clock, collector, platforms())
        body = generate_latest(metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[Route("/metrics", scrape)])
