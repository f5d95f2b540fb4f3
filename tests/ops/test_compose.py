"""compose.yaml and deploy/Caddyfile, read as Docker Compose and Caddy would read them.

There is no Docker engine on the development machines or in CI, so the file is parsed here and
its variables are filled in by the rules of Compose's interpolation. The Caddyfile is checked
with `caddy adapt` (Debian's `caddy`; it only translates the file, nothing listens or connects)
when Caddy is installed: CI installs it and sets ``WIJKBOT_REQUIRE_CADDY=1``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.telegram.webhook import PATH
from bot.config import Settings

REPO = Path(__file__).resolve().parents[2]
WORKERS = ("worker1", "worker2")
REQUIRED = {
    "POSTGRES_PASSWORD": "pg-password",
    "WIJKBOT_TELEGRAM_TOKEN": "123456:ABC-def",
    "WIJKBOT_SECRET_KEY": "ab" * 32,
}
WEBHOOK = {
    **REQUIRED,
    "TELEGRAM_WEBHOOK_HOST": "bot.example.org",
    "WIJKBOT_TELEGRAM_WEBHOOK_SECRET": "s3cret-token_for-telegram",
}


class MissingVariable(Exception):
    """A ``${VAR:?message}`` whose variable is not set: Compose stops with the message."""


def _substitute(expr: str, env: dict[str, str]) -> str:
    name = re.match(r"[A-Za-z_][A-Za-z0-9_]*", expr)
    assert name, expr
    rest = expr[name.end() :]
    value = env.get(name.group())
    for op in (":-", ":?", ":+", "-", "?", "+"):
        if rest.startswith(op):
            arg = rest[len(op) :]
            present = value is not None and (value != "" or ":" not in op)
            if op.endswith("-"):
                return value if present and value is not None else interpolate(arg, env)
            if op.endswith("?"):
                if not present:
                    raise MissingVariable(interpolate(arg, env))
                return value or ""
            return interpolate(arg, env) if present else ""
    assert not rest, expr
    return value or ""


def interpolate(text: str, env: dict[str, str]) -> str:
    """``text`` with ``$$``, ``$VAR`` and ``${VAR…}`` (nested too) filled in, as Compose does."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while depth:
                if text.startswith("${", j):
                    depth, j = depth + 1, j + 2
                    continue
                depth -= text[j] == "}"
                j += 1
            out.append(_substitute(text[i + 2 : j - 1], env))
            i = j
        elif name := re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)", text[i:]):
            out.append(env.get(name.group(1), ""))
            i += name.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _filled(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_filled(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _filled(value, env) for key, value in node.items()}
    return node


def project(env: dict[str, str], *profiles: str) -> dict[str, Any]:
    """The services ``docker compose [--profile …] up`` would start, variables filled in."""
    raw = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    services = _filled(raw, env)["services"]
    return {
        name: service
        for name, service in services.items()
        if not service.get("profiles") or set(service["profiles"]) & set(profiles)
    }


def worker_settings(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a worker container starts with (only its own environment)."""
    for key in list(os.environ):
        if key.startswith("WIJKBOT_"):
            monkeypatch.delenv(key)
    for key, value in service["environment"].items():
        monkeypatch.setenv(key, str(value))
    return Settings(_env_file=None)  # type: ignore[call-arg]


def caddy_upstreams() -> tuple[str, list[str]]:
    """The path the Caddyfile proxies and the upstreams it proxies it to."""
    text = (REPO / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    found = re.search(r"^\s*handle (\S+) \{\s*\n\s*reverse_proxy ([^{\n]+)\{", text, re.M)
    assert found, "no `handle PATH { reverse_proxy … {` in deploy/Caddyfile"
    return found.group(1), found.group(2).split()


def test_default_is_postgres_and_two_polling_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    services = project(REQUIRED)
    assert set(services) == {"db", "migrate", *WORKERS}
    for name in WORKERS:
        assert services[name]["command"] == ["run", "--worker"]
        assert "ports" not in services[name]  # nothing of a worker is published
        settings = worker_settings(services[name], monkeypatch)
        assert not settings.telegram_webhook_url  # polling, one worker at a time
    assert services["migrate"]["command"] == ["db", "upgrade"]


def test_a_matrix_only_setup_starts_without_a_telegram_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Compose gives the workers `WIJKBOT_TELEGRAM_TOKEN=` (empty) when no token is set: that
    is no token, not a malformed one (the workers stopped with "expected the form …")."""
    matrix_only = {key: value for key, value in REQUIRED.items() if "TELEGRAM" not in key}
    for name in WORKERS:
        service = project(matrix_only)[name]
        assert service["environment"]["WIJKBOT_TELEGRAM_TOKEN"] == ""
        assert worker_settings(service, monkeypatch).telegram_token is None


def test_every_worker_gets_the_same_secret_key_and_database() -> None:
    for env, profiles in ((REQUIRED, ()), (WEBHOOK, ("webhook",))):
        services = project(env, *profiles)
        for key in ("WIJKBOT_SECRET_KEY", "WIJKBOT_DATABASE_URL"):
            values = {services[name]["environment"][key] for name in ("migrate", *WORKERS)}
            assert len(values) == 1, key
        assert services["worker1"]["environment"]["WIJKBOT_SECRET_KEY"] == "ab" * 32
    without = {k: v for k, v in REQUIRED.items() if k != "WIJKBOT_SECRET_KEY"}
    with pytest.raises(MissingVariable, match="the same for all workers"):
        project(without)


def test_webhook_profile_adds_caddy_over_both_workers_webhook_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = project(WEBHOOK, "webhook")
    assert set(services) == {"db", "migrate", *WORKERS, "proxy"}
    proxy = services["proxy"]
    assert proxy["image"] == "caddy:2"
    assert "443:443" in proxy["ports"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert proxy["environment"]["TELEGRAM_WEBHOOK_HOST"] == "bot.example.org"
    assert set(proxy["depends_on"]) == set(WORKERS)
    path, upstreams = caddy_upstreams()
    assert path == PATH
    expected = []
    for name in WORKERS:
        settings = worker_settings(services[name], monkeypatch)
        assert settings.telegram_webhook_url == f"https://bot.example.org{PATH}"
        assert settings.telegram_webhook_secret is not None
        assert settings.telegram_webhook_secret.get_secret_value() == "s3cret-token_for-telegram"
        assert settings.telegram_webhook_listen == "0.0.0.0"  # reachable from the proxy
        expected.append(f"{name}:{settings.telegram_webhook_port}")
    assert upstreams == expected


def test_webhook_without_its_secret_stops_the_workers_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {k: v for k, v in WEBHOOK.items() if k != "WIJKBOT_TELEGRAM_WEBHOOK_SECRET"}
    services = project(env, "webhook")
    with pytest.raises(ValueError, match="WIJKBOT_TELEGRAM_WEBHOOK_SECRET is needed"):
        worker_settings(services["worker1"], monkeypatch)


def test_proxy_without_host_name_says_so_and_with_one_runs_caddy(tmp_path: Path) -> None:
    entrypoint = project(REQUIRED, "webhook")["proxy"]["entrypoint"]
    assert entrypoint[:2] == ["sh", "-c"]
    fake = tmp_path / "caddy"  # stands in for Caddy: prints how it was started
    fake.write_text('#!/bin/sh\necho "caddy $*"\n', encoding="utf-8")
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    missing = subprocess.run(
        entrypoint, env={**env, "TELEGRAM_WEBHOOK_HOST": ""}, capture_output=True, text=True
    )
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert "set TELEGRAM_WEBHOOK_HOST" in missing.stderr
    given = subprocess.run(
        entrypoint, env={**env, "TELEGRAM_WEBHOOK_HOST": "bot.example.org"}, capture_output=True
    )
    assert given.returncode == 0
    assert given.stdout == b"caddy run --config /etc/caddy/Caddyfile --adapter caddyfile\n"


def test_caddy_reads_the_caddyfile_as_meant(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        if os.environ.get("WIJKBOT_REQUIRE_CADDY") == "1":
            pytest.fail("Caddy is required (WIJKBOT_REQUIRE_CADDY=1): apt-get install caddy")
        pytest.skip("caddy is not installed (apt-get install caddy)")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    adapted = subprocess.run(
        [caddy, "adapt", "--config", str(REPO / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
        env={**env, "TELEGRAM_WEBHOOK_HOST": "bot.example.org"},
        capture_output=True,
        text=True,
        check=True,
    )
    server = json.loads(adapted.stdout)["apps"]["http"]["servers"]["srv0"]
    assert server["listen"] == [":443"]
    (site,) = server["routes"]
    assert site["match"] == [{"host": ["bot.example.org"]}]
    text = json.dumps(site)
    proxies = [h for h in _handlers(site) if h.get("handler") == "reverse_proxy"]
    assert len(proxies) == 1, text
    (proxy,) = proxies
    assert [u["dial"] for u in proxy["upstreams"]] == ["worker1:8443", "worker2:8443"]
    assert proxy["load_balancing"]["selection_policy"] == {"policy": "round_robin"}
    assert proxy["load_balancing"]["try_duration"] > 0  # a worker that is down: the other one
    assert proxy["health_checks"]["passive"]["fail_duration"] > 0
    assert f'"path": ["{PATH}"]' in text


def _handlers(node: Any) -> list[dict[str, Any]]:
    """Every handler anywhere in an adapted Caddy route."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "handler" in node:
            found.append(node)
        for value in node.values():
            found.extend(_handlers(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_handlers(item))
    return found
