"""An operator whose PostgreSQL is not running gets one line that says so, not a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.cli import main


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when we leave: nobody listens there


@pytest.mark.parametrize("command", [["db", "upgrade"], ["check"], ["run"]])
def test_an_unreachable_postgresql_is_one_line(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = _closed_port()
    monkeypatch.setenv(
        "WIJKBOT_DATABASE_URL", f"postgresql+psycopg://wijk:geheim@127.0.0.1:{port}/wijk"
    )
    monkeypatch.setenv("WIJKBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WIJKBOT_CONFIG", raising=False)
    assert main(command) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"127.0.0.1:{port}" in err and "not reachable" in err
    assert "geheim" not in err and "Traceback" not in err
