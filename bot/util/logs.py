"""What reaches the log: no resident's words, names or notes, and no secret, at any level.

Two defences. At the source: libraries that log message contents, SQL parameters or
request URLs (the Telegram token is part of every Bot API URL) at INFO or DEBUG are held
at WARNING, and the database engines hide SQL parameters (`storage.db`). Around every
record, as defence in depth: known secrets (the settings', and any the bot learns while
running, given to :func:`remember_secret`) and secret-shaped text are replaced before a
handler sees the record, in its message, its exception and its stack.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import SecretStr

from bot.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HIDDEN = "<hidden>"

# Held at WARNING (or the configured level, if higher), whatever the log level.
QUIET = (
    "alembic",
    "apscheduler",  # INFO: every job run
    "httpx",  # INFO: every request URL, with the Telegram token in it
    "httpcore",
    "telegram",  # DEBUG: every Bot API call with its parameters and answer
    "tornado",  # INFO: the webhook's access log
    "nio",  # DEBUG: every response (messages, the login's access token); INFO: user ids
    "peewee",  # nio's crypto store: statements with key material
    "aiohttp",
    "aiosqlite",  # DEBUG: every statement with its parameters
    "sqlalchemy",
    "psycopg",
    "matplotlib",
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A Telegram bot token, e.g. in a Bot API URL: 123456789:AA…
    (re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"), HIDDEN),
    # A Synapse access token.
    (re.compile(r"\bsy[tu]_[A-Za-z0-9_=-]{8,}"), HIDDEN),
    # A password in a URL: scheme://user:password@host
    (re.compile(r"(://[^/\s:@]*):[^/\s@]+@"), rf"\1:{HIDDEN}@"),
    # A secret field in a query string, form, JSON or repr: password=…, "access_token": "…"
    (
        re.compile(
            r"""(?i)((?:access_token|password|passwd|api_key|apikey|secret|token)['"]?"""
            r"""\s*[:=]\s*['"]?)[^'"&\s,;}]+"""
        ),
        rf"\1{HIDDEN}",
    ),
    # PostgreSQL's DETAIL names the values of the row it refused ("Failing row contains").
    (
        re.compile(
            r"DETAIL:\s.*?(?=\n\[SQL: |\nHINT: |\nCONTEXT: |\n\nThe above |\n\nDuring |\Z)",
            re.S,
        ),
        f"DETAIL: {HIDDEN}",
    ),
    # SQL parameters, should an engine ever show them.
    (re.compile(r"\[parameters: .*?\](?=\n\(Background|\n|\Z)", re.S), f"[parameters: {HIDDEN}]"),
)
_MIN_SECRET = 4  # shorter values would blank out ordinary words
_secrets: set[str] = set()


def remember_secret(*values: str | SecretStr | None) -> None:
    """Never log these values (as typed, or URL-encoded) from now on."""
    for value in values:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text and len(text) >= _MIN_SECRET:
            _secrets.update({text, quote(text, safe="")})


def redact(text: str) -> str:
    """`text` without any remembered secret or secret-shaped part."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, HIDDEN)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_traceback = logging.Formatter()


def scrub(record: logging.LogRecord) -> None:
    """Redact a record in place: its message, its exception text and its stack."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed call; logging reports it when the record is handled
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = record.exc_text or _traceback.formatException(record.exc_info)
        clean = redact(text)
        record.exc_text = clean  # handlers print this text instead of formatting again
        if clean != text:
            record.exc_info = None  # the raw exception goes nowhere
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _redacting(base: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        scrub(record)
        return record

    make.redacts = True  # type: ignore[attr-defined]
    return make


def install_redaction() -> None:
    """Every record, from any logger to any handler, is scrubbed when it is made."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacts", False):
        logging.setLogRecordFactory(_redacting(factory))


def settings_secrets(settings: Settings) -> list[SecretStr | str | None]:
    url = settings.database_url
    return [
        settings.telegram_token,
        settings.telegram_webhook_secret,
        settings.matrix_password,
        settings.matrix_access_token,
        settings.secret_key,
        urlsplit(url).password if url else None,
    ]


def configure(settings: Settings) -> None:
    """Logging for `wijkbot`: the configured level for our own loggers, WARNING at most
    for chatty libraries, and every record redacted."""
    logging.basicConfig(level=settings.log_level, format=FORMAT)
    quiet = max(logging.WARNING, logging.getLevelNamesMapping()[settings.log_level])
    for name in QUIET:
        logging.getLogger(name).setLevel(quiet)
    remember_secret(*settings_secrets(settings))
    install_redaction()
