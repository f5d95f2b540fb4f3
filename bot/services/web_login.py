"""How long a web overview login link and its session last, shared by the chat's
/dashboard and the web app (`bot.web`)."""

from __future__ import annotations

from datetime import timedelta

LOGIN_VALID = timedelta(minutes=10)  # the link the bot sends; and it works once
SESSION_VALID = timedelta(hours=12)  # the browser's cookie after opening it


def login_minutes() -> int:
    """`LOGIN_VALID` in minutes, for the texts that tell people (so they cannot drift)."""
    return int(LOGIN_VALID.total_seconds() // 60)
