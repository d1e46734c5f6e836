"""Open the report in a real headless browser (Debian's chromium).

Skipped where chromium or chromedriver is missing, except when
AUDIT_REQUIRE_BROWSER is set (as .ci/run does), where that is a failure.
"""

import os
import shutil

import pytest

from audit.reporting.report import build_reports

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


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
                "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield drv
    drv.quit()


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
