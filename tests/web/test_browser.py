"""The web overview in a real browser: Debian's headless Chromium through Selenium and
/usr/bin/chromedriver (never a downloaded driver). A coordinator logs in through the link
the bot sent in a scripted chat, filters the queue, changes a status, and the reporter is
told in the chat; then a bulk action on two reports tells both reporters. With
WIJKBOT_SCREENSHOTS=<dir> it saves the Dutch queue at desktop and phone widths (the
README's pictures: `WIJKBOT_SCREENSHOTS=docs .venv/bin/pytest tests/web/test_browser.py -k sqlite`).
Every page also passes axe-core's scan (`tests/web/accessibility.py`) at both widths: no
serious or critical violation.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from bot.app import App
from bot.ops.population import load_population
from bot.ops.setup_data import apply_setup
from bot.web.app import create_app
from bot.web.server import server as web_server
from storage.models import BudgetProject, BudgetRound
from tests.forum.test_population import DATA as POPULATION
from tests.support.fake import FakeAdapter, MakeChat
from tests.web.accessibility import AxeUnavailable, ensure_installed, scan
from tests.web.conftest import coordinator, link_in, resident_report
from tests.web.data import people, reports

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        if os.environ.get("WIJKBOT_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "Chromium is required (WIJKBOT_REQUIRE_BROWSER=1): apt-get install chromium chromium-driver"
            )
        pytest.skip("no Chromium: apt-get install chromium chromium-driver")
    profile = tempfile.mkdtemp(prefix="wijkbot-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1280,900",
    ):  # fmt: skip
        options.add_argument(flag)
    # Giving the driver's path bypasses Selenium Manager: nothing is downloaded.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def axe_source() -> str:
    try:
        return ensure_installed().read_text(encoding="utf-8")
    except (AxeUnavailable, subprocess.SubprocessError, OSError) as exc:
        if os.environ.get("WIJKBOT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"axe-core is required (WIJKBOT_REQUIRE_BROWSER=1): {exc}")
        pytest.skip(f"no axe-core: {exc}")


async def test_coordinator_works_the_queue_in_a_browser(
    app: App, make_chat: MakeChat, adapter: FakeAdapter, browser: webdriver.Chrome
) -> None:
    await resident_report(make_chat, "anna", "Schalkwijk", "Lantaarnpaal kapot bij de school")
    await resident_report(
        make_chat,
        "bob",
        "Schalkwijk",
        "Oude bank op het plein",
        lat=52.39,
        category="Something else",
    )
    port = _free_port()
    app.settings.web_port = port
    coco = await coordinator(app, make_chat)
    link = link_in(await coco.say("/dashboard"))
    site = create_app(app.db, app.settings, app.dispatcher.clock, app.flush_outbox)
    server = web_server(site, "127.0.0.1", port)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
            await asyncio.sleep(0.05)
        await asyncio.to_thread(_work_the_queue, browser, link, port)
    finally:
        server.should_exit = True
        await serving
    # The status change went through the chat's service: the reporter is told in the chat.
    [news] = [m for m in adapter.in_chat("dm:anna") if "Nieuwe lamp geplaatst" in m.text]
    assert "News about your report M-1001" in news.text and "solved" in news.text
    # So did the bulk action: both reporters are told, each about their own report.
    for who, ref in (("anna", "M-1001"), ("bob", "M-1002")):
        [bulk] = [m for m in adapter.in_chat(f"dm:{who}") if "Morgen komt de aannemer" in m.text]
        assert f"News about your report {ref}" in bulk.text and "being handled" in bulk.text


def _go(browser: webdriver.Chrome, act: Callable[[], object]) -> None:
    """Click (or press) and wait until the next page has replaced this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    act()

    def gone(_driver: object) -> bool:
        # Chromium answers "Node with given id does not belong to the document" instead of a
        # stale element while the old page is being replaced: gone as well.
        try:
            page.is_enabled()
        except (StaleElementReferenceException, WebDriverException):
            return True
        return False

    WebDriverWait(browser, 20).until(gone)
    WebDriverWait(browser, 20).until(
        lambda b: b.execute_script("return document.readyState") == "complete"
    )


def _work_the_queue(browser: webdriver.Chrome, link: str, port: int) -> None:
    """What the coordinator does, in a thread: Selenium blocks, the server runs on the loop."""
    browser.get(link)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Wijkbot: reports"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "M-1001" in browser.page_source and "M-1002" in browser.page_source

    # Filter: only street lighting.
    Select(browser.find_element(By.ID, "category")).select_by_visible_text("Street lighting")
    _go(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button").click)
    assert browser.find_element(By.ID, "count").text == "1 report found."
    assert "M-1002" not in browser.find_element(By.TAG_NAME, "table").text

    # Open the report and set it to solved, with a note.
    _go(browser, browser.find_element(By.LINK_TEXT, "M-1001").click)
    Select(browser.find_element(By.ID, "new-status")).select_by_visible_text("solved")
    browser.find_element(By.ID, "note").send_keys("Nieuwe lamp geplaatst")
    _go(browser, browser.find_element(By.CSS_SELECTOR, "main form button").click)
    assert browser.find_element(By.ID, "status-now").text == "solved"
    assert "Nieuwe lamp geplaatst" in browser.find_element(By.ID, "history").text

    # A bulk action: tick both reports, "being handled" with a note, for both at once.
    browser.get(f"http://127.0.0.1:{port}/?status=")
    for signal_id in (1, 2):
        browser.find_element(By.ID, f"tick-{signal_id}").click()
    browser.find_element(By.ID, "do-status").click()
    Select(browser.find_element(By.ID, "bulk-status")).select_by_visible_text("being handled")
    browser.find_element(By.ID, "bulk-note").send_keys("Morgen komt de aannemer")
    _go(browser, browser.find_element(By.CSS_SELECTOR, "form.bulk button").click)
    results = browser.find_element(By.ID, "results").text
    assert "M-1001 is now being handled" in results and "M-1002 is now being handled" in results

    # The language switch, by keyboard only (Tab to it, Enter): Dutch from now on.
    browser.get(f"http://127.0.0.1:{port}/?status=")
    Select(browser.find_element(By.ID, "lang")).select_by_value("nl")
    button = browser.find_element(By.CSS_SELECTOR, "header form button")
    _go(browser, lambda: button.send_keys(Keys.ENTER))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Wijkbot: meldingen"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl"
    if shots := os.environ.get("WIJKBOT_SCREENSHOTS"):
        for name, (width, height) in {"desktop": (1280, 720), "phone": (390, 844)}.items():
            browser.set_window_size(width, height)
            browser.save_screenshot(str(Path(shots) / f"web-queue-{name}.png"))


async def test_public_page_shows_the_map_without_names(
    app: App, make_chat: MakeChat, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    setup = tmp_path / "public.toml"
    setup.write_text(
        '[[neighbourhood]]\nslug = "schalkwijk"\nname = "Schalkwijk"\npublic_page = true\n',
        encoding="utf-8",
    )
    await apply_setup(app.db, setup)
    await resident_report(make_chat, "anna", "Schalkwijk", "Lamp kapot bij Anna Smit")
    await resident_report(
        make_chat, "bob", "Schalkwijk", "Dealer bij Bob", lat=52.381234, category="Safety"
    )
    port = _free_port()
    site = create_app(app.db, app.settings, app.dispatcher.clock)
    server = web_server(site, "127.0.0.1", port)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
            await asyncio.sleep(0.05)
        await asyncio.to_thread(_view_the_public_page, browser, port)
    finally:
        server.should_exit = True
        await serving


def _view_the_public_page(browser: webdriver.Chrome, port: int) -> None:
    browser.get(f"http://127.0.0.1:{port}/wijk/schalkwijk")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Wijkbot: Schalkwijk"
    # The map (Leaflet from this site, no tiles): one marker per report.
    WebDriverWait(browser, 20).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#map .leaflet-marker-icon")) == 2
    )
    assert browser.find_element(By.ID, "map").is_displayed()
    html = browser.page_source
    for secret in ("Anna", "Smit", "Dealer", "Bob", "anna", "bob", "52.381234"):
        assert secret not in html, secret
    # The CSP let nothing through that it should block, and nothing failed to load.
    problems = [
        e
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]
    assert problems == []
    if shots := os.environ.get("WIJKBOT_SCREENSHOTS"):
        for name, (width, height) in {"desktop": (1280, 900), "phone": (390, 844)}.items():
            browser.set_window_size(width, height)
            browser.save_screenshot(str(Path(shots) / f"web-public-{name}.png"))


SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


async def test_every_page_passes_the_axe_scan(
    app: App, make_chat: MakeChat, browser: webdriver.Chrome, tmp_path: Path, axe_source: str
) -> None:
    setup = tmp_path / "public.toml"
    setup.write_text(
        '[[neighbourhood]]\nslug = "schalkwijk"\nname = "Schalkwijk"\npublic_page = true\n',
        encoding="utf-8",
    )
    await apply_setup(app.db, setup)
    await load_population(app.settings, POPULATION)
    await resident_report(make_chat, "anna", "Schalkwijk", "Lantaarnpaal kapot bij de school")
    await resident_report(make_chat, "bob", "Schalkwijk", "Dealer", lat=52.38, category="Safety")
    now = app.dispatcher.clock.now()
    await reports(app.db, await people(app.db, 12, 1, band="45-64"), 1, now)
    await reports(app.db, await people(app.db, 3, 1, band="65+"), 1, now - timedelta(days=40))
    async with app.db.transaction() as s:
        round_ = BudgetRound(neighbourhood_id=1, title="Wijkbudget 2026", budget=10000,
                             phase="results", result={"selected": ["P1"], "total_cost": 6000,
                                                      "votes": {"P1": 40, "P2": 12}})  # fmt: skip
        s.add(round_)
        await s.flush()
        s.add_all([
            BudgetProject(round_id=round_.id or 0, code="P1", title="Speeltuin", cost=6000),
            BudgetProject(round_id=round_.id or 0, code="P2", title="Bankjes", cost=5000),
        ])  # fmt: skip
    port = _free_port()
    app.settings.web_port = port
    coco = await coordinator(app, make_chat)
    await coco.say("/taal nl")  # the pages in Dutch, as most coordinators see them
    link = link_in(await coco.say("/dashboard"))
    site = create_app(app.db, app.settings, app.dispatcher.clock)
    server = web_server(site, "127.0.0.1", port)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
            await asyncio.sleep(0.05)
        found = await asyncio.to_thread(_scan_every_page, browser, link, port, axe_source)
    finally:
        server.should_exit = True
        await serving
    for page, violations in found.items():
        for violation in violations:
            print(f"{page}: {violation}")  # what to fix, in the test output
    assert {page: v for page, v in found.items() if v} == {}


def _scan_every_page(
    browser: webdriver.Chrome, link: str, port: int, axe_source: str
) -> dict[str, list[str]]:
    base = f"http://127.0.0.1:{port}"
    browser.get(f"{base}/login/not-a-real-link")  # the error page, before logging in
    found = {"desktop /login/…": scan(browser, axe_source)}
    browser.get(link)
    assert "M-1001" in browser.page_source
    pages = ["/wijk/schalkwijk", "/", "/reports/1", "/participation", "/downloads",
             "/login/not-a-real-link"]  # fmt: skip
    for size, (width, height) in SIZES.items():
        browser.set_window_size(width, height)
        for path in pages:
            browser.get(base + path)
            if path.startswith("/wijk/"):
                WebDriverWait(browser, 20).until(
                    lambda b: b.find_elements(By.CSS_SELECTOR, "#map .leaflet-marker-icon")
                )
            found[f"{size} {path}"] = scan(browser, axe_source)
            if path == "/participation" and (shots := os.environ.get("WIJKBOT_SCREENSHOTS")):
                browser.save_screenshot(str(Path(shots) / f"web-participation-{size}.png"))
    return found


def test_the_scan_finds_a_missing_label_and_low_contrast(
    browser: webdriver.Chrome, axe_source: str
) -> None:
    """The scan itself can fail: a page with the faults it must catch."""
    browser.get(
        "data:text/html,<!doctype html><html lang=en><title>t</title><main>"
        "<p style='color:%23aaa'>grey on white</p><input id=q></main></html>"
    )
    found = " ".join(scan(browser, axe_source))
    assert "color-contrast" in found and "label" in found and "#q" in found
