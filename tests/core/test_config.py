"""Settings: env vars and TOML; a wrong value stops start-up with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_defaults_use_sqlite_in_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WIJKBOT_DATA_DIR", str(tmp_path))
    s = load_settings()
    assert s.effective_database_url == f"sqlite:///{tmp_path.resolve() / 'wijkbot.db'}"
    assert s.default_locale == "nl"
    assert s.platforms == []


def test_toml_file_and_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "wijkbot.toml"
    cfg.write_text('default_locale = "en"\ntelegram_token = "123:abc"\n')
    monkeypatch.setenv("WIJKBOT_CONFIG", str(cfg))
    s = load_settings()
    assert s.default_locale == "en"
    assert s.platforms == ["telegram"]
    assert "123:abc" not in repr(s)  # secrets never printed
    monkeypatch.setenv("WIJKBOT_DEFAULT_LOCALE", "nl")
    assert load_settings().default_locale == "nl"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WIJKBOT_DEFAULT_LOCALE": "fr"}, "WIJKBOT_DEFAULT_LOCALE"),
        ({"WIJKBOT_DATABASE_URL": "mysql://x"}, "WIJKBOT_DATABASE_URL"),
        ({"WIJKBOT_MATRIX_HOMESERVER": "http://127.0.0.1:8008"}, "WIJKBOT_MATRIX_USER_ID"),
        (
            {
                "WIJKBOT_MATRIX_HOMESERVER": "http://127.0.0.1:8008",
                "WIJKBOT_MATRIX_USER_ID": "@b:l",
            },
            "WIJKBOT_MATRIX_PASSWORD",
        ),
        ({"WIJKBOT_CONFIG": "/nonexistent/wijkbot.toml"}, "WIJKBOT_CONFIG"),
        ({"WIJKBOT_OUTBOX_SENDERS": "all"}, "WIJKBOT_OUTBOX_SENDERS"),  # SQLite: one process
        ({"WIJKBOT_OUTBOX_SENDERS": "every"}, "WIJKBOT_OUTBOX_SENDERS"),
    ],
)
def test_wrong_setting_names_itself(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert named in str(err.value)
    assert "\n" not in str(err.value)


def test_cli_config_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    env = {
        "WIJKBOT_DEFAULT_LOCALE": "klingon",
        "WIJKBOT_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "WIJKBOT_DEFAULT_LOCALE" in lines[0]


def test_broken_toml_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("default_locale = \n")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(cfg), "db", "upgrade"],
        capture_output=True, text=True, env={"PATH": "/usr/bin", "WIJKBOT_DATA_DIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "WIJKBOT_CONFIG" in done.stderr
