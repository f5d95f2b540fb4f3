"""`wijkbot export`: what the area team gets, and that no resident can be identified."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.app import App
from tests.support.fake import Chat, MakeChat

ROOT = Path(__file__).resolve().parents[2]


def _export(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WIJKBOT_DATA_DIR": str(tmp_path), "WIJKBOT_DATABASE_URL": db_url}
    return subprocess.run([sys.executable, "-m", "bot", "export", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)  # fmt: skip


async def test_export_signals_and_ideas(
    app: App, make_chat: MakeChat, db_url: str, tmp_path: Path
) -> None:
    anna: Chat = make_chat("anna", lang="en")
    await anna.say("/wijk")
    await anna.press("Schalkwijk")
    await anna.say("/melding")
    await anna.say("Losse tegel, gemeld door Anna de Vries")
    await anna.location(52.3645, 4.653)
    await anna.press("Skip")
    await anna.press("Street or pavement")
    await anna.say("melding: Glas op het fietspad")
    await anna.say("Europaweg")
    await anna.press("Skip")
    await anna.say("/idee Buurtbieb")
    await anna.press("Post")
    bob: Chat = make_chat("bob", lang="en")
    await bob.press_data("idea:support:1")

    done = _export(db_url, tmp_path, "signals", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["reference"] for r in rows] == ["M-1001", "M-1002"]
    assert rows[0]["category"] == "road" and rows[0]["neighbourhood"] == "Schalkwijk"
    assert not any(k for k in rows[0] if "reporter" in k or "person" in k or "account" in k)
    assert "anna" not in done.stdout.replace("Anna de Vries", "")  # no account ids

    geo = json.loads(_export(db_url, tmp_path, "signals", "--format", "geojson").stdout)
    [feature] = geo["features"]  # only the report with a location
    assert feature["geometry"]["coordinates"] == [4.653, 52.3645]

    ideas = json.loads(_export(db_url, tmp_path, "ideas", "--format", "json").stdout)
    assert ideas[0]["reference"] == "I-1" and ideas[0]["supporters"] == 1
    assert "author" not in ideas[0]

    bad = _export(db_url, tmp_path, "ideas", "--format", "geojson")
    assert bad.returncode == 2 and "location" in bad.stderr and "Traceback" not in bad.stderr
    unknown = _export(db_url, tmp_path, "signals", "--neighbourhood", "atlantis")
    assert unknown.returncode == 2 and "atlantis" in unknown.stderr
