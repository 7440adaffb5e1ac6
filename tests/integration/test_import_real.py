"""Real-data evidence: import each shared dataset and check the toolkit's figures against
figures computed independently from the raw files with plain csv/json/NumPy.

The toolkit side goes importer → journal → ``forecasts_frame`` → ``score_forecasts``; the
independent side never touches the toolkit.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from forecasting import ImportFormatError, Workspace
from forecasting.importers import import_forecastbench, import_gjp, import_predictionbook
from forecasting.journal.frames import resolutions_frame
from forecasting.scoring import score_forecasts

pytestmark = [pytest.mark.data, pytest.mark.slow]


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    w = Workspace.init(tmp_path / "ws")
    yield w
    w.close()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------------------------- GJP
def test_gjp(ws: Workspace, shared_data: Path) -> None:
    folder = shared_data / "gjp"
    ifps = _rows(folder / "ifps.csv")
    fc = _rows(folder / "survey_fcasts_mini.yr1.csv")

    # independent: resolved questions, and the 0–2 Brier of every complete forecast
    n_closed = sum(r["q_status"] == "closed" for r in ifps)
    outcome = {r["ifp_id"]: r["outcome"] for r in ifps if r["q_status"] == "closed"}
    n_opts = {r["ifp_id"]: int(r["n_opts"]) for r in ifps}
    by_fid: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in fc:
        by_fid[r["forecast_id"]].append(r)
    complete = {
        fid: g
        for fid, g in by_fid.items()
        if len(g) == n_opts[g[0]["ifp_id"]] and abs(sum(float(r["value"]) for r in g) - 1) < 0.011
    }
    briers = [
        sum((float(r["value"]) - (r["answer_option"] == outcome[g[0]["ifp_id"]])) ** 2 for r in g)
        for g in complete.values()
        if g[0]["ifp_id"] in outcome
    ]
    assert len(by_fid) - len(complete) == 1  # the file ends part-way through a forecast

    # toolkit: the truncated forecast is a malformed row; --skip-bad imports the rest
    with pytest.raises(ImportFormatError, match=r"survey_fcasts_mini\.yr1\.csv:10000: value"):
        import_gjp(ws, folder)
    s = import_gjp(ws, folder, skip_bad=True)
    assert s.n_skipped == 1 and s.forecasts_imported == len(complete)
    r = resolutions_frame(ws.journal)
    assert int((~r.annulled).sum()) == n_closed == 498
    assert int(r.annulled.sum()) == len(ifps) - n_closed
    scored = score_forecasts(ws.forecasts_frame())
    scored = scored[scored.resolved]
    assert len(scored) == len(briers)
    assert scored.brier2.mean() == pytest.approx(np.mean(briers), rel=1e-9)
    assert scored.forecaster.nunique() == len({r["user_id"] for g in complete.values() for r in g})
    # idempotent on the real files too
    assert import_gjp(ws, folder, skip_bad=True).imported == 0


# -------------------------------------------------------------------------- PredictionBook
def test_predictionbook(ws: Workspace, shared_data: Path) -> None:
    folder = shared_data / "predictionbook"
    qs = _rows(folder / "questions.csv")
    pub = _rows(folder / "public.csv")
    n_resolved = sum(r["outcome"] in ("0.0", "1.0") for r in qs)
    n_annulled = sum(r["outcome"] == "-1.0" for r in qs)
    user = "gwern"
    seen, errs = set(), []
    for r in pub:
        key = tuple(r.values())
        if r["user_id"] != user or key in seen:
            continue
        seen.add(key)
        if r["outcome"] in ("0.0", "1.0"):
            errs.append((float(r["probability"]) - float(r["outcome"])) ** 2)

    s = import_predictionbook(ws, folder)
    assert s.forecasts_imported + s.n_skipped == len(pub)
    assert s.reasons() == {"duplicate": s.n_skipped}
    r = resolutions_frame(ws.journal)
    assert int((~r.annulled).sum()) == n_resolved
    assert int(r.annulled.sum()) == n_annulled
    f = score_forecasts(ws.forecasts_frame())
    mine = f[(f.forecaster == f"pb:{user}") & f.resolved]
    assert len(mine) == len(errs) > 1000
    assert mine.brier.mean() == pytest.approx(np.mean(errs), rel=1e-12)
    # probabilities of exactly 0 and 1 are kept
    assert (f.p == 0).sum() > 0 and (f.p == 1).sum() > 0


# --------------------------------------------------------------------------- ForecastBench
def test_forecastbench(ws: Workspace, shared_data: Path) -> None:
    folder = shared_data / "forecastbench"
    qset = json.loads((folder / "2024-07-21-human.json").read_text())
    rset = json.loads((folder / "2024-07-21_resolution_set.json").read_text())
    markets = ("metaculus", "infer", "manifold", "polymarket")
    freeze = {
        (q["source"], q["id"]): float(q["freeze_datetime_value"])
        for q in qset["questions"]
        if q["source"] in markets
    }
    resolved = [r for r in rset["resolutions"] if r["resolved"]]
    market_res = [r for r in resolved if r["source"] in markets]
    errs = [(freeze[(r["source"], r["id"])] - r["resolved_to"]) ** 2 for r in market_res]
    assert len(errs) == 57  # ForecastBench reports on the 57 resolved market questions

    s = import_forecastbench(ws, folder)
    assert s.n_skipped == 0
    # one manifold market closes in the year 2525: imported, its close stored as 2200-12-31
    assert s.notes == [
        "1 questions close or resolve after 2200-12-31; their dates are stored as 2200-12-31, "
        "the latest date the toolkit accepts"
    ]
    r = resolutions_frame(ws.journal)
    assert len(r) == len(resolved) and not r.annulled.any()
    f = score_forecasts(ws.forecasts_frame())
    crowd = f[f.forecaster.str.startswith("crowd:") & f.resolved]
    assert len(crowd) == 57
    assert crowd.brier.mean() == pytest.approx(np.mean(errs), rel=1e-12)
    n_dataset = sum(
        len(q["resolution_dates"]) for q in qset["questions"] if q["source"] not in markets
    )
    assert s.questions_imported == len(freeze) + n_dataset
