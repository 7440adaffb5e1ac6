"""The team server end to end in headless Chromium: sign in, forecast in percent and in
words, see it on the dashboard, comment, sign out; and markup typed by users never runs.

Screenshots of every page are kept in ``tests/artifacts/`` (server-*.png).
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PAYLOAD = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
PASSWORDS = {"admin": "admin-password-1", "alice": "alice-password-1", "bob": "bob-password-1"}


def _chrome(profile: Path) -> Any:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip(
            "headless Chromium and chromedriver are not installed "
            "(apt-get install chromium chromium-driver)"
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
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, make_collection, question_yaml) -> Iterator[tuple[str, Any]]:  # type: ignore[no-untyped-def]
    """A workspace with users and a few forecasts, served by uvicorn in a thread."""
    import uvicorn

    from forecasting import Workspace
    from forecasting.accounts import Accounts
    from forecasting.server import create_app

    qs = dict(question_yaml)
    title = "title: '" + PAYLOAD.replace("'", "''") + "'"
    qs["xss"] = qs["bin"].replace("id: bin", "id: xss").replace('title: "Question bin?"', title)
    src = make_collection(tmp_path / "src" / "testcoll", qs)
    ws = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    acc = Accounts(ws)
    for name, role in (("admin", "admin"), ("alice", "analyst"), ("bob", "analyst")):
        acc.add_user(name, role, PASSWORDS[name])
    ws.predict(
        "bin", "60%", analyst="bob", rationale="Base rate is about a half; news tilts it up."
    )
    ws.predict("mc", "A=0.2,B=0.5,C=0.3", analyst="bob")
    ws.predict("num", "0.1=9000,0.5=11000,0.9=14000", analyst="bob")
    ws.add_evidence(
        "Officials confirm the deployment",
        source="https://example.org/news/1",
        observed_at="2024-06-01",
        question_ids=["bin"],
        by="bob",
    )
    app = create_app(ws, cache_dir=tmp_path / "cache")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the server did not start within 20 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", ws
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ws.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    driver = _chrome(profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _shot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(700, min(int(height) + 40, 4000)))
    path = ARTIFACTS / f"server-{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)
    assert path.stat().st_size > 5_000
    return path


def _sign_in(driver: Any, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/")
    assert "/login" in driver.current_url  # anonymous: sent to the sign-in page
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[name])
    _submit(driver, "form[action='/login'] button")


def _submit(driver: Any, css: str) -> None:
    """Click a form's button and wait for the next page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, css).click()
    WebDriverWait(driver, 15).until(ec.staleness_of(old))


def _forecast(driver: Any, base: str, qid: str, value: str, rationale: str = "") -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/questions/{qid}")
    box = driver.find_element(By.ID, "value")
    box.clear()
    box.send_keys(value)
    if rationale:
        driver.find_element(By.ID, "rationale").send_keys(rationale)
    _submit(driver, ".forecast-form button")


def _no_console_errors(driver: Any) -> None:
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []


def test_sign_in_forecast_comment_sign_out(served: tuple[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    base, ws = served
    d = browser
    d.get(base + "/")
    _shot(d, "login")
    _sign_in(d, base, "alice")
    assert d.current_url == base + "/"
    assert d.find_element(By.CSS_SELECTOR, ".who").text.startswith("alice")
    _no_console_errors(d)

    # forecast in percent, then in words
    _forecast(d, base, "bin", "70%", rationale="First look: " + PAYLOAD)
    assert "Recorded in the journal" in d.find_element(By.CSS_SELECTOR, ".note").text
    _forecast(d, base, "bin", "very likely", rationale="The news tipped it.")
    mine = d.find_element(By.CSS_SELECTOR, "tr.me").text
    assert "87.5% (very likely)" in mine
    # a bad value: the CLI's message next to the field, nothing recorded
    n = len(ws.journal)
    _forecast(d, base, "bin", "150%")
    err = d.find_element(By.ID, "err-value").text
    assert err.startswith("probability: '150%' is not allowed")
    assert len(ws.journal) == n
    _shot(d, "forecast-error")
    logged = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert all("status of 422" in m for m in logged), logged  # the form page came back as 422

    # see it on the dashboard
    _submit(d, "header a.brand")
    row = d.find_element(By.XPATH, "//tr[.//span[@class='qid' and starts-with(text(), 'bin ')]]")
    assert "88%" in row.text and "just now" in row.text
    _shot(d, "dashboard")

    # comment (with markup that must stay text)
    d.get(base + "/questions/bin")
    d.find_element(By.ID, "comment-text").send_keys("Agree with bob. " + PAYLOAD)
    _submit(d, ".comment-form button")
    entries = d.find_elements(By.CSS_SELECTOR, "ol.thread li.entry")
    assert any("Agree with bob. <script>" in e.text for e in entries)
    assert any("First look: <script>" in e.text for e in entries)  # the rationale, inline
    assert d.title == "Question bin? · Team forecasts"
    assert d.find_elements(By.CSS_SELECTOR, "ol.thread script, ol.thread img") == []
    img = d.find_element(By.CSS_SELECTOR, "img.chart")
    assert d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 300
    _shot(d, "question")
    _no_console_errors(d)

    # the other pages
    d.get(base + "/questions/mc")
    _shot(d, "question-mc")
    d.get(base + "/questions/num")
    _shot(d, "question-numeric")
    d.get(base + "/me")
    assert "My track record" in d.find_element(By.TAG_NAME, "h1").text
    _shot(d, "track-record")
    d.get(base + "/report")
    assert "report" in d.title.lower()
    _shot(d, "team-report")
    d.get(base + "/api-docs")
    assert d.find_elements(By.XPATH, "//code[text()='/api/forecasts']")
    _shot(d, "api-docs")
    _no_console_errors(d)

    # sign out: back to the sign-in page, and the pages are closed again
    d.get(base + "/")
    _submit(d, "form.signout button")
    assert "/login" in d.current_url
    assert "signed out" in d.find_element(By.CSS_SELECTOR, ".note").text
    d.get(base + "/questions/bin")
    assert "/login" in d.current_url
    _shot(d, "signed-out")

    recs = ws.journal.records(kinds=("forecast", "comment"), question_id="bin")
    assert [r.forecaster for r in recs if r.forecaster == "alice"] == ["alice"] * 3
    assert ws.verify(full=True).ok


def test_markup_in_a_question_title_does_not_run(served: tuple[str, Any], browser: Any) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    base, _ws = served
    d = browser
    _sign_in(d, base, "admin")
    d.get(base + "/")
    assert PAYLOAD in d.find_element(By.TAG_NAME, "tbody").text
    d.get(base + "/questions/xss")
    assert d.find_element(By.CSS_SELECTOR, "h1.qtitle").text == PAYLOAD
    assert d.title == PAYLOAD + " · Team forecasts"  # shown as text; the script never set it
    with pytest.raises(NoAlertPresentException):
        _ = d.switch_to.alert.text
    assert d.find_elements(By.CSS_SELECTOR, "main h1 script, main h1 img") == []
    _shot(d, "question-admin")
    d.get(base + "/admin/users")
    assert "alice" in d.find_element(By.CSS_SELECTOR, "table.users").text
    _shot(d, "users")
    d.get(base + "/me")
    _submit(d, "form[action='/me/token'] button")
    assert d.find_element(By.CSS_SELECTOR, "pre.token").text.startswith("fct_")
    _shot(d, "token")
    _no_console_errors(d)


def test_a_viewer_sees_no_forms(served: tuple[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    base, ws = served
    from forecasting.accounts import Accounts

    Accounts(ws).add_user("vera", "viewer", "vera-password-1")
    PASSWORDS["vera"] = "vera-password-1"
    d = browser
    _sign_in(d, base, "vera")
    d.get(base + "/questions/bin")
    assert d.find_elements(By.CSS_SELECTOR, ".forecast-form") == []
    assert d.find_elements(By.CSS_SELECTOR, ".comment-form") == []
    assert "can read but not forecast" in d.find_element(By.ID, "forecast").text
