"""`wijkbot export …`: the rows and formats live in `bot.services.exports`, which the web
overview's downloads use too."""

from bot.services.exports import ExportError, Format, Kind, idea_rows, render, signal_rows

__all__ = ["ExportError", "Format", "Kind", "idea_rows", "render", "signal_rows"]
