"""Request parameter decoding for the Bot API stand-in.

PTB sends ``application/x-www-form-urlencoded`` (or multipart when uploading) where
strings are sent raw and everything else JSON-encoded, so decoding needs to know which
fields are strings and which carry JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .telegram_records import JSONDict, Upload, bad_request

__all__ = ["JSON_FIELDS", "STRING_FIELDS", "Params", "coerce"]

JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "options",
        "scope",
        "commands",
        "allowed_updates",
        "link_preview_options",
        "media",
        "explanation_entities",
        "question_entities",
        "description_entities",
        "correct_option_ids",
        "menu_button",
        "permissions",
        "results",
        "message_ids",
    }
)
# Parameters that are strings even when they look like numbers or JSON.
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "question",
        "explanation",
        "description",
        "parse_mode",
        "caption_parse_mode",
        "question_parse_mode",
        "explanation_parse_mode",
        "description_parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "language_code",
        "title",
        "name",
        "short_description",
        "action",
        "type",
        "emoji",
        "file_id",
        "photo",
        "document",
        "secret_token",
        "ip_address",
        "custom_title",
        "business_connection_id",
        "message_effect_id",
    }
)


def coerce(name: str, value: Any) -> Any:
    """Turn a form/query string into the value Telegram would read from it."""
    if not isinstance(value, str):
        return value
    if name in STRING_FIELDS:
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            if name == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object") from None
            if name in ("entities", "caption_entities"):
                raise bad_request("can't parse entities JSON object") from None
            raise bad_request(f"can't parse {name} JSON object") from None
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if re.fullmatch(r"-?\d+\.\d*(e-?\d+)?", value):
        return float(value)
    return value


class Params:
    """Typed access to the parameters of one request."""

    def __init__(self, values: JSONDict, files: dict[str, Upload]) -> None:
        self.values = values
        self.files = files

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_float(self, name: str, default: float | None = None) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str) and value:
            return coerce(name, value) if name in JSON_FIELDS else json.loads(value)
        return value

    def input_file(self, name: str) -> str | Upload | None:
        """A file parameter: an Upload, or a file_id/URL string (attach:// resolved)."""
        if name in self.files:
            return self.files[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value[len("attach://") :])
        return None if value in (None, "") else str(value)
