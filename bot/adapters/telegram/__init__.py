"""Telegram: the Bot API through python-telegram-bot (polling or webhook)."""

from bot.adapters.telegram.adapter import TelegramAdapter

__all__ = ["TelegramAdapter"]
