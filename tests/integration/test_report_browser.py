"""A generated report renders in headless Chromium: every section, no console errors, and a
screenshot of the front page kept as an artefact (tests/artifacts/report-front.png)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forecasting.reports.render import SECTIONS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def chrome(height: int = 2400):  # type: ignore[no-untyped-def]
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
        f"--window-size=1280,{height}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)


def test_report_renders_every_section_without_console_errors(workspace, tmp_path: Path) -> None:
    from forecasting.reports import build_report

    for who, p in (("alice", 0.8), ("bob", 0.3), ("carol", 0.55)):
        workspace.predict("bin", p, analyst=who, rationale="<b>bold?</b> & more")
        workspace.predict("closed", p, analyst=who, as_of="2020-06-01T00:00:00Z")
        workspace.predict("mc", [0.5, 0.3, 0.2], analyst=who)
        workspace.predict("num", "0.1=10,0.5=20,0.9=40", analyst=who)
    workspace.resolve("bin", "yes", source="https://example.org")
    workspace.resolve("mc", "B", source="https://example.org")
    workspace.resolve("num", "25", source="https://example.org")
    paths = build_report(workspace, out=tmp_path / "report")
    driver = chrome()
    try:
        driver.get(paths.html.resolve().as_uri())
        assert "Calibration report" in driver.title
        for sid, heading in SECTIONS:
            el = driver.find_element("id", sid)
            assert el.is_displayed() and heading in el.text, sid
        svgs = driver.find_elements("css selector", "svg.fc-plot")
        assert len(svgs) >= 3
        assert all(s.size["width"] > 100 for s in svgs)
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "report-front.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
    finally:
        driver.quit()


def test_injected_markup_does_not_run(tmp_path: Path, make_collection, question_yaml) -> None:  # type: ignore[no-untyped-def]
    from forecasting import Workspace
    from forecasting.reports import build_report

    payload = '<img src=x onerror="document.title=`pwned`"><script>document.title=`pwned`</script>'
    qy = question_yaml["bin"].replace('title: "Question bin?"', f"title: '{payload}'")
    src = make_collection(tmp_path / "src" / "evil", {"bin": qy})
    ws = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    ws.predict("bin", 0.3, rationale=payload)
    ws.write_forecast(ws.question("bin"), {"p": 0.6}, forecaster=f"pb:{payload}")
    ws.resolve("bin", "yes", source="https://example.org")
    paths = build_report(ws, out=tmp_path / "r")
    driver = chrome(1200)
    try:
        driver.get(paths.html.resolve().as_uri())
        assert driver.title != "pwned"
        assert "pwned" not in driver.execute_script("return document.title")
    finally:
        driver.quit()
