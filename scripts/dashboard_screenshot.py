"""Regenerate docs/img/dashboard.png: the team server's dashboard on the Kursk set as it could
have looked on 1 March 2025, with SIMULATED analysts.

    .venv/bin/python scripts/dashboard_screenshot.py [--out docs/img/dashboard.png]

The workspace is built in a temporary folder with a clock fixed at 2025-03-01 12:00 UTC: the
document's forecast and the models' priors (dated when the set was framed), then five
SIMULATED analysts (names ``sim-*``) who forecast the binary questions near the model's prior,
with noise, on random days before that date.  The server runs in this process (uvicorn in a
thread); headless Chromium signs in as ``sim-anna`` and photographs the top of the dashboard,
with its "forecast these first" list (the Kursk decision files).  Needs chromium and
chromedriver.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
ANALYSTS = ("sim-anna", "sim-ben", "sim-chen", "sim-dana", "sim-eli")
PASSWORD = "simulated-password"


def build(folder: Path) -> object:
    from forecasting import Workspace
    from forecasting.accounts import Accounts
    from forecasting.demo.replay import record_priors

    Workspace.init(
        folder, analyst="sim-anna", questions=[ROOT / "questions" / "kursk-2024"]
    ).close()
    ws = Workspace.open(folder, clock=lambda: NOW)
    record_priors(ws)
    frame = ws.forecasts_frame()
    models = frame[frame["forecaster"].astype(str).str.startswith("model:")]
    prior = dict(zip(models["question_id"].astype(str), models["p"], strict=True))
    rng = np.random.default_rng(2025)
    start = datetime(2024, 11, 16, tzinfo=UTC)
    for qid, q in sorted(ws.questions().items()):
        p0 = prior.get(qid)
        if q.type != "binary" or p0 is None or np.isnan(p0) or q.close_at < NOW:
            continue
        for who in ANALYSTS:
            for _ in range(int(rng.integers(1, 3))):
                x = np.log(p0 / (1 - p0)) + rng.normal(0, 0.6)
                p = float(np.clip(1 / (1 + np.exp(-x)), 0.02, 0.98))
                when = start + timedelta(days=float(rng.uniform(0, (NOW - start).days - 1)))
                ws.predict(qid, round(p, 2), analyst=who, as_of=when, rationale="SIMULATED")
    acc = Accounts(ws)
    for who in ANALYSTS:
        acc.add_user(who, "analyst", PASSWORD)
    return ws


def shoot(ws: object, out: Path) -> None:
    import uvicorn
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    from forecasting.server import create_app

    app = create_app(ws)
    app.state.server.priorities(wait=True)  # the ranking is on the first view
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1100",
                f"--user-data-dir={profile}"):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        base = f"http://127.0.0.1:{port}"
        driver.get(base + "/login")
        driver.find_element(By.NAME, "name").send_keys("sim-anna")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        driver.get(base + "/")
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        server.should_exit = True
        thread.join(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "dashboard.png")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = build(Path(tmp) / "ws")
        shoot(ws, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
