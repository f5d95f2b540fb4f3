"""How a neighbourhood's signals reach its municipality: the `[neighbourhood.forwarding]` table.

Secrets may be given directly (`api_key`, `password`) or, as the store wants, named by
environment variable (`api_key_env`, `password_env`), read when the table is loaded.
Either way they are `SecretStr` and never shown in a repr or a log line; once loaded, the
log and the errors told to coordinators hide them (`bot.util.logs.remember_secret`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.services.signals.channels.base import FALLBACK_CATEGORY
from bot.util.logs import remember_secret

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


class ForwardingConfigError(ValueError):
    """The forwarding table is wrong; the message is one line naming the field."""


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The most one forward, or one status check, may take: all its requests together.
    timeout_seconds: float = Field(default=20.0, gt=0, le=300)


class FallbackPoint(BaseModel):
    """Where to pin a signal that has no coordinates (e.g. the neighbourhood's centre)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("expected an http:// or https:// URL")
    return value.rstrip("/")


def _with_other(value: dict[str, str], what: str) -> dict[str, str]:
    if FALLBACK_CATEGORY not in value:
        raise ValueError(f'needs an "{FALLBACK_CATEGORY}" entry, used for any other category')
    for key, item in value.items():
        if not item.strip():
            raise ValueError(f"{what} for {key!r} is empty")
    return value


class SignalenConfig(_Base):
    kind: Literal["signalen"]
    base_url: str  # e.g. https://api.meldingen.example.nl (without /signals/v1)
    category_urls: dict[str, str]  # our key -> Signalen sub-category URL
    source: str | None = None  # a public Signalen source; Signalen's default is "online"
    fallback_point: FallbackPoint | None = None  # Signalen needs coordinates
    # The private API (real states, the municipality's message, reopen requests) needs an
    # account: an OIDC client of the municipality's login provider, whose service user is
    # a Signalen user. The token comes from `token_url` (client-credentials grant).
    token_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None

    @property
    def private_api(self) -> bool:
        return self.token_url is not None

    @model_validator(mode="after")
    def _private(self) -> SignalenConfig:
        given = [self.token_url, self.client_id, self.client_secret]
        if any(v is not None for v in given) and not all(v is not None for v in given):
            raise ValueError(
                "token_url: give token_url, client_id and client_secret together, or none"
            )
        return self

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("category_urls")
    @classmethod
    def _categories(cls, value: dict[str, str]) -> dict[str, str]:
        _with_other(value, "sub-category URL")
        for key, url in value.items():
            if "/sub_categories/" not in url or not url.startswith(("http://", "https://")):
                raise ValueError(
                    f"{key!r}: expected a full URL like https://…/signals/v1/public/terms/"
                    "categories/<main>/sub_categories/<sub>"
                )
        return value


# What an Open311 attribute may be filled with, besides a fixed value.
OPEN311_FIELDS = ("reference", "category", "neighbourhood", "address", "text")


class Open311Config(_Base):
    kind: Literal["open311"]
    base_url: str  # the GeoReport v2 endpoint, e.g. https://…/open311/v2
    api_key: SecretStr
    jurisdiction_id: str | None = None
    service_codes: dict[str, str]  # our key -> service_code
    # Wijkbot publishes no photos; set this only if you publish them yourself at that address.
    media_url: str | None = None
    fallback_point: FallbackPoint | None = None
    # The answer format asked for: GeoReport v2 servers must offer XML, JSON is optional.
    format: Literal["json", "xml"] = "json"
    # Attributes a service asks for (its definition, metadata true), per service_code:
    # attribute code -> a fixed value, or one of OPEN311_FIELDS in braces ("{reference}").
    attributes: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("service_codes")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        return _with_other(value, "service_code")

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for code, mapping in value.items():
            for attribute, given in mapping.items():
                field = re.fullmatch(r"\{(\w*)\}", given.strip())
                if field and field[1] not in OPEN311_FIELDS:
                    raise ValueError(
                        f"{code}.{attribute}: unknown field {given!r}; use a fixed value or "
                        + ", ".join("{" + name + "}" for name in OPEN311_FIELDS)
                    )
        return value

    @field_validator("api_key")
    @classmethod
    def _key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty")
        return value


class EmailConfig(_Base):
    kind: Literal["email"]
    smtp_host: str
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    from_address: str
    to_address: str
    # Trust this CA file instead of the system store (a private CA, or the test
    # server's certificate). Verification itself is never switched off.
    tls_ca_file: Path | None = None

    @field_validator("from_address", "to_address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _EMAIL.match(value.strip()):
            raise ValueError("expected an e-mail address like meldingen@gemeente.nl")
        return value.strip()

    @field_validator("tls_ca_file")
    @classmethod
    def _ca_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file not found: {value}")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> EmailConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("username: give both username and password, or neither")
        if not self.starttls and self.smtp_host not in _LOOPBACK:
            raise ValueError(
                "starttls: false is only allowed for a relay on this machine (localhost)"
            )
        return self


AnyForwardingConfig = SignalenConfig | Open311Config | EmailConfig
ForwardingConfig = Annotated[AnyForwardingConfig, Field(discriminator="kind")]


class _Table(BaseModel):
    config: ForwardingConfig


KINDS = ("signalen", "open311", "email")
_SECRETS = {
    "api_key_env": "api_key",
    "password_env": "password",
    "client_secret_env": "client_secret",
}
# A secret in a file (a mounted container secret): `client_secret_file = "/run/secrets/…"`.
_SECRET_FILES = {"client_secret_file": "client_secret"}


def load_forwarding_config(
    data: Mapping[str, Any], *, env: Mapping[str, str] | None = None
) -> AnyForwardingConfig:
    """Validate a forwarding table; raise ForwardingConfigError naming the field."""
    env = os.environ if env is None else env
    values = dict(data)
    kind = values.get("kind")
    if kind not in KINDS:
        raise ForwardingConfigError(f"forwarding.kind: expected one of {', '.join(KINDS)}")
    for env_key, field in _SECRETS.items():
        if env_key not in values:
            continue
        name = values.pop(env_key)
        if field in values:
            raise ForwardingConfigError(
                f"forwarding.{env_key}: give {field} or {env_key}, not both"
            )
        if not isinstance(name, str) or name not in env:
            raise ForwardingConfigError(
                f"forwarding.{env_key}: environment variable {name!r} is not set"
            )
        values[field] = env[name]
    for file_key, field in _SECRET_FILES.items():
        if file_key in values:
            values[field] = _read_secret_file(values.pop(file_key), file_key, field, values)
    try:
        config = _Table.model_validate({"config": values}).config
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(part) for part in err["loc"]][1:]
        if loc and loc[0] == kind:
            loc = loc[1:]
        msg = err["msg"].removeprefix("Value error, ")
        named = re.match(r"^(\w+): (.*)$", msg)
        if not loc and named:  # a check across fields names its field first
            loc, msg = [named[1]], named[2]
        where = ".".join(["forwarding", *loc])
        raise ForwardingConfigError(f"{where}: {msg}") from None
    # A municipality's error may repeat the key it refused: never in a log or a message.
    remember_secret(
        getattr(config, "api_key", None),
        getattr(config, "password", None),
        getattr(config, "client_secret", None),
    )
    return config


def _read_secret_file(path: Any, file_key: str, field: str, values: Mapping[str, Any]) -> str:
    if field in values:
        raise ForwardingConfigError(f"forwarding.{file_key}: give {field} or {file_key}, not both")
    try:
        return Path(str(path)).read_text().strip()
    except OSError:
        raise ForwardingConfigError(f"forwarding.{file_key}: cannot read {path}") from None
