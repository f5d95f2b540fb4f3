"""One place that turns httpx outcomes into `ForwardingError`s with the right `retryable`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from bot.services.signals.channels.base import ForwardingError

USER_AGENT = "Wijkbot/0.1 (neighbourhood platform; forwarding)"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def new_client(timeout: float, client: httpx.AsyncClient | None) -> httpx.AsyncClient:
    if client is not None:
        return client
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def body_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


async def send(
    client: httpx.AsyncClient,
    what: str,
    method: str,
    url: str,
    *,
    describe_error: Callable[[Any], str | None],
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; any non-2xx answer or transport failure raises ForwardingError.

    `describe_error` turns the error body into a one-line reason (or None).
    """
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise ForwardingError(f"{what}: timed out", retryable=True) from None
    except httpx.TransportError as exc:
        raise ForwardingError(
            f"{what}: network trouble ({type(exc).__name__})", retryable=True
        ) from None
    if response.is_success:
        return response
    status = response.status_code
    reason = describe_error(body_json(response)) or response.reason_phrase or "error"
    raise ForwardingError(
        f"{what}: HTTP {status}: {reason}",
        retryable=status in RETRYABLE_STATUS or status >= 500,
        status_code=status,
        retry_after=_retry_after(response),
    )


def unexpected(what: str, detail: str) -> ForwardingError:
    """A 2xx answer we cannot read. Not retryable: the request may have been filed."""
    return ForwardingError(f"{what}: unexpected answer: {detail}", retryable=False)
