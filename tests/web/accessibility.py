"""axe-core (npm, `tests/web/axe/`) for the browser tests' accessibility scan.

`ensure_installed()` runs `npm ci` in `axe/` once per lock change, as the Element-crypto
harness does (`tests/e2e/matrix/element.py`; npm's cache keeps later installs offline), and
returns axe.min.js. `scan(driver)` injects it into the page open in Selenium and returns
the violations of impact "serious" or "critical", each as "rule id: targets".
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).resolve().parent / "axe"
AXE = HARNESS / "node_modules/axe-core/axe.min.js"
SERIOUS = ("serious", "critical")
# WCAG 2.0/2.1 A and AA, and axe's best practices (landmarks, one h1, regions).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


class AxeUnavailable(Exception):
    """There is no `npm` on this machine to install axe-core with."""


def ensure_installed(timeout: float = 300) -> Path:
    """axe.min.js, installed from the lock file."""
    npm = shutil.which("npm")
    lock, installed = HARNESS / "package-lock.json", HARNESS / "node_modules/.package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        if npm is None:
            raise AxeUnavailable("npm is needed to install axe-core for the accessibility scan")
        subprocess.run(
            [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HARNESS,
            check=True,
            timeout=timeout,
        )
    return AXE


_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.map(n => n.target.join(" "))}))))
  .catch(e => done([{id: "axe-error", impact: "critical", help: String(e), targets: []}]));
"""


def scan(driver: Any, axe_source: str) -> list[str]:
    """The page's serious and critical violations, as "rule: help (targets)"."""
    driver.execute_script(axe_source)
    driver.set_script_timeout(60)
    found = driver.execute_async_script(_RUN, TAGS)
    return [
        f"{v['id']}: {v['help']} ({', '.join(v['targets'])})"
        for v in found
        if v["impact"] in SERIOUS
    ]
