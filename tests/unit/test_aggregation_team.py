"""Team forecasts: standing forecasts, the rule registry, no look-ahead, lazy PyMC import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import forecasting.aggregation as agg
from forecasting.aggregation import aggregate, standing_forecasts
from forecasting.errors import ConfigError, InvalidForecastError

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def day(n: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=n)


def make_frame(rows, questions):
    """rows: (question_id, forecaster, as_of day, p | probs | value); questions: id -> info."""
    recs = []
    for seq, (qid, who, t, v) in enumerate(rows, start=1):
        q = questions[qid]
        qtype = q.get("type", "binary")
        recs.append(
            {
                "seq": seq,
                "question_id": qid,
                "forecaster": who,
                "as_of": day(t),
                "question_type": qtype,
                "p": v if qtype == "binary" else np.nan,
                "probs": tuple(v) if qtype == "multiple_choice" else None,
                "value": {"p": v}
                if qtype == "binary"
                else ({"probs": list(v)} if qtype == "multiple_choice" else v),
                "resolved": q.get("outcome") is not None,
                "annulled": False,
                "outcome": np.nan if q.get("outcome") is None else float(q["outcome"]),
                "resolved_at": day(q["resolved"]) if "resolved" in q else pd.NaT,
                "close_at": day(q["close"]) if "close" in q else pd.NaT,
            }
        )
    return pd.DataFrame(recs)


QS = {"q1": {}, "q2": {}}


def pooled(frame, method, **kw):
    """question id -> pooled value dict."""
    t = aggregate(frame, method, **kw)
    return dict(zip(t["question_id"], t["value"], strict=True))


def test_standing_forecasts_latest_before_at_and_no_team():
    f = make_frame(
        [
            ("q1", "alice", 1, 0.2),
            ("q1", "alice", 5, 0.6),
            ("q1", "bob", 2, 0.4),
            ("q1", "team:mean", 3, 0.3),
            ("q2", "bob", 6, 0.7),
        ],
        QS,
    )
    s = standing_forecasts(f, day(4))
    assert sorted(zip(s.question_id, s.forecaster, s.p, strict=True)) == [
        ("q1", "alice", 0.2),
        ("q1", "bob", 0.4),
    ]
    s_all = standing_forecasts(f)
    assert set(zip(s_all.question_id, s_all.forecaster, s_all.p, strict=True)) == {
        ("q1", "alice", 0.6),
        ("q1", "bob", 0.4),
        ("q2", "bob", 0.7),
    }


def test_aggregate_hand_computed_types():
    qs = {"b": {}, "m": {"type": "multiple_choice"}, "n": {"type": "numeric"}}
    nq = {"quantiles": {"levels": [0.1, 0.5, 0.9], "values": [10, 20, 30]}}
    nq2 = {"quantiles": {"levels": [0.1, 0.5, 0.9], "values": [20, 40, 60]}}
    f = make_frame(
        [
            ("b", "x", 1, 0.2),
            ("b", "y", 1, 0.4),
            ("b", "z", 1, 0.9),
            ("m", "x", 1, (0.2, 0.3, 0.5)),
            ("m", "y", 1, (0.4, 0.4, 0.2)),
            ("n", "x", 1, nq),
            ("n", "y", 1, nq2),
        ],
        qs,
    )
    out = pooled(f, "mean", numeric="vincentization")
    assert out["b"]["p"] == pytest.approx(0.5)
    np.testing.assert_allclose(out["m"]["probs"], [0.3, 0.35, 0.35])
    assert out["n"]["quantiles"]["values"] == [15.0, 30.0, 45.0]
    med = pooled(f, "median")
    assert med["b"] == {"p": pytest.approx(0.4)}
    table = aggregate(f, "neyman")
    assert list(table.columns) == [
        "question_id",
        "method",
        "forecaster",
        "question_type",
        "value",
        "p",
        "n_forecasters",
        "spread",
        "newest_input",
        "oldest_input",
        "a",
    ]
    assert set(table.question_id) == {"b", "m"}  # log-odds rules leave numeric questions out
    assert any("does not apply to numeric" in n for n in table.attrs["notes"])  # and say so
    assert table.set_index("question_id").loc["b", "forecaster"] == "team:neyman"
    assert table.set_index("question_id").loc["b", "n_forecasters"] == 3


def _lookahead_frame():
    """Alice beat Bob on p_early (resolved day 5); Bob beat Alice on 4 questions resolved
    day 20.  The target question t is forecast on day 10: alice 0.9, bob 0.3."""
    qs = {"p_early": {"outcome": 1, "resolved": 5, "close": 4}, "t": {}}
    rows = [("p_early", "alice", 1, 0.9), ("p_early", "bob", 1, 0.2)]
    for i in range(4):
        qs[f"p_late{i}"] = {"outcome": 0, "resolved": 20, "close": 19}
        rows += [(f"p_late{i}", "alice", 2, 0.95), (f"p_late{i}", "bob", 2, 0.3)]
    rows += [("t", "alice", 10, 0.9), ("t", "bob", 10, 0.3)]
    return make_frame(rows, qs)


def test_performance_weights_use_only_questions_resolved_before_at():
    f = _lookahead_frame()
    at10 = pooled(f, "performance_weighted", at=day(10))["t"]["p"]
    # by hand: excess Brier on p_early alice 2(.1)^2 − .5(.02 + 1.28) = −0.63, bob +0.63;
    # weights exp(∓5 · 0.63 / 6)
    wa, wb = np.exp(5 * 0.63 / 6), np.exp(-5 * 0.63 / 6)
    assert at10 == pytest.approx((0.9 * wa + 0.3 * wb) / (wa + wb))
    # the same frame without the late questions gives the same answer ...
    early_only = f[~f.question_id.str.startswith("p_late")]
    assert pooled(early_only, "performance_weighted", at=day(10))["t"]["p"] == at10
    # ... while the late questions, once resolved, flip it (so look-ahead would matter)
    at30 = pooled(f, "performance_weighted", at=day(30))["t"]["p"]
    assert at10 > 0.5 > at30


def test_extremizing_fit_uses_only_questions_resolved_before_at():
    from scipy.special import expit, logit

    f = _lookahead_frame()
    m_t = (logit(0.9) + logit(0.3)) / 2
    fit = {"min_resolved": 1, "a_max": 5.0}
    # before day 20 only p_early (Yes, mean log-odds > 0) is known: the fit runs to the
    # top of the grid, a = 5
    at10 = pooled(f, "extremized", at=day(10), **fit)["t"]["p"]
    assert at10 == pytest.approx(expit(5.0 * m_t))
    early_only = f[~f.question_id.str.startswith("p_late")]
    assert pooled(early_only, "extremized", at=day(10), **fit)["t"]["p"] == at10
    # the four late No questions (mean log-odds > 0) pull a down once they have resolved
    at30 = pooled(f, "extremized", at=day(30), **fit)["t"]["p"]
    assert at30 < at10
    # the question itself is left out of its own fit
    own = pooled(f, "extremized", at=day(30), question_ids=["p_early"], **fit)["p_early"]
    a_without = pooled(
        f[f.question_id != "p_early"], "extremized", at=day(30), question_ids=["t"], **fit
    )["t"]["p"]
    assert own["p"] == pytest.approx(expit(logit(a_without) / m_t * (logit(0.9) + logit(0.2)) / 2))
    fixed = pooled(f, "extremized", at=day(10), a=2.0)["t"]["p"]
    assert fixed == pytest.approx(expit(2.0 * m_t))


def test_extremizing_falls_back_to_a_1_with_too_few_resolved_and_caps_a():
    """Issue 10.9: a factor fitted on 4 questions once recorded a 100% team forecast."""
    from scipy.special import expit, logit

    f = _lookahead_frame()
    m_t = (logit(0.9) + logit(0.3)) / 2
    # nothing resolved before day 3
    t = aggregate(f, "extremized", at=day(3), question_ids=["p_early"])
    assert t["a"].iloc[0] == 1.0
    assert any("no questions resolved" in n and "a = 1" in n for n in t.attrs["notes"])
    # 1 or 5 resolved are fewer than the default 10
    for at in (day(10), day(30)):
        t = aggregate(f, "extremized", at=at, question_ids=["t"])
        assert t["a"].iloc[0] == 1.0
        assert t["p"].iloc[0] == pytest.approx(expit(m_t))  # the geometric mean of odds
        assert any("fewer than 10" in n and "a = 1" in n for n in t.attrs["notes"])
    # with enough questions the fitted a is capped at a_max and the notes say so
    t = aggregate(f, "extremized", at=day(10), question_ids=["t"], min_resolved=1)
    assert t["a"].iloc[0] == 3.0
    assert any("capped at a_max = 3" in n for n in t.attrs["notes"])


def test_performance_weights_leave_out_the_pooled_question():
    """Issue 10.9: a resolved question's own outcome must not weight its own pool."""
    f = _lookahead_frame()
    # pooling p_early at day 10: the only history is p_early itself, so equal weights
    own = pooled(f, "performance_weighted", at=day(10), question_ids=["p_early"])
    assert own["p_early"]["p"] == pytest.approx((0.9 + 0.2) / 2)


def test_linear_rules_accept_0_and_1_log_odds_rules_clip():
    """Issue 10.8: exact 0 and 1 (PredictionBook, GJP and CSV imports keep them)."""
    f = make_frame([("q1", "a", 1, 1.0), ("q1", "b", 1, 0.0), ("q1", "c", 1, 1.0)], QS)
    for m in ("mean", "median", "trimmed_mean", "recency_median", "performance_weighted"):
        p = pooled(f, m)["q1"]["p"]
        assert 0.0 <= p <= 1.0
    assert pooled(f, "mean")["q1"]["p"] == pytest.approx(2 / 3)
    from scipy.special import expit, logit

    eps = 1e-3
    want = expit((2 * logit(1 - eps) + logit(eps)) / 3)
    assert pooled(f, "geometric_mean_odds")["q1"]["p"] == pytest.approx(want)
    assert pooled(f, "geometric_mean_odds", eps=0.01)["q1"]["p"] == pytest.approx(
        expit((2 * logit(0.99) + logit(0.01)) / 3)
    )
    assert 0 < pooled(f, "neyman")["q1"]["p"] < 1


def test_stale_inputs_are_dated_and_max_age_drops_them():
    f = make_frame([("q1", "a", 1, 0.2), ("q1", "b", 30, 0.6)], QS)
    t = aggregate(f, "mean", at=day(31))
    assert t["oldest_input"].iloc[0] == day(1) and t["newest_input"].iloc[0] == day(30)
    t = aggregate(f, "mean", at=day(31), max_age=10)
    assert t["p"].iloc[0] == pytest.approx(0.6) and t["n_forecasters"].iloc[0] == 1
    assert any("older than 10 days" in n for n in t.attrs["notes"])


def test_aggregate_bad_input():
    f = make_frame([("q1", "a", 1, 0.3)], QS)
    with pytest.raises(ConfigError, match=r"'avg' is not a pooling method; choose one of mean"):
        aggregate(f, "avg")
    with pytest.raises(ConfigError, match=r"option 'trim' does not apply to method 'mean'"):
        aggregate(f, "mean", trim=0.2)
    with pytest.raises(InvalidForecastError, match="the forecasts frame is empty"):
        aggregate(f.iloc[:0], "mean")
    with pytest.raises(InvalidForecastError, match="no forecasts to aggregate with as_of"):
        aggregate(f, "mean", at=day(0))
    bad = make_frame([("q1", "a", 1, 1.3)], QS)
    with pytest.raises(InvalidForecastError, match=r"\[0, 1\].* by 'a' on question 'q1'"):
        aggregate(bad, "mean")
    with pytest.raises(InvalidForecastError, match=r"lacks columns \['p'"):
        aggregate(f.drop(columns=["p"]), "mean")
    with pytest.raises(ConfigError, match="at must be a date"):
        aggregate(f, "mean", at="not a date")


def test_public_names_complete():
    for name in agg.__all__:
        assert getattr(agg, name) is not None
    public = {n for n in dir(agg) if not n.startswith("_")}
    modules = {
        "team",
        "rules",
        "numeric",
        "pooling",
        "weights",
        "annotations",
        "Any",
        "analyst_model",
        "method_names",
    }
    assert public - modules <= set(agg.__all__)


@pytest.mark.slow
def test_import_does_not_import_pymc():
    code = (
        "import sys, pandas as pd\n"
        "import forecasting.aggregation as agg\n"
        "agg.pool_mean([0.2, 0.4])\n"
        "f = pd.DataFrame({'question_id': ['q'], 'forecaster': ['a'],"
        " 'as_of': [pd.Timestamp('2024-01-01', tz='UTC')], 'question_type': ['binary'],"
        " 'p': [0.3], 'probs': [None], 'value': [{'p': 0.3}]})\n"
        "agg.aggregate(f, 'median')\n"
        "bad = [m for m in ('pymc', 'arviz', 'pytensor', 'nutpie') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_one_rule_for_who_is_pooled_library_cli_and_frame(workspace, forecast):  # type: ignore[no-untyped-def]
    """Issue 15.1: alice 0.2, bob 0.3, and a model, a crowd and a document at 0.9.  The
    library, the CLI and the frame layer all pool the two people (0.25); before, the CLI
    pooled to 0.25 and the library to 0.64.  ``include`` adds a prefix on purpose."""
    import json

    from forecasting.aggregation import pooled_people, team_forecasts

    ws = workspace
    q = ws.question("bin")
    ws.predict("bin", 0.2, analyst="alice")
    ws.predict("bin", 0.3, analyst="bob")
    for name, kind in (("model:hazard", "model"), ("crowd:x", "crowd"), ("doc:d", "document")):
        ws.write_forecast(q, {"p": 0.9}, forecaster=name, allowed_kinds=(kind,))

    lib = team_forecasts(ws, ["mean"]).table.set_index("question_id")
    assert lib.loc["bin", "p"] == pytest.approx(0.25) and lib.loc["bin", "n_forecasters"] == 2

    frame = aggregate(pooled_people(ws.forecasts_frame()), "mean").set_index("question_id")
    assert frame.loc["bin", "p"] == pytest.approx(0.25)

    res = forecast("-w", str(ws.root), "aggregate", "-m", "mean", "-q", "bin", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 1 and rows[0]["forecasters"] == 2
    assert float(str(rows[0]["forecast"]).rstrip("%")) == pytest.approx(25.0)

    crowd = team_forecasts(ws, ["mean"], include=["crowd:"]).table.set_index("question_id")
    assert crowd.loc["bin", "p"] == pytest.approx((0.2 + 0.3 + 0.9) / 3)


@pytest.mark.parametrize("method", sorted(set(agg.RULES) - {"bayesian"}))
def test_questions_pooled_in_groups_by_width_give_what_one_group_gives(method, monkeypatch):
    """SIMULATED: questions with 1 to 70 forecasters (binary and multiple choice), some
    resolved for the fitted rules.  Pooling them in groups of similar width (to keep the
    padded arrays small) must give exactly what one wide group gives."""
    import forecasting.aggregation.team as team_mod

    rng = np.random.default_rng(11)
    qs: dict[str, dict] = {}
    rows = []
    for i, n in enumerate([1, 2, 3, 5, 9, 17, 30, 70, 2, 4, 16, 64, 65]):
        mc = i % 4 == 3
        qid = f"q{i:02d}"
        resolved = i < 6
        qs[qid] = {"type": "multiple_choice"} if mc else {}
        if resolved:
            qs[qid].update(outcome=int(rng.integers(0, 3 if mc else 2)), resolved=20, close=20)
        for f in range(n):
            v = tuple(rng.dirichlet([1, 1, 1])) if mc else float(rng.uniform(0.02, 0.98))
            rows.append((qid, f"a{f:02d}", float(rng.uniform(0, 10)), v))
    frame = make_frame(rows, qs)
    at = day(30)
    kw = {"min_resolved": 3} if method == "extremized" else {}
    grouped = aggregate(frame, method, at=at, **kw)
    if method == "extremized":  # fitted, and not the same everywhere
        assert len(set(np.round(grouped["a"], 6))) > 1
    monkeypatch.setattr(team_mod, "_WIDTHS", ())
    one = aggregate(frame, method, at=at, **kw)
    assert list(grouped["question_id"]) == list(one["question_id"]) == sorted(qs)
    for a, b in zip(grouped["value"], one["value"], strict=True):
        assert np.allclose(
            a.get("probs", [a.get("p")]), b.get("probs", [b.get("p")]), rtol=0, atol=1e-12
        )
    np.testing.assert_allclose(grouped["spread"], one["spread"], atol=1e-12)
    np.testing.assert_allclose(grouped["a"], one["a"], atol=1e-12)
    assert list(grouped["n_forecasters"]) == list(one["n_forecasters"])
    assert grouped.attrs["notes"] == one.attrs["notes"]
