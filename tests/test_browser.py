"""Open every generated report in a real headless browser (Debian's chromium).

Each page is loaded at a phone width (390 px) and a desktop width (1366 px);
a full-page screenshot of each is saved under the test's temporary folder,
and the test fails on a broken image, a console error, a page wider than
the window (horizontal overflow), or a figure (img or svg) without a text
alternative.

Skipped where chromium or chromedriver is missing, except when
AUDIT_REQUIRE_BROWSER is set (as .ci/run does), where that is a failure.
The reports on real station files need the public datasets
(``AUDIT_DATA_DIR``); they are skipped, with the reason, where those are
missing.
"""

import base64
import os
import shutil
from pathlib import Path

import pytest

from audit.reporting.report import (CHECK_FIGURES, build_own_report, build_reports,
                                    stations_available)

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
WIDTHS = {"phone": 390, "desktop": 1366}
DATA = Path(os.environ.get("AUDIT_DATA_DIR", ""))
CZECH = DATA / "clean" / "czech_pres2018_r1_pet1.csv"
RUSSIA_2024 = DATA / "ru-cik" / "2024.csv.zip"
CRIMEA = "Республика Крым,город Севастополь"


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    if not (CHROMIUM and DRIVER):
        if os.environ.get("AUDIT_REQUIRE_BROWSER"):
            pytest.fail("chromium and chromedriver are required (AUDIT_REQUIRE_BROWSER is set)")
        pytest.skip("chromium or chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def reports(tmp_path_factory, request):
    """Every report the project generates: the bundled ones (the station
    notebook on a small sample of each file) and two own-file reports, each
    figure checked for overlapping text as it is saved (a figure with text
    over text or over the data stops the report)."""
    out = tmp_path_factory.mktemp("reports")
    mp = pytest.MonkeyPatch()
    mp.setenv(CHECK_FIGURES, "1")
    request.addfinalizer(mp.undo)
    pages = {name: folder / "index.html" for name, folder in
             build_reports(out=out / "bundled", parameters=[("MAX_STATIONS", "2000")],
                           stations="auto").items()}
    if CZECH.is_file():
        pages["own-czech-2018"] = build_own_report(str(CZECH), format="cz-volby",
                                                   out=out / "own-czech")
    if RUSSIA_2024.is_file():
        pages["own-crimea-2024"] = build_own_report(str(RUSSIA_2024), format="ru-cik",
                                                    region=CRIMEA, out=out / "own-crimea")
    return pages


def _page_problems(driver, page: Path, width: int, shot: Path) -> list[str]:
    """Load ``page`` at ``width`` css pixels; save a full-page screenshot to
    ``shot``; return every problem found, as text."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.get_log("browser")                     # start from a clean console
    driver.get(page.resolve().as_uri())
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all(Array.from(document.images).map(i => i.complete ? null :"
        " new Promise(r => { i.onload = i.onerror = r; }))).then(() => done(null));")
    problems = []
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete,"
        " i.naturalWidth, (i.getAttribute('alt') || '').trim()]);")
    problems += [f"broken image {src}" for src, complete, w, _ in images
                 if not (complete and w > 0)]
    problems += [f"image without alt text: {src}" for src, _, _, alt in images if not alt]
    unlabelled = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg')).filter(s =>"
        " !s.closest('[aria-hidden=\"true\"]') && s.getAttribute('aria-hidden') !== 'true'"
        " && !(s.getAttribute('aria-label') || '').trim()"
        " && !(s.querySelector('title') && s.querySelector('title').textContent.trim()))"
        ".length;")
    if unlabelled:
        problems.append(f"{unlabelled} inline svg figure(s) without a title or aria-label")
    wide = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth];")
    if wide[0] > wide[1] + 1:
        culprits = driver.execute_script(
            "const w = window.innerWidth; return Array.from(document.body.querySelectorAll('*'))"
            ".filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 3)"
            ".map(e => e.tagName + '.' + e.className);")
        problems.append(f"horizontal overflow: page {wide[0]} px wide in a {wide[1]} px "
                        f"window ({', '.join(culprits)})")
    problems += [f"console: {e['message']}" for e in driver.get_log("browser")
                 if e["level"] in ("SEVERE", "ERROR")]
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True})
    shot.write_bytes(base64.b64decode(data["data"]))
    return problems


def test_every_report_opens_cleanly_on_phone_and_desktop(driver, reports, tmp_path):
    assert "referenda-2022" in reports
    if stations_available():
        assert {"station-forensics", "own-czech-2018", "own-crimea-2024"} <= set(reports)
    problems = {}
    for name, page in sorted(reports.items()):
        assert page.is_file(), page
        for label, width in WIDTHS.items():
            shot = tmp_path / f"{name}-{label}.png"
            found = _page_problems(driver, page, width, shot)
            assert shot.stat().st_size > 10_000, shot     # a page was drawn
            if found:
                problems[f"{name} at {width} px"] = found
    assert problems == {}


def test_every_figure_loads_and_the_console_is_clean(driver, tmp_path):
    folder = build_reports(out=tmp_path, stations="no")["referenda-2022"]
    driver.get((folder / "index.html").resolve().as_uri())
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, "
        "i.naturalWidth]);")
    assert len(images) >= 5
    broken = [src for src, complete, width in images if not (complete and width > 0)]
    assert broken == []
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    assert "The September 2022 votes" in driver.title
