"""Where the forwarders talk HTTP to the municipality, which is not trusted either.

- Answers are streamed and read up to `MAX_ANSWER` bytes: a server answering a
  gigabyte, or without end, costs no more memory than that.
- The requests of one forward (or one status check) share one deadline (`deadline`):
  a server trickling a byte every few seconds passes every per-read timeout, but not
  this one.
- httpx outcomes become `ForwardingError`s with the right `retryable`; a request that
  files something and was accepted (2xx) without a usable answer is `maybe_filed`.
- A server's error reason is cut to one short line.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from bot.services.signals.channels.base import ForwardingError, printable_id, trim

USER_AGENT = "Wijkbot/0.1 (neighbourhood platform; forwarding)"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_ANSWER = 1024 * 1024  # JSON answers are a few kB; 1 MiB is plenty
MAX_REASON = 300
SAFE_METHODS = frozenset({"GET", "HEAD"})  # reading: never files anything

_deadline: ContextVar[float | None] = ContextVar("forwarding_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Everything sent inside must be answered within `seconds` from now, all together.

    Nested, the earlier deadline holds.
    """
    when = asyncio.get_running_loop().time() + seconds
    outer = _deadline.get()
    token = _deadline.set(when if outer is None else min(outer, when))
    try:
        yield
    finally:
        _deadline.reset(token)


def new_client(timeout: float, client: httpx.AsyncClient | None) -> httpx.AsyncClient:
    if client is not None:
        return client
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


@dataclass(frozen=True)
class Answer:
    """A response read within the limits; `content` is at most `MAX_ANSWER` bytes."""

    status_code: int
    reason_phrase: str
    headers: httpx.Headers
    content: bytes
    complete: bool  # False: the body was larger than MAX_ANSWER and not read to the end

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


def _retry_after(answer: Answer) -> float | None:
    value = answer.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def body_json(answer: Answer) -> Any:
    try:
        return json.loads(answer.content)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
        return None


async def _read(response: httpx.Response) -> tuple[bytes, bool]:
    """The body up to MAX_ANSWER bytes, and whether that was all of it."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER:
            return bytes(body[:MAX_ANSWER]), False
    return bytes(body), True


def _broken(what: str, problem: str, accepted: bool) -> ForwardingError:
    if accepted:
        return ForwardingError(
            f"{what}: {problem} after it was accepted", retryable=False, maybe_filed=True
        )
    return ForwardingError(f"{what}: {problem}", retryable=True)


def _reason(
    answer: Answer,
    describe_error: Callable[[Any], str | None],
    decode: Callable[[bytes], Any] | None,
) -> str:
    reason = None
    if answer.complete:
        try:
            body = body_json(answer) if decode is None else decode(answer.content)
            reason = describe_error(body)
        except RecursionError:
            reason = None
    line = " ".join((reason or "").split())
    return trim(line, MAX_REASON) or answer.reason_phrase or "error"


async def send(
    client: httpx.AsyncClient,
    what: str,
    method: str,
    url: str,
    *,
    describe_error: Callable[[Any], str | None],
    decode: Callable[[bytes], Any] | None = None,
    **kwargs: Any,
) -> Answer:
    """Send one request; any non-2xx answer or transport failure raises ForwardingError.

    `describe_error` turns the error body (read as JSON, or by `decode`) into a one-line
    reason (or None).
    """
    files = method.upper() not in SAFE_METHODS
    accepted = False  # a 2xx to a request that files: the signal may be there now
    try:
        async with asyncio.timeout_at(_deadline.get()):
            async with client.stream(method, url, **kwargs) as response:
                accepted = files and response.is_success
                content, complete = await _read(response)
    except TimeoutError:
        raise _broken(what, "no complete answer in the time allowed", accepted) from None
    except httpx.TimeoutException:
        raise _broken(what, "timed out", accepted) from None
    except httpx.TransportError as exc:
        raise _broken(what, f"network trouble ({type(exc).__name__})", accepted) from None
    answer = Answer(
        response.status_code, response.reason_phrase, response.headers, content, complete
    )
    if answer.is_success:
        if not complete:
            raise ForwardingError(
                f"{what}: the answer is larger than {MAX_ANSWER // 1024 // 1024} MiB",
                retryable=True,
                maybe_filed=files,
            )
        return answer
    status = answer.status_code
    raise ForwardingError(
        f"{what}: HTTP {status}: {_reason(answer, describe_error, decode)}",
        retryable=status in RETRYABLE_STATUS or status >= 500,
        status_code=status,
        retry_after=_retry_after(answer),
    )


def unexpected(what: str, detail: str) -> ForwardingError:
    """A 2xx answer to a filing we cannot read: the request may have been filed."""
    return ForwardingError(
        f"{what}: unexpected answer: {detail}", retryable=False, maybe_filed=True
    )


def external_id(what: str, value: object) -> str:
    """The id in a filing's answer, or `unexpected` when it cannot be kept as it is."""
    checked = printable_id(value)
    if checked is None:
        raise unexpected(what, "their number is empty, too long or not plain text")
    return checked
