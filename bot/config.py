"""Typed settings from WIJKBOT_* environment variables and an optional TOML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The one list of languages, each named in itself (the /taal buttons). A language joins here
# together with its complete catalog in locales/<code>/; `tools/i18n.py check` holds them to it.
LANGUAGES: dict[str, str] = {
    "nl": "Nederlands",
    "en": "English",
    "tr": "Türkçe",
    "pl": "Polski",
    "ar": "العربية",
    "uk": "Українська",
}
SUPPORTED_LOCALES = tuple(LANGUAGES)
CONFIG_ENV = "WIJKBOT_CONFIG"


class ConfigError(Exception):
    """A setting is wrong or missing; the message is one line naming it."""


class Settings(BaseSettings):
    # An empty variable is an unset one (compose files pass `${VAR:-}` for what is optional).
    model_config = SettingsConfigDict(env_prefix="WIJKBOT_", extra="forbid", env_ignore_empty=True)

    data_dir: Path = Path("data")
    database_url: str | None = None
    # Several workers on PostgreSQL: "one" sends each platform's outbox in one worker at a
    # time; "all" in every worker, Telegram's limits shared through the database.
    outbox_senders: Literal["one", "all"] = "one"
    default_locale: str = "nl"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    support_batch_minutes: int = 60
    # The municipality's area as south, west, north, east (degrees): a shared location outside
    # it is questioned ("Is that right?"). None: not checked.
    area: tuple[float, float, float, float] | None = None
    # The secret that hashes voting codes and seals ballots, kept outside the database:
    # 64 hex characters, or a file holding them (default <data_dir>/secret.key, created).
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None

    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_base_file_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: SecretStr | None = None

    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_password: SecretStr | None = None
    matrix_access_token: SecretStr | None = None
    # Users ("@coco:example.org") or servers ("example.org") whose room invites are
    # accepted; empty means the bot's own homeserver. Direct-chat invites always are.
    matrix_allowed_inviters: list[str] = []

    # The coordinators' web overview (bot/web): off unless a port is set. It listens on
    # loopback; a reverse proxy serves it at `web_base_url` (https: the cookie is Secure).
    web_port: int | None = None
    web_listen: str = "127.0.0.1"
    web_base_url: str | None = None
    # The map on public neighbourhood pages: a tile server's URL template, e.g.
    # "https://tile.openstreetmap.org/{z}/{x}/{y}.png", and its attribution. Empty: markers
    # on a blank map; the browser then contacts no other host.
    web_tile_url: str = ""
    web_tile_attribution: str = ""
    # Prometheus metrics (/metrics) on a port of their own: off unless a port is set. Only
    # loopback peers are answered, unless a token is set: then `Authorization: Bearer <token>`
    # is needed (and enough). Listening beyond loopback needs the token.
    metrics_port: int | None = None
    metrics_listen: str = "127.0.0.1"
    metrics_token: SecretStr | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get(CONFIG_ENV)
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_path)))
        return tuple(sources)

    @field_validator("default_locale")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"choose one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("use a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("outbox_senders")
    @classmethod
    def _all_senders_need_postgres(cls, value: str, info: ValidationInfo) -> str:
        url = info.data.get("database_url")
        if value == "all" and (url is None or url.startswith("sqlite")):
            raise ValueError(
                "'all' needs PostgreSQL (WIJKBOT_DATABASE_URL=postgresql://…); "
                "on SQLite one process sends everything: leave it at 'one'"
            )
        return value

    @field_validator("area")
    @classmethod
    def _area_shape(
        cls, value: tuple[float, float, float, float] | None
    ) -> tuple[float, float, float, float] | None:
        if value is not None:
            south, west, north, east = value
            if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
                raise ValueError("give south, west, north, east: south below north, west of east")
        return value

    @field_validator("telegram_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            bot_id, _sep, secret = value.get_secret_value().partition(":")
            if not bot_id.isdigit() or not secret:
                raise ValueError("expected the form 123456:ABC… that BotFather gives")
        return value

    @model_validator(mode="after")
    def _matrix_complete(self) -> Settings:
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise ValueError(
                "WIJKBOT_TELEGRAM_WEBHOOK_SECRET is needed with WIJKBOT_TELEGRAM_WEBHOOK_URL"
            )
        loopback = self.metrics_listen in ("127.0.0.1", "::1", "localhost")
        if self.metrics_port is not None and not self.metrics_token and not loopback:
            raise ValueError(
                "WIJKBOT_METRICS_TOKEN is needed when WIJKBOT_METRICS_LISTEN is not loopback"
            )
        if self.matrix_homeserver:
            if not self.matrix_user_id:
                raise ValueError("WIJKBOT_MATRIX_USER_ID is needed with WIJKBOT_MATRIX_HOMESERVER")
            if not (self.matrix_password or self.matrix_access_token):
                raise ValueError(
                    "WIJKBOT_MATRIX_PASSWORD or WIJKBOT_MATRIX_ACCESS_TOKEN is needed "
                    "with WIJKBOT_MATRIX_HOMESERVER"
                )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'wijkbot.db').resolve()}"

    @property
    def web_url(self) -> str | None:
        """Where people open the web overview (no trailing slash), or None when it is off."""
        if self.web_port is None:
            return None
        return (self.web_base_url or f"http://{self.web_listen}:{self.web_port}").rstrip("/")

    @property
    def platforms(self) -> list[str]:
        found = []
        if self.telegram_token:
            found.append("telegram")
        if self.matrix_homeserver:
            found.append("matrix")
        return found


def load_settings(**overrides: object) -> Settings:
    """Load settings or raise ConfigError with one line naming the setting."""
    toml_path = os.environ.get(CONFIG_ENV)
    if toml_path and not Path(toml_path).is_file():
        raise ConfigError(f"{CONFIG_ENV}: file not found: {toml_path}")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        name = f"WIJKBOT_{loc.upper()}" if loc else "settings"
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name}: {msg}") from None
    except Exception as exc:  # a broken TOML file raises from the parser
        raise ConfigError(f"{CONFIG_ENV}: {exc}") from None
