"""The chat kernel: events, router, dialogs, dispatcher, context. It knows no capability."""
