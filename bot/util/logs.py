"""Logging for the whole process, set up once at start-up."""

from __future__ import annotations

import logging

from bot.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("alembic", "apscheduler", "httpx")


def configure(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format=FORMAT)
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
