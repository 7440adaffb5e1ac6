"""The frame layer: per-forecast scores and time-averaged scores (GJP and Metaculus)."""

import math

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import InvalidForecastError
from forecasting.scoring import crps_normal, score_forecasts, time_averaged_scores
from forecasting.scoring import time_average as ta

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def day(x):
    return T0 + pd.Timedelta(days=x)


def make_frame(rows):
    """A forecasts frame (docs/design.md) from short row dicts; times in days after T0."""
    base = {
        "question_type": "binary",
        "p": np.nan,
        "probs": None,
        "value": None,
        "ordered": False,
        "open_at": 0,
        "close_at": 10,
        "resolved": True,
        "annulled": False,
        "resolved_at": 10,
    }
    out = []
    for i, r in enumerate(rows):
        row = {**base, **r, "seq": i + 1}
        for c in ("as_of", "open_at", "close_at", "resolved_at"):
            row[c] = pd.NaT if row[c] is None else day(row[c])
        if not row["resolved"]:
            row["outcome"] = np.nan
        out.append(row)
    df = pd.DataFrame(out)
    for c in ("as_of", "open_at", "close_at", "resolved_at"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


# --- score_forecasts ---------------------------------------------------------------


def test_score_forecasts_per_type():
    normal = {"distribution": {"name": "normal", "params": {"mu": 10.0, "sigma": 2.0}}}
    f = make_frame(
        [
            {"question_id": "b", "forecaster": "x", "as_of": 1, "p": 0.8, "outcome": 0.0},
            {
                "question_id": "m",
                "forecaster": "x",
                "as_of": 1,
                "question_type": "multiple_choice",
                "probs": (0.2, 0.5, 0.3),
                "outcome": 1.0,
                "ordered": True,
            },
            {
                "question_id": "n",
                "forecaster": "x",
                "as_of": 1,
                "question_type": "numeric",
                "value": normal,
                "outcome": 12.0,
            },
            {"question_id": "u", "forecaster": "x", "as_of": 1, "p": 0.3, "resolved": False},
            {
                "question_id": "a",
                "forecaster": "x",
                "as_of": 1,
                "p": 0.3,
                "outcome": np.nan,
                "annulled": True,
                "resolved": False,
            },
        ]
    )
    s = score_forecasts(f)
    b, m, n = s.iloc[0], s.iloc[1], s.iloc[2]
    assert (b.brier, b.brier2, b.log) == pytest.approx((0.64, 1.28, -math.log(0.2)))
    assert b.baseline == pytest.approx(100 * (math.log2(0.2) + 1))
    assert np.isnan(b.crps) and np.isnan(b.rps)
    assert m.brier == m.brier2 == pytest.approx(0.04 + 0.25 + 0.09)
    assert m.rps == pytest.approx((0.2**2 + 0.3**2) / 2)
    assert m.log == pytest.approx(-math.log(0.5))
    assert n.crps == pytest.approx(crps_normal(12.0, 10.0, 2.0))
    assert n.log == pytest.approx(-(-0.5 - math.log(2.0 * math.sqrt(2 * math.pi))))
    assert np.isnan(n.brier)
    assert s.iloc[3:][["brier", "log", "crps"]].isna().all().all()
    assert "brier" not in f.columns  # the input frame is left alone


def test_score_forecasts_single_quantile_has_crps_but_no_log():
    value = {"quantiles": {"levels": [0.5], "values": [3.0]}}
    f = make_frame(
        [
            {
                "question_id": "n",
                "forecaster": "x",
                "as_of": 1,
                "question_type": "date",
                "value": value,
                "outcome": 5.0,
            }
        ]
    )
    s = score_forecasts(f)
    assert s.crps.iloc[0] == pytest.approx(2 * 0.5 * 2.0)
    assert np.isnan(s.log.iloc[0])


def test_score_forecasts_log_clip_and_errors():
    f = make_frame([{"question_id": "b", "forecaster": "x", "as_of": 1, "p": 1.0, "outcome": 0.0}])
    assert score_forecasts(f, log_clip=None).log.iloc[0] == math.inf
    assert score_forecasts(f, log_clip=0.01).log.iloc[0] == pytest.approx(-math.log(0.01))
    assert score_forecasts(f).log.iloc[0] == pytest.approx(-math.log(0.001))  # the default
    bad = f.assign(p=1.5)
    with pytest.raises(InvalidForecastError, match=r"p must be a probability in \[0, 1\].*1\.5"):
        score_forecasts(bad)
    with pytest.raises(InvalidForecastError, match="question_type 'ranking' is not one of"):
        score_forecasts(f.assign(question_type="ranking"))
    with pytest.raises(InvalidForecastError, match=r"lacks columns \['outcome'\]"):
        score_forecasts(f.drop(columns="outcome"))


# --- time averaging: worked examples --------------------------------------------------


def one(frame, **kw):
    out = time_averaged_scores(frame, **kw)
    assert len(out) == 1
    return out.iloc[0]


def test_worked_example_80_for_6_days_then_40_for_3_resolves_no():
    f = make_frame(
        [
            {"question_id": "q", "forecaster": "x", "as_of": 0, "p": 0.8, "outcome": 0.0},
            {"question_id": "q", "forecaster": "x", "as_of": 6, "p": 0.4, "outcome": 0.0},
        ]
    )
    f["close_at"] = f["resolved_at"] = day(9)
    for convention in ("gjp", "metaculus"):
        r = one(f, convention=convention, scores=("brier", "brier2", "log"))
        assert r.brier_time_avg == pytest.approx(0.48)
        assert r.brier2_time_avg == pytest.approx(0.96)
        assert r.log_time_avg == pytest.approx((6 * -math.log(0.2) + 3 * -math.log(0.6)) / 9)
        assert r.brier_mean == pytest.approx((0.64 + 0.16) / 2)
        assert r.n_forecasts == 2 and r.coverage == pytest.approx(1.0)


def test_late_entry_gjp_vs_metaculus():
    # open day 0, close day 10; 0.8 from day 2, 0.4 from day 7; resolves No
    f = make_frame(
        [
            {"question_id": "q", "forecaster": "x", "as_of": 2, "p": 0.8, "outcome": 0.0},
            {"question_id": "q", "forecaster": "x", "as_of": 7, "p": 0.4, "outcome": 0.0},
        ]
    )
    gjp = one(f, convention="gjp", scores=("brier",))
    met = one(f, convention="metaculus", scores=("brier",))
    total = 5 * 0.64 + 3 * 0.16  # 3.68 brier-days
    assert gjp.brier_time_avg == pytest.approx(total / 8)
    assert met.brier_time_avg == pytest.approx(total / 10)
    assert met.coverage == pytest.approx(0.8) and gjp.coverage == pytest.approx(0.8)
    assert (gjp.days_covered, gjp.lifetime_days) == pytest.approx((8, 10))
    assert gjp.start_at == day(2) and gjp.end_at == day(10)


def test_early_resolution_truncates_the_window():
    # open day 0, scheduled close day 20, resolves Yes on day 5.
    # 0.6 from day 1, 0.9 from day 3, 0.1 on day 6 (after the end: ignored)
    f = make_frame(
        [
            {"question_id": "q", "forecaster": "x", "as_of": 1, "p": 0.6, "outcome": 1.0},
            {"question_id": "q", "forecaster": "x", "as_of": 3, "p": 0.9, "outcome": 1.0},
            {"question_id": "q", "forecaster": "x", "as_of": 6, "p": 0.1, "outcome": 1.0},
        ]
    )
    f["close_at"] = day(20)
    f["resolved_at"] = day(5)
    gjp = one(f, convention="gjp", scores=("brier", "log"))
    met = one(f, convention="metaculus", scores=("brier", "baseline"))
    assert gjp.n_forecasts == 2
    assert gjp.brier_time_avg == pytest.approx((2 * 0.16 + 2 * 0.01) / 4)  # 0.085
    assert gjp.log_time_avg == pytest.approx((2 * -math.log(0.6) + 2 * -math.log(0.9)) / 4)
    assert met.brier_time_avg == pytest.approx((2 * 0.16 + 2 * 0.01) / 5)  # 0.068
    base = [100 * (math.log2(p) + 1) for p in (0.6, 0.9)]
    assert met.baseline_time_avg == pytest.approx((2 * base[0] + 2 * base[1]) / 5)
    assert met.end_at == day(5) and met.coverage == pytest.approx(0.8)


def test_late_resolution_ends_at_close_and_pre_open_forecasts_are_clamped():
    # forecasts before open: the latest one stands from open; resolution after close
    f = make_frame(
        [
            {"question_id": "q", "forecaster": "x", "as_of": -3, "p": 0.5, "outcome": 1.0},
            {"question_id": "q", "forecaster": "x", "as_of": -1, "p": 0.7, "outcome": 1.0},
            {"question_id": "q", "forecaster": "x", "as_of": 2, "p": 0.9, "outcome": 1.0},
        ]
    )
    f["close_at"] = day(4)
    f["resolved_at"] = day(30)
    r = one(f, convention="metaculus", scores=("brier",))
    assert r.brier_time_avg == pytest.approx((2 * 0.09 + 2 * 0.01) / 4)
    assert r.start_at == day(0) and r.end_at == day(4) and r.n_forecasts == 3


def test_same_time_forecasts_last_one_wins_and_unresolved_are_dropped():
    f = make_frame(
        [
            {"question_id": "q", "forecaster": "x", "as_of": 0, "p": 0.1, "outcome": 1.0},
            {"question_id": "q", "forecaster": "x", "as_of": 0, "p": 0.9, "outcome": 1.0},
            {"question_id": "u", "forecaster": "x", "as_of": 0, "p": 0.9, "resolved": False},
            {
                "question_id": "v",
                "forecaster": "x",
                "as_of": 0,
                "p": 0.9,
                "annulled": True,
                "resolved": False,
                "outcome": np.nan,
            },
        ]
    )
    out = time_averaged_scores(f, scores=("brier",))
    assert out.question_id.tolist() == ["q"]
    assert out.brier_time_avg.iloc[0] == pytest.approx(0.01)
    assert out.brier_mean.iloc[0] == pytest.approx((0.81 + 0.01) / 2)


def test_missing_open_at_uses_first_forecast_on_the_question():
    f = make_frame(
        [
            {"question_id": "q", "forecaster": "x", "as_of": 2, "p": 0.5, "outcome": 1.0},
            {"question_id": "q", "forecaster": "y", "as_of": 6, "p": 1.0, "outcome": 1.0},
        ]
    )
    f["open_at"] = pd.NaT
    out = time_averaged_scores(f, convention="metaculus", scores=("brier",))
    assert out.lifetime_days.tolist() == pytest.approx([8, 8])
    assert out.brier_time_avg.tolist() == pytest.approx([0.25, 0.0])
    assert out.coverage.tolist() == pytest.approx([1.0, 0.5])


def test_time_average_bad_arguments():
    f = make_frame([{"question_id": "q", "forecaster": "x", "as_of": 0, "p": 0.5, "outcome": 1.0}])
    with pytest.raises(
        InvalidForecastError, match=r"convention must be one of \['gjp', 'metaculus'\]; got 'daily'"
    ):
        time_averaged_scores(f, convention="daily")
    with pytest.raises(InvalidForecastError, match=r"scores must be a non-empty subset.*'wis'"):
        time_averaged_scores(f, scores=("brier", "wis"))
    with pytest.raises(InvalidForecastError, match=r"lacks columns \['as_of'\]"):
        time_averaged_scores(f.drop(columns="as_of"))
    g = f.assign(open_at=day(20))
    with pytest.raises(InvalidForecastError, match="question 'q' ends before it opens"):
        time_averaged_scores(g)


# --- time averaging: fast version against the slow loop -------------------------------


def random_frame(seed, n_questions=12, n_forecasters=7, n_rows=250):
    rng = np.random.default_rng(seed)
    q = rng.integers(0, n_questions, n_rows)
    opens = rng.uniform(0, 5, n_questions)
    close = opens + rng.uniform(5, 30, n_questions)
    resolved_at = np.where(
        rng.uniform(size=n_questions) < 0.3, opens + rng.uniform(1, 5, n_questions), close + 2
    )
    outcome = (rng.uniform(size=n_questions) < 0.4).astype(float)
    rows = []
    for i in range(n_rows):
        k = q[i]
        rows.append(
            {
                "question_id": f"q{k:02d}",
                "forecaster": f"f{rng.integers(0, n_forecasters)}",
                "as_of": float(np.round(rng.uniform(opens[k] - 3, close[k] + 3), 2)),
                "p": float(rng.choice([0.0, 0.1, 0.35, 0.5, 0.8, 1.0])),
                "open_at": None if k % 5 == 0 else opens[k],
                "close_at": close[k],
                "resolved_at": resolved_at[k],
                "resolved": k % 7 != 3,
                "outcome": outcome[k],
            }
        )
    return make_frame(rows)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("convention", ["gjp", "metaculus"])
def test_fast_matches_slow_loop(seed, convention):
    f = random_frame(seed)
    scores = ("brier", "log", "spherical", "baseline")
    fast = time_averaged_scores(f, convention=convention, scores=scores, log_clip=0.01)
    slow = ta._time_averaged_scores_loop(f, convention=convention, scores=scores, log_clip=0.01)
    assert len(fast) > 20
    pd.testing.assert_frame_equal(
        fast.reset_index(drop=True), slow.reset_index(drop=True), check_dtype=False, rtol=1e-9
    )


def test_unclipped_inf_only_where_a_certain_wrong_forecast_stood():
    f = make_frame(
        [
            {"question_id": "q", "forecaster": "x", "as_of": 0, "p": 0.0, "outcome": 1.0},
            {"question_id": "q", "forecaster": "x", "as_of": 0, "p": 0.6, "outcome": 1.0},
            {"question_id": "r", "forecaster": "x", "as_of": 0, "p": 0.0, "outcome": 1.0},
        ]
    )
    out = time_averaged_scores(f, scores=("log",), log_clip=None).set_index("question_id")
    assert out.loc["q", "log_time_avg"] == pytest.approx(-math.log(0.6))  # 0-day forecast
    assert out.loc["q", "log_mean"] == math.inf
    assert out.loc["r", "log_time_avg"] == math.inf


def test_the_fast_version_is_the_one_running(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("slow loop called")

    monkeypatch.setattr(ta, "_time_averaged_scores_loop", boom)
    f = random_frame(5)
    assert len(time_averaged_scores(f)) > 0


def test_time_average_recomputes_log_scores_with_the_requested_clip():
    """A ``log`` column in the frame cannot say which clip made it: it is recomputed; the
    clip-free ``brier`` column is taken as it is."""
    f = make_frame(
        [{"question_id": "q", "forecaster": "x", "as_of": 0, "p": 0.0, "outcome": 1.0}]
    ).assign(log=123.0, brier=0.5)
    out = time_averaged_scores(f, scores=("log",)).iloc[0]
    assert out["log_time_avg"] == pytest.approx(-math.log(1e-3))  # the default clip
    out = time_averaged_scores(f, scores=("log",), log_clip=0.01).iloc[0]
    assert out["log_time_avg"] == pytest.approx(-math.log(0.01))
    assert time_averaged_scores(f, scores=("brier",)).iloc[0]["brier_time_avg"] == 0.5


def test_time_averages_reuse_the_clipped_scores_of_the_same_clip(monkeypatch):
    """score_forecasts notes its log_clip in attrs: the time averages use those log scores
    (the same numbers) instead of scoring again, and score again for another clip."""
    from forecasting.scoring import time_average

    f = make_frame(
        [
            {"question_id": "q", "forecaster": "x", "as_of": 0, "p": 0.9995, "outcome": 0.0},
            {"question_id": "q", "forecaster": "x", "as_of": 6, "p": 0.4, "outcome": 0.0},
        ]
    )
    scored = score_forecasts(f, log_clip=0.01)
    want = time_averaged_scores(f, scores=("brier2", "log"), log_clip=0.01)
    calls = []
    real = time_average.score_forecasts
    monkeypatch.setattr(
        time_average, "score_forecasts", lambda *a, **k: calls.append(k) or real(*a, **k)
    )
    got = time_averaged_scores(scored, scores=("brier2", "log"), log_clip=0.01)
    assert calls == []
    pd.testing.assert_frame_equal(got, want)
    other = time_averaged_scores(scored, scores=("brier2", "log"), log_clip=0.001)
    assert calls == [{"log_clip": 0.001}]
    assert other.log_time_avg.iloc[0] > got.log_time_avg.iloc[0]  # less clipped
