"""Forwarding signals to the municipality: one module per channel, pure transport.

config = load_forwarding_config(neighbourhood.forwarding)
forwarder = build_forwarder(config)
result = await forwarder.forward(outgoing, idempotency_key=f"signal-{signal.id}")
...
status = await forwarder.status(result.external_id)   # None for e-mail
await forwarder.close()
"""

from bot.services.signals.channels.base import (
    ExternalStatus,
    Forwarder,
    ForwardingError,
    ForwardResult,
    OutgoingSignal,
    Reopener,
    State,
)
from bot.services.signals.channels.config import (
    EmailConfig,
    ForwardingConfig,
    ForwardingConfigError,
    Open311Config,
    SignalenConfig,
    load_forwarding_config,
)
from bot.services.signals.channels.factory import build_forwarder

__all__ = [
    "EmailConfig",
    "ExternalStatus",
    "ForwardResult",
    "Forwarder",
    "ForwardingConfig",
    "ForwardingConfigError",
    "ForwardingError",
    "Open311Config",
    "OutgoingSignal",
    "Reopener",
    "SignalenConfig",
    "State",
    "build_forwarder",
    "load_forwarding_config",
]
