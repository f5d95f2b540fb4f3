"""Exceptions a handler raises to stop with a kind message; the transaction is rolled back."""

from __future__ import annotations


class UserFacingError(Exception):
    """Abort the event: roll back and tell the user `message` (already translated)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
