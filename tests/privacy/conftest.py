"""Logging as `wijkbot run` sets it up, at DEBUG, captured for the test and undone after."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.util import logs

MARK = "Qx7"  # in every name, text and note the tests type; it must never reach a log


@pytest.fixture
def debug_logs(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> Iterator[pytest.LogCaptureFixture]:
    factory = logging.getLogRecordFactory()
    manager = logging.Logger.manager
    levels = {n: lg.level for n, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    logs.configure(settings.model_copy(update={"log_level": "DEBUG"}))
    caplog.set_level(logging.DEBUG)
    yield caplog
    logging.setLogRecordFactory(factory)
    for name, logger in list(manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            logger.setLevel(levels.get(name, logging.NOTSET))


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as a handler would write it, with its exception and stack (and a
    check that DEBUG records are captured at all)."""
    logging.getLogger("bot.tests").debug("captured at DEBUG")
    assert caplog.records[-1].getMessage() == "captured at DEBUG"
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records) + caplog.text
