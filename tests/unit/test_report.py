"""The calibration report: empty and partial journals, a hand-checked figure, escaping, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import ReportError
from forecasting.reports import build_report
from forecasting.reports.render import SECTIONS


def _sections_present(html: str) -> list[str]:
    return [sid for sid, _ in SECTIONS if f'id="{sid}"' in html]


def test_report_on_an_empty_journal(workspace, tmp_path: Path) -> None:
    paths = build_report(workspace, out=tmp_path / "r", charts=False)
    html = paths.html.read_text()
    assert "nothing to score yet" in html
    assert _sections_present(html) == [sid for sid, _ in SECTIONS]
    data = json.loads(paths.json.read_text())
    assert data["header"]["n_forecasts"] == 0 and data["header"]["questions"]["resolved"] == 0
    assert "nothing to score yet" in paths.markdown.read_text()


def test_report_on_a_single_unresolved_forecast(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", "70%", analyst="alice")
    paths = build_report(workspace, out=tmp_path / "r", charts=False)
    data = json.loads(paths.json.read_text())
    assert data["header"]["n_forecasts"] == 1
    assert any(
        "None of the 1 question(s) has resolved yet" in m for m in data["header"]["messages"]
    )
    assert data["forecasters"] == []
    html = paths.html.read_text()
    assert "has resolved yet" in html
    assert len(data["trajectories"]) == 1


def test_report_on_unresolved_questions_only(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.4, analyst="alice")
    workspace.predict("bin", 0.6, analyst="bob")
    workspace.predict("mc", "A=0.2,B=0.5,C=0.3", analyst="alice")
    workspace.predict("num", "0.1=10,0.5=20,0.9=40", analyst="bob")
    data = build_report(workspace, out=tmp_path / "r", charts=False).data
    assert data["header"]["questions"]["resolved"] == 0
    assert any("has resolved yet" in m for m in data["header"]["messages"])


def test_single_resolved_forecast_scores_by_hand(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.8, analyst="alice")
    workspace.resolve("bin", "no", source="https://example.org/outcome")
    data = build_report(workspace, out=tmp_path / "r", charts=False).data
    (row,) = data["forecasters"]
    assert row["forecaster"] == "alice"
    assert row["brier01_mean"] == pytest.approx(0.64)
    assert row["score"] == pytest.approx(1.28)  # the headline: time-averaged, 0-2 scale: 2 x 0.64
    assert row["log_time_avg"] == pytest.approx(-__import__("math").log(0.2))
    assert row["caution"] and "1 resolved question" in row["caution"]
    # base rate 0.2 in the question file: skill = 1 - 0.64 / (0.2 - 0)^2
    assert row["skill_vs_base_rate"] == pytest.approx(1 - 0.64 / 0.04)


def test_user_text_is_escaped(tmp_path: Path, make_collection, question_yaml) -> None:
    from forecasting import Workspace

    payload = '<script>alert("x")</script>'
    qy = question_yaml["bin"].replace('title: "Question bin?"', f"title: '{payload} title'")
    src = make_collection(tmp_path / "src" / "evil", {"bin": qy})
    ws = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    ev = ws.add_evidence(
        f"{payload} evidence",
        source="https://example.org",
        observed_at="2024-01-01",
        question_ids=["bin"],
    )
    ws.predict(
        "bin", 0.3, analyst="alice", rationale=f"{payload} rationale", evidence=[ev.record_id]
    )
    # people's handles are plain; an imported name (SOURCE:handle) may hold anything
    ws.write_forecast(ws.question("bin"), {"p": 0.6}, forecaster=f"pb:{payload}")
    ws.resolve("bin", "yes", source="https://example.org")
    paths = build_report(ws, out=tmp_path / "r")
    html = paths.html.read_text()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html, flags=re.IGNORECASE)  # no event handlers
    assert "javascript:" not in html.lower()


def test_report_cli_writes_three_files(workspace, forecast, tmp_path: Path) -> None:
    workspace.predict("bin", 0.8, analyst="alice")
    workspace.resolve("bin", "yes", source="https://example.org")
    out = tmp_path / "rep"
    res = forecast("-w", str(workspace.root), "report", "--out", str(out), "--no-progress")
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} >= {"report.html", "report.md", "report.json"}
    assert "report written" in res.stdout


def test_report_unknown_analyst_is_refused(workspace, forecast, tmp_path: Path) -> None:
    workspace.predict("bin", 0.8, analyst="alice")
    with pytest.raises(ReportError, match="'nobody' has no forecasts"):
        build_report(workspace, out=tmp_path / "r", analyst="nobody", charts=False)
    res = forecast(
        "-w", str(workspace.root), "report", "--analyst", "nobody", "--out", str(tmp_path / "r2")
    )
    assert res.exit_code == 2
    assert "Traceback" not in res.output and "nobody" in res.stderr


def test_filters_by_tag_and_since(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.8, analyst="alice")
    workspace.predict("mc", [0.2, 0.3, 0.5], analyst="alice")
    data = build_report(workspace, out=tmp_path / "r", tag="no-such-tag", charts=False).data
    assert data["header"]["n_forecasts"] == 0
    data = build_report(workspace, out=tmp_path / "r", since="2098-01-01", charts=False).data
    assert data["header"]["n_forecasts"] == 0
    data = build_report(workspace, out=tmp_path / "r", tag="t1", charts=False).data
    assert data["header"]["n_forecasts"] == 2


def test_report_refuses_a_tampered_journal_unless_told(workspace, tmp_path: Path, forecast) -> None:
    import sqlite3

    from forecasting.errors import ChainError

    workspace.predict("bin", 0.8, analyst="alice")
    workspace.resolve("bin", "yes", source="https://example.org")
    db = workspace.db_url.split("///", 1)[1]
    con = sqlite3.connect(db)
    con.execute(
        "UPDATE records SET payload = replace(payload, '0.8', '0.9') WHERE kind = 'forecast'"
    )
    con.commit()
    con.close()
    with pytest.raises(ChainError, match="no report is built on a tampered journal"):
        build_report(workspace, out=tmp_path / "r", charts=False)
    res = forecast(
        "-w", str(workspace.root), "report", "--out", str(tmp_path / "r"), "--no-progress"
    )
    assert res.exit_code == 1 and "edited" in res.stderr
    paths = build_report(workspace, out=tmp_path / "r2", allow_broken_chain=True, charts=False)
    assert "JOURNAL CHAIN BROKEN" in paths.html.read_text()
    assert paths.data["header"]["chain_ok"] is False


def test_forecasts_after_the_end_are_left_out_of_every_score(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.3, analyst="alice", as_of="2024-01-01T00:00:00Z")
    # an import can carry a forecast dated after the outcome became known (written before
    # the resolution record: after it, every writer refuses forecasts)
    workspace.predict("bin", 0.99, analyst="alice", as_of="2024-02-05T00:00:00Z")
    workspace.resolve("bin", "yes", source="https://example.org", as_of="2024-02-01T00:00:00Z")
    data = build_report(workspace, out=tmp_path / "r", charts=False).data
    (row,) = data["forecasters"]
    assert row["n_forecasts"] == 1
    assert row["brier01_mean"] == pytest.approx(0.49)
    assert any(
        "1 forecast(s) dated at or after their question's end" in m
        for m in data["header"]["messages"]
    )


def test_backfilled_forecasts_can_be_excluded(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.3, analyst="alice", as_of="2024-01-01T00:00:00Z")  # back-filled
    workspace.predict("bin", 0.6, analyst="bob")
    workspace.resolve("bin", "yes", source="https://example.org")
    all_ = build_report(workspace, out=tmp_path / "r", charts=False).data
    assert all_["backfilled"]["n"] == 1
    live = build_report(workspace, out=tmp_path / "r2", exclude_backfilled=True, charts=False).data
    assert [r["forecaster"] for r in live["forecasters"]] == ["bob"]
    assert live["header"]["filters"]["exclude_backfilled"] is True


def test_analyst_model_section_needs_enough_data(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.8, analyst="alice")
    workspace.resolve("bin", "yes", source="https://example.org")
    data = build_report(workspace, out=tmp_path / "r", analyst_model=True, charts=False).data
    assert (
        "needs at least 2 analysts and 5 resolved binary questions"
        in data["analyst_model"]["message"]
    )
    html = build_report(workspace, out=tmp_path / "r2", charts=False).html.read_text()
    assert 'id="analyst-model"' in html and "--analyst-model" in html


@pytest.mark.slow
def test_analyst_model_section_orders_simulated_analysts(tmp_path: Path) -> None:
    """SIMULATED: an analyst who doubles the log-odds gets a larger scale `a` than one who halves them."""
    import numpy as np

    from forecasting import Workspace
    from forecasting.questions import Question

    rng = np.random.default_rng(5)
    ws = Workspace.init(tmp_path / "ws", analyst="x")
    for i in range(40):
        q = Question(
            id=f"sim-{i}",
            type="binary",
            title=f"SIMULATED {i}",
            resolution_criteria="simulated",
            resolution_sources=["simulation"],
            open_at="2024-01-01T00:00:00Z",
            close_at="2024-06-01T00:00:00Z",
            resolve_by="2024-07-01T00:00:00Z",
        )
        z = rng.normal(0, 1.5)
        for who, scale in (("doubler", 2.0), ("honest", 1.0), ("halver", 0.5)):
            x = scale * z + rng.normal(0, 0.3)
            ws.predict(
                q.id,
                float(np.clip(1 / (1 + np.exp(-x)), 0.01, 0.99)),
                analyst=who,
                question=q,
                as_of="2024-02-01T00:00:00Z",
            )
        ws.resolve(
            q.id,
            "yes" if rng.uniform() < 1 / (1 + np.exp(-z)) else "no",
            source="SIMULATED",
            question=q,
            as_of="2024-06-01T00:00:00Z",
        )
    am = build_report(ws, out=tmp_path / "r", analyst_model=True, charts=False).data[
        "analyst_model"
    ]
    a = {r["forecaster"]: r["a"] for r in am["analysts"]}
    assert a["doubler"] > a["honest"] > a["halver"]
    assert am["converged"]


# --------------------------------------------------------------------------- fast paths
# Each vectorised helper of the report beside the plain computation it replaces: the same
# numbers, bit for bit (the report's JSON must not change), and the fast one is what runs.


def _random_scores(seed: int, rows: int, cols: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(rows, cols)) * 10.0 ** rng.integers(-3, 3, size=(rows, 1))
    a[rng.uniform(size=a.shape) < rng.uniform(0, 1, size=(rows, 1))] = np.nan
    a[0] = np.nan  # a row with nothing
    return a


@pytest.mark.parametrize("seed", range(5))
def test_row_quantiles_are_numpys_nanquantile(seed: int) -> None:
    from forecasting.reports.stats import row_nanquantiles

    a = _random_scores(seed, 40, 300)
    got = row_nanquantiles(a, (0.05, 0.95))
    for row, q in zip(a, got, strict=True):
        if np.isnan(row).all():
            assert np.isnan(q).all()
        else:
            assert q[0] == np.nanquantile(row, 0.05) and q[1] == np.nanquantile(row, 0.95)


def _bootstrap_table(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(f"w{w}", f"q{q}") for w in range(12) for q in range(60) if rng.uniform() < 0.4]
    t = pd.DataFrame(rows, columns=["forecaster", "question_id"])
    t["forecaster"] = t["forecaster"].astype("category")
    t["a"] = rng.uniform(0, 2, len(t))
    t["b"] = np.where(rng.uniform(size=len(t)) < 0.1, np.nan, rng.uniform(0, 5, len(t)))
    return t


def test_bootstrap_means_match_a_loop_over_groups_and_run_without_nanquantile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from forecasting.reports import stats
    from forecasting.reports.stats import QuestionBootstrap

    t = _bootstrap_table(1)
    boot = QuestionBootstrap.draw(t["question_id"], n_boot=200, seed=0)
    monkeypatch.setattr(stats.np, "nanquantile", None)  # the fast path never calls it
    out = boot.means_of(t, by="forecaster", values=("a", "b"))
    monkeypatch.undo()
    for value in ("a", "b"):
        for who, g in t.dropna(subset=[value]).groupby("forecaster", observed=True):
            w = boot.weights[:, boot.questions.get_indexer(g["question_id"])].astype(float)
            den = w.sum(axis=1)
            reps = np.where(den > 0, w @ g[value].to_numpy() / np.where(den > 0, den, 1), np.nan)
            row = out[value].loc[who]
            assert row["mean"] == pytest.approx(g[value].mean(), rel=1e-12)
            assert row["n"] == len(g)
            lo, hi = np.nanquantile(reps, [0.05, 0.95])
            assert row["low"] == pytest.approx(lo, rel=1e-9)
            assert row["high"] == pytest.approx(hi, rel=1e-9)
    # one column at a time gives the same bits as both together (shared denominators)
    pd.testing.assert_frame_equal(out["b"], boot.means(t, by="forecaster", value="b"))


def test_bootstrap_denominators_in_float32_are_the_float64_ones() -> None:
    from scipy import sparse

    from forecasting.reports.stats import QuestionBootstrap

    t = _bootstrap_table(2)
    boot = QuestionBootstrap.draw(t["question_id"], n_boot=300, seed=4)
    lay = boot._layout(t, "forecaster", np.ones(len(t), dtype=bool))
    counts = sparse.csr_matrix(
        (np.ones(len(lay.g)), (lay.g, lay.qpos)), shape=(len(lay.groups), len(boot.questions))
    )
    assert np.array_equal(lay.den, np.asarray(counts @ boot.weights.T.astype(np.float64)))


def test_nanmean_is_the_series_mean() -> None:
    from forecasting.reports.sections import nanmean

    rng = np.random.default_rng(7)
    for n in (1, 2, 7, 128, 129, 1000, 5001):
        x = rng.normal(size=n) * 1e3
        assert nanmean(x) == pd.Series(x).mean()
        x[rng.uniform(size=n) < 0.3] = np.nan
        want = pd.Series(x).mean()
        assert nanmean(x) == want or (np.isnan(want) and np.isnan(nanmean(x)))


def _forecast_rows(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 400
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    f = pd.DataFrame(
        {
            "seq": rng.permutation(n),
            "question_id": pd.Categorical(
                [f"q{i}" for i in rng.integers(0, 15, n)], categories=[f"q{i}" for i in range(20)]
            ),
            "forecaster": pd.Categorical([f"w{i}" for i in rng.integers(0, 6, n)]),
            "as_of": t0 + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),  # many ties
            "close_at": t0 + pd.Timedelta(days=25),
            "resolved_at": t0 + pd.Timedelta(days=40),
            "tags": [
                [(), ("a",), ("b", "a"), ("a", "a"), ("x", 3)][i % 5] for i in rng.integers(0, 5, n)
            ],
        }
    )
    f.loc[f["question_id"] == "q3", "resolved_at"] = t0 + pd.Timedelta(days=10)
    f["tags"] = f.groupby("question_id", observed=True)["tags"].transform("first")
    return f


@pytest.mark.parametrize("seed", range(3))
def test_first_forecasts_are_the_sorted_groups_first_rows(seed: int) -> None:
    from forecasting.reports.sections import first_forecasts, in_window

    f = _forecast_rows(seed)
    sub = f[in_window(f)].sort_values(["question_id", "forecaster", "as_of", "seq"])
    want = sub.groupby(["question_id", "forecaster"], sort=False, observed=True).head(1)
    pd.testing.assert_frame_equal(first_forecasts(f), want)


def test_tag_pairs_are_the_exploded_rows_in_order() -> None:
    from forecasting.reports.sections import _tag_rows

    f = _forecast_rows(0).reset_index(drop=True)
    ex = f.explode("tags")
    want = [(int(i), t) for i, t in zip(ex.index, ex["tags"], strict=True) if isinstance(t, str)]
    names, rows, tag = _tag_rows(f)
    got = [(int(r), names[k]) for r, k in zip(rows, tag, strict=True)]
    assert got == want


def test_a_report_without_linked_questions_or_decisions_skips_building_every_question(
    tmp_path: Path, make_collection, question_yaml, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting import Workspace
    from forecasting.questions import Question

    src = make_collection(tmp_path / "src" / "c", {"bin": question_yaml["bin"]})
    ws = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    ws.predict("bin", 0.3)
    ws.resolve("bin", "yes", source="https://example.org")

    def refuse(self: Workspace) -> None:
        raise AssertionError("every question was built")

    monkeypatch.setattr(Workspace, "questions", refuse)
    data = build_report(ws, out=tmp_path / "r", charts=False).data
    assert data["coherence"] == [] and data["decisions"] == []
    monkeypatch.undo()
    mc = Question(
        id="mc-journal", type="multiple_choice", title="Which?", options=["A", "B", "C"],
        resolution_criteria="x", resolution_sources=["y"], open_at="2024-01-01T00:00:00Z",
        close_at="2099-01-01T00:00:00Z", resolve_by="2099-02-01T00:00:00Z",
    )  # fmt: skip
    ws.predict("mc-journal", [0.5, 0.3, 0.2], question=mc)  # options: coherence is checked
    monkeypatch.setattr(Workspace, "questions", refuse)
    with pytest.raises(AssertionError, match="every question was built"):
        build_report(ws, out=tmp_path / "r2", charts=False)
    monkeypatch.undo()
    assert build_report(ws, out=tmp_path / "r3", charts=False).data["coherence"] == []


def test_the_report_names_forecasts_retracted_after_the_outcome_was_known(
    workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from forecasting.reports import build_report

    early = workspace.predict("bin", "40%", analyst="alice")
    late = workspace.predict("bin", "95%", analyst="bob")
    workspace.retract(early.record_id, "typo, before the outcome")
    workspace.resolve("bin", "no", source="https://example.org/outcome")
    workspace.retract(late.record_id, "after the fact", after_resolution=True)
    out = build_report(workspace, out=tmp_path / "rep", charts=False)
    messages = out.data["header"]["messages"]
    line = [m for m in messages if "retracted after their question's outcome" in m]
    assert line == [
        "1 forecast(s) were retracted after their question's outcome was known, and are left "
        f"out of every score: {late.record_id} by bob on bin."
    ]
    assert line[0] in out.markdown.read_text()
    assert early.record_id not in line[0]
