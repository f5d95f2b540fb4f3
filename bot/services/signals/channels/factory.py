"""Pick the forwarder for a neighbourhood's forwarding table."""

from __future__ import annotations

from bot.core.clock import Clock
from bot.services.signals.channels.base import Forwarder
from bot.services.signals.channels.config import (
    EmailConfig,
    ForwardingConfig,
    Open311Config,
    SignalenConfig,
)


def build_forwarder(config: ForwardingConfig, *, clock: Clock | None = None) -> Forwarder:
    """A ready forwarder; the caller closes it (`await forwarder.close()`)."""
    if isinstance(config, SignalenConfig):
        from bot.services.signals.channels.signalen import SignalenForwarder

        return SignalenForwarder(config)
    if isinstance(config, Open311Config):
        from bot.services.signals.channels.open311 import Open311Forwarder

        return Open311Forwarder(config)
    if isinstance(config, EmailConfig):
        from bot.services.signals.channels.email import EmailForwarder

        return EmailForwarder(config, clock=clock)
    raise TypeError(f"unknown forwarding config {type(config).__name__}")
