"""The document's own forecast (doc:<collection>) and `forecast aggregate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forecasting.probability import WEP_TABLE


@pytest.fixture
def dws(tmp_path: Path, make_collection, question_yaml):  # type: ignore[no-untyped-def]
    from forecasting import Workspace

    def src(quote: str, phrase: str) -> str:
        return (
            f"source: {{document: doc1, quote: '{quote}', paragraph: 1, estimative: '{phrase}'}}\n"
        )

    qy = {
        "likely-q": question_yaml["bin"].replace("id: bin", "id: likely-q")
        + src("X is likely to rise", "is likely to"),
        "hedge-q": question_yaml["bin"].replace("id: bin", "id: hedge-q")
        + src("Y could fall", "could"),
        "plain-q": question_yaml["bin"].replace("id: bin", "id: plain-q"),
    }
    ws = Workspace.init(
        tmp_path / "ws",
        analyst="alice",
        questions=[make_collection(tmp_path / "src" / "testcoll", qy)],
    )
    yield ws
    ws.close()


def test_document_forecast_maps_words_and_keeps_hedges_out(dws) -> None:  # type: ignore[no-untyped-def]
    from forecasting.docforecast import record_document_forecast

    s = record_document_forecast(dws, "testcoll")
    assert s.forecaster == "doc:testcoll"
    assert s.recorded == [("likely-q", "is likely to", WEP_TABLE["likely"].point)]
    assert s.hedges == [("hedge-q", "could")]
    (rec,) = dws.journal.records(kinds=("forecast",))
    assert rec.forecaster == "doc:testcoll" and rec.data["value"] == {"p": 0.675, "word": "likely"}
    hedges = [r.data for r in dws.journal.records(kinds=("evidence",))]
    assert hedges[0]["data"]["doc_hedge"] == "could"
    n = len(dws.journal)
    record_document_forecast(dws, "testcoll")  # idempotent
    assert len(dws.journal) == n


def test_report_counts_hedges_and_scores_the_document(dws, tmp_path: Path, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", str(dws.root), "doc-forecast", "testcoll")
    assert res.exit_code == 0 and "1 calibrated statement(s), 1 hedge(s)" in res.stdout
    dws.resolve("likely-q", "yes", source="https://example.org")
    from forecasting.reports import build_report

    data = build_report(dws, out=tmp_path / "r").data
    (doc,) = data["documents"]
    assert doc["n_hedges"] == 1 and doc["n_resolved"] == 1
    assert doc["brier01"] == pytest.approx((1 - 0.675) ** 2)


def test_aggregate_cli_pools_analysts_only_and_records(workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    workspace.predict("bin", 0.2, analyst="alice")
    workspace.predict("bin", 0.6, analyst="bob")
    workspace.write_forecast(
        workspace.question("bin"), {"p": 0.99}, forecaster="model:hazard", allowed_kinds=("model",)
    )
    res = forecast("-w", str(workspace.root), "aggregate", "-m", "mean", "-m", "median", "--json")
    assert res.exit_code == 0, res.output
    rows = {r["method"]: r for r in json.loads(res.stdout) if r["question"] == "bin"}
    assert rows["mean"]["forecasters"] == 2 and rows["mean"]["forecast"] == "40.0%"
    res = forecast("-w", str(workspace.root), "aggregate", "-m", "geometric_mean_odds", "--record")
    assert res.exit_code == 0, res.output
    (team,) = [
        r
        for r in workspace.journal.records(kinds=("forecast",))
        if r.forecaster.startswith("team:")
    ]
    # geometric mean of odds of 0.2 and 0.6: odds sqrt(0.25 * 1.5)
    odds = (0.25 * 1.5) ** 0.5
    assert team.forecaster == "team:geometric_mean_odds"
    assert team.data["value"]["p"] == pytest.approx(odds / (1 + odds))
