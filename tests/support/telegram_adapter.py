"""The real TelegramAdapter pointed at a Bot API stand-in (the tests that send over HTTP)."""

from __future__ import annotations

from pydantic import SecretStr

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.config import Settings
from bot.core.adapter_store import DatabaseAdapterStore
from storage.db import Database
from tests.standins.telegram_botapi import BotApiStandIn


def standin_adapter(
    settings: Settings, db: Database, api: BotApiStandIn, token: str
) -> TelegramAdapter:
    """`settings` with the stand-in's address and `token`; PTB not started (the caller may)."""
    settings = settings.model_copy(update={
        "telegram_token": SecretStr(token), "telegram_base_url": api.base_url,
        "telegram_base_file_url": api.base_file_url,
    })  # fmt: skip
    return TelegramAdapter(settings, DatabaseAdapterStore(db))
