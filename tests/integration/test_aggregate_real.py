"""Team forecasts on an imported workspace (real PredictionBook data, ../shared/data).

The scale issue found that ``forecast aggregate`` said "no forecasts to pool" on an imported
workspace although the report listed the imported users (``pb:*``) as analysts, and that
every method crashed on an exact 1.0.  Here every method pools the people the report calls
analysts, exact 0s and 1s included, and the performance weights see past questions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import Workspace
from forecasting.aggregation import RULES, team_forecasts
from forecasting.forecasters import analyst_mask
from forecasting.importers import import_predictionbook

pytestmark = pytest.mark.slow

METHODS = [m for m in RULES if m != "bayesian"]  # the analyst model has its own tests


@pytest.fixture(scope="module")
def pb(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Workspace:
    folder = shared_data / "predictionbook"
    if not folder.is_dir():
        pytest.skip(f"PredictionBook data not found at {folder}")
    ws = Workspace.init(tmp_path_factory.mktemp("pb") / "ws")
    import_predictionbook(ws, folder, skip_bad=True)
    return ws


def test_imported_people_are_the_analysts_pooled(pb: Workspace) -> None:
    frame = pb.forecasts_frame()
    who = frame["forecaster"].astype(str)
    assert who.str.startswith("pb:").all() and analyst_mask(who).all()
    # the data hold exact certainties, which used to crash every method
    assert ((frame["p"] == 1.0) | (frame["p"] == 0.0)).any()


def test_every_method_pools_the_imported_people_at_a_past_date(pb: Workspace) -> None:
    frame = pb.forecasts_frame()
    # a date by which many questions are open and many have resolved (their median close)
    at = pd.Timestamp(frame["close_at"].median()).to_pydatetime()
    out = team_forecasts(pb, METHODS, at=at, frame=frame)
    assert out.errors == {}, out.errors
    table = out.table
    assert set(table["method"]) == set(METHODS)
    binary = table[table["question_type"] == "binary"]
    assert len(binary) > 100
    assert binary["p"].between(0.0, 1.0).all() and binary["p"].notna().all()
    assert (binary["n_forecasters"] >= 1).all()
    # performance weights and the fitted extremizing factor had past questions to learn from
    assert not any("no forecasts" in n for n in out.notes)
    ext = binary[binary["method"] == "extremized"]["a"]
    assert ext.notna().all() and (ext > 0).all()
    # the mean pool of one question equals the mean of its people's standing forecasts
    q = binary[binary["method"] == "mean"].sort_values("n_forecasters").iloc[-1]
    sub = frame[(frame["question_id"] == q["question_id"]) & (frame["as_of"] <= at)]
    standing = sub.sort_values(["as_of", "seq"]).groupby("forecaster", observed=True).tail(1)
    assert q["p"] == pytest.approx(float(np.mean(standing["p"])), abs=1e-12)
