"""A generated report renders in headless Chromium with no console errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def _chrome():  # type: ignore[no-untyped-def]
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip(
            "headless Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,2400",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)


def test_report_renders_without_console_errors(workspace, tmp_path: Path) -> None:
    from forecasting.reports import build_report

    for who, p in (("alice", 0.8), ("bob", 0.3), ("carol", 0.55)):
        workspace.predict("bin", p, analyst=who, rationale="<b>bold?</b> & more")
        workspace.predict("closed", p, analyst=who, as_of="2020-06-01T00:00:00Z")
        workspace.predict("mc", [0.5, 0.3, 0.2], analyst=who)
    workspace.resolve("bin", "yes", source="https://example.org")
    workspace.resolve("mc", "B", source="https://example.org")
    paths = build_report(workspace, out=tmp_path / "report")
    driver = _chrome()
    try:
        driver.get(paths.html.resolve().as_uri())
        assert "Calibration report" in driver.title
        headings = [h.text for h in driver.find_elements("css selector", "h2")]
        assert "Reliability" in headings and "Question trajectories" in headings
        svgs = driver.find_elements("css selector", "svg")
        assert len(svgs) >= 3
        assert all(s.size["width"] > 100 for s in svgs[:3])
        shot = tmp_path / "report.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
    finally:
        driver.quit()
