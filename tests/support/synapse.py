"""A real Synapse homeserver on 127.0.0.1 for the Matrix end-to-end tests.

Synapse pins its own dependency ranges, so it lives in its own virtual environment
(`.tmp/synapse-venv`, reused when present). The server never federates: no key servers,
an empty federation whitelist, only the client resource on loopback.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
VENV = ROOT / ".tmp" / "synapse-venv"
REQUIREMENT = "matrix-synapse>=1.163,<1.164"
SERVER_NAME = "localhost"

# Every rate limit raised, so tests only meet the limits they set themselves.
_HIGH = {"per_second": 1000, "burst_count": 1000}
RATE_LIMITS: dict[str, Any] = {
    "rc_message": _HIGH,
    "rc_registration": _HIGH,
    "rc_registration_token_validity": _HIGH,
    "rc_login": {"address": _HIGH, "account": _HIGH, "failed_attempts": _HIGH},
    "rc_admin_redaction": _HIGH,
    "rc_joins": {"local": _HIGH, "remote": _HIGH},
    "rc_joins_per_room": _HIGH,
    "rc_key_requests": _HIGH,
    "rc_3pid_validation": _HIGH,
    "rc_invites": {"per_room": _HIGH, "per_user": _HIGH, "per_issuer": _HIGH},
    "rc_third_party_invite": _HIGH,
    "rc_media_create": _HIGH,
    "rc_presence": {"per_user": _HIGH},
    "rc_delayed_event_mgmt": _HIGH,
    "rc_room_creation": _HIGH,
    "rc_reports": _HIGH,
    "rc_user_directory": _HIGH,
    "rc_profile": _HIGH,
}


class SynapseUnavailable(Exception):
    """Synapse could not be installed or started here."""


@dataclass(frozen=True)
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str

    @property
    def localpart(self) -> str:
        return self.user_id[1:].split(":", 1)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_installed(venv: Path = VENV, timeout: float = 600) -> Path:
    """The Python of a virtualenv with Synapse; installs it on first use."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import synapse.app.homeserver"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", REQUIREMENT],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        tail = detail.decode(errors="replace").strip().splitlines()[-3:]
        raise SynapseUnavailable(f"installing {REQUIREMENT} failed: {exc} {tail}") from exc
    if subprocess.run(probe, capture_output=True).returncode != 0:
        raise SynapseUnavailable("synapse installed but cannot be imported")
    return python


def homeserver_config(workdir: Path, port: int, secret: str) -> dict[str, Any]:
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(workdir / "homeserver.pid"),
        "report_stats": False,
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(workdir / "homeserver.db")}},
        "log_config": str(workdir / "log.yaml"),
        "media_store_path": str(workdir / "media"),
        "signing_key_path": str(workdir / "signing.key"),
        "registration_shared_secret": secret,
        "enable_registration": True,
        "enable_registration_without_verification": True,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "bcrypt_rounds": 4,
        **RATE_LIMITS,
    }


def _log_config(workdir: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "plain",
                "filename": str(workdir / "homeserver.log"),
            }
        },
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


class SynapseServer:
    """One homeserver for a test session: start, register users, stop."""

    def __init__(self, workdir: Path, python: Path | None = None) -> None:
        self.workdir = workdir
        self.python = python
        self.port = free_port()
        self.secret = secrets.token_hex(16)
        self.proc: subprocess.Popen[bytes] | None = None
        self.admin: Account | None = None
        self._counter = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_timeout: float = 60) -> SynapseServer:
        python = self.python or ensure_installed()
        self.workdir.mkdir(parents=True, exist_ok=True)
        # JSON is YAML: no YAML writer needed in the project's environment.
        config = self.workdir / "homeserver.yaml"
        config.write_text(json.dumps(homeserver_config(self.workdir, self.port, self.secret)))
        (self.workdir / "log.yaml").write_text(json.dumps(_log_config(self.workdir)))
        self.proc = subprocess.Popen(
            [str(python), "-m", "synapse.app.homeserver", "-c", str(config)],
            cwd=self.workdir,
            stdout=(self.workdir / "stdout.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = (self.workdir / "stdout.log").read_text(errors="replace")[-2000:]
                raise SynapseUnavailable(f"synapse exited with {self.proc.returncode}: {tail}")
            versions = f"{self.url}/_matrix/client/versions"
            with contextlib.suppress(OSError), urllib.request.urlopen(versions, timeout=1):
                break
            time.sleep(0.1)
        else:
            self.stop()
            raise SynapseUnavailable(f"synapse did not answer within {ready_timeout:.0f} s")
        self.admin = self.register("admin", admin=True)
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- HTTP ------------------------------------------------------------------------------

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                result: dict[str, Any] = json.loads(resp.read() or b"{}")
                return result
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from None

    def register(self, localpart: str, password: str | None = None, admin: bool = False) -> Account:
        """A user, through the shared-secret admin API (HMAC-SHA1 over the NUL-joined fields)."""
        password = password or secrets.token_hex(8)
        path = "/_synapse/admin/v1/register"
        nonce = self.request("GET", path)["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        fields = [nonce, localpart, password, "admin" if admin else "notadmin"]
        mac.update("\x00".join(fields).encode())
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        result = self.request("POST", path, body)
        return Account(result["user_id"], password, result["access_token"], result["device_id"])

    def fresh_user(self, prefix: str) -> Account:
        """A new user with a unique name, so every test has its own."""
        self._counter += 1
        return self.register(f"{prefix}{self._counter}x{secrets.token_hex(2)}")

    def override_ratelimit(self, user_id: str, per_second: int, burst_count: int) -> None:
        """Set one user's message rate limit (the admin API; 0/0 would disable it)."""
        assert self.admin is not None
        path = f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"
        body = {"messages_per_second": per_second, "burst_count": burst_count}
        self.request("POST", path, body, token=self.admin.access_token)
