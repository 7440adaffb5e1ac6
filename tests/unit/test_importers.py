"""Importers on small files written in tmp_path: mapping, idempotence, atomicity, --skip-bad."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from forecasting import ImportFormatError, Workspace
from forecasting.importers import (
    ImportSummary,
    import_csv,
    import_forecastbench,
    import_gjp,
    import_metaculus,
    import_predictionbook,
)
from forecasting.importers.plan import slug
from forecasting.journal.frames import questions_frame, resolutions_frame

IFPS = """\
ifp_id,q_type,q_text,q_desc,q_status,date_start,date_suspend,date_to_close,date_closed,outcome,short_title,days_open,n_opts,options
1001-0,0,Will A happen?,"Desc, with comma
and a newline",closed,9/1/11,12/30/11 0:00,12/31/11,1/2/12,b,A,123,2,"(a) Yes, (b) No"
1002-0,0,Who wins?,Desc,closed,9/1/11,5/14/12 0:00,5/15/12,5/6/12,b,W,10,3,"(a) Ann, (b) Bob, (c) Neither"
1003-6,6,When?,Desc,closed,9/1/11,NULL,12/31/11,12/31/11,c,T,10,3,"(a) Before Oct, (b) Oct to Nov, (c) Later"
1004-1,1,Will C happen?,Desc,closed,9/1/11,NULL,12/31/11,12/31/11,a,C,10,2,"If D happens :  (a) Yes, (b) No"
1004-2,2,Will C happen?,Desc,voided,9/1/11,NULL,12/31/11,NULL,,C,10,2,"If D does not happen :  (a) Yes, (b) No"
"""
FCASTS_HEAD = '"ifp_id","user_id","forecast_id","fcast_type","answer_option","value","timestamp"\n'
FCASTS = (
    FCASTS_HEAD
    + """\
"1001-0","600",-10,0,"a",0.1,"2011-08-31 16:17:18"
"1001-0","600",-10,0,"b",0.9,"2011-08-31 16:17:18"
"1002-0","601",-11,0,"a",0.2,"2011-09-02 10:00:00"
"1002-0","601",-11,0,"b",0.8,"2011-09-02 10:00:00"
"1002-0","601",-11,0,"c",0,"2011-09-02 10:00:00"
"1003-6","600",-12,0,"a",0.33,"2011-09-03 10:00:00"
"1003-6","600",-12,0,"b",0.33,"2011-09-03 10:00:00"
"1003-6","600",-12,0,"c",0.33,"2011-09-03 10:00:00"
"1004-1","602",-13,0,"a",0.7,"2011-09-04 10:00:00"
"1004-1","602",-13,0,"b",0.3,"2011-09-04 10:00:00"
"""
)
BAD_GROUP = """\
"1001-0","603",-14,0,"a",0.5,"2011-09-05 10:00:00"
"1001-0","603",-14,0,"b",0.3,"2011-09-05 10:00:00"
"""


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    w = Workspace.init(tmp_path / "ws", analyst="alice")
    yield w
    w.close()


def _db(ws: Workspace) -> Path:
    return Path(ws.db_url.removeprefix("sqlite:///"))


def _write(folder: Path, files: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        out.append(folder / name)
    return out


# ------------------------------------------------------------------------------------- GJP
def test_gjp_groups_option_rows_into_forecasts(ws: Workspace, tmp_path: Path) -> None:
    paths = _write(tmp_path / "gjp", {"ifps.csv": IFPS, "survey_fcasts.yr1.csv": FCASTS})
    s = import_gjp(ws, paths)
    assert (s.questions_imported, s.forecasts_imported, s.resolutions_imported) == (5, 4, 5)
    assert s.rows_read == 5 + 10 and s.skipped == []
    f = ws.forecasts_frame().set_index("question_id")
    assert f.loc["gjp-1001-0", "p"] == pytest.approx(0.1)  # P(Yes) = option a
    assert f.loc["gjp-1001-0", "outcome"] == 0.0  # outcome b = No
    assert f.loc["gjp-1002-0", "probs"] == pytest.approx((0.2, 0.8, 0.0))  # an option of 0 is kept
    assert f.loc["gjp-1002-0", "outcome"] == 1.0  # option index of b
    assert f.loc["gjp-1003-6", "probs"] == pytest.approx((1 / 3, 1 / 3, 1 / 3))  # rescaled
    assert bool(f.loc["gjp-1003-6", "ordered"]) is True
    assert f.loc["gjp-1001-0", "forecaster"] == "gjp:600"
    # the forecast came before date_start: the window opens at the first forecast
    assert f.loc["gjp-1001-0", "open_at"].isoformat() == "2011-08-31T16:17:18+00:00"
    q = questions_frame(ws.journal).set_index("question_id")
    assert q.loc["gjp-1001-0", "question"]["description"].startswith("Desc, with comma\nand")
    arm = q.loc["gjp-1004-1", "question"]
    assert arm["related"] == [{"id": "gjp-1004-2", "relation": "related"}]
    assert "If D happens" in arm["title"] and "conditional" in arm["tags"]
    r = resolutions_frame(ws.journal).set_index("question_id")
    assert bool(r.loc["gjp-1004-2", "annulled"]) and np.isnan(r.loc["gjp-1004-2", "outcome"])
    assert r.loc["gjp-1004-1", "outcome"] == 1.0


def test_gjp_bad_group_names_file_and_line_and_writes_nothing(
    ws: Workspace, tmp_path: Path
) -> None:
    paths = _write(tmp_path / "gjp", {"ifps.csv": IFPS, "f.csv": FCASTS + BAD_GROUP})
    before = _db(ws).read_bytes()
    with pytest.raises(
        ImportFormatError, match=r"^f\.csv:12: value: the options of forecast -14 sum to 0\.8"
    ):
        import_gjp(ws, paths)
    assert _db(ws).read_bytes() == before
    assert len(ws.journal) == 0


def test_gjp_skip_bad_imports_the_rest_and_lists_the_row(ws: Workspace, tmp_path: Path) -> None:
    paths = _write(tmp_path / "gjp", {"ifps.csv": IFPS, "f.csv": FCASTS + BAD_GROUP})
    s = import_gjp(ws, paths, skip_bad=True)
    assert s.forecasts_imported == 4
    assert [(x.file, x.line) for x in s.skipped] == [("f.csv", 12)]
    assert s.reasons() == {"value": 1}
    assert any("1 rows skipped" in line for line in s.lines())


def test_gjp_import_is_idempotent(ws: Workspace, tmp_path: Path) -> None:
    paths = _write(tmp_path / "gjp", {"ifps.csv": IFPS, "f.csv": FCASTS})
    import_gjp(ws, paths)
    n = len(ws.journal)
    s = import_gjp(ws, paths)
    assert len(ws.journal) == n
    assert s.imported == 0 and s.already_present == 4 + 5
    assert ws.journal.verify().ok


# ------------------------------------------------------------------------- PredictionBook
PB_Q = """\
question_id,q_title,q_status,open_time,close_time,resolve_time,outcome,time_open,n_opts,options
1,Will X?,resolved,2008-06-20 03:46:16+00:00,2008-06-20 10:00:00+00:00,2008-08-14 02:28:40+00:00,1.0,x,2,o
2,Will Y?,ambiguous,2008-06-20 04:37:13+00:00,2008-06-19 10:00:00+00:00,2008-08-01 09:18:01+00:00,-1.0,x,2,o
3,Will Z?,open,2008-06-21 04:37:13+00:00,2030-06-23 10:00:00+00:00,,,x,2,o
"""
PB_F = """\
question_id,user_id,team_id,probability,answer_option,timestamp,outcome
1,Matt,0.0,0.8,1,2008-06-20 03:46:16+00:00,1.0
1,Adam,0.0,1,1,2008-06-20 05:00:00+00:00,1.0
2,Frank,0.0,0,1,2008-06-20 04:37:13+00:00,-1.0
2,Frank,0.0,0,1,2008-06-20 04:37:13+00:00,-1.0
3,Matt,0.0,0.25,1,2008-06-22 00:00:00+00:00,
"""


def test_predictionbook_outcomes_annulment_and_extremes(ws: Workspace, tmp_path: Path) -> None:
    paths = _write(tmp_path / "pb", {"questions.csv": PB_Q, "public.csv": PB_F})
    s = import_predictionbook(ws, paths)
    assert (s.questions_imported, s.forecasts_imported, s.resolutions_imported) == (3, 4, 2)
    assert [(x.line, x.reason) for x in s.skipped] == [(5, "duplicate: repeats line 4")]
    f = ws.forecasts_frame().set_index(["question_id", "forecaster"])
    assert f.loc[("pb-1", "pb:Adam"), "p"] == 1.0  # exactly 1 kept as recorded
    assert f.loc[("pb-2", "pb:Frank"), "p"] == 0.0
    assert bool(f.loc[("pb-2", "pb:Frank"), "annulled"]) is True  # outcome -1
    assert not f.loc[("pb-3", "pb:Matt"), "resolved"]  # empty outcome: still open
    assert f.loc[("pb-1", "pb:Matt"), "outcome"] == 1.0
    q = questions_frame(ws.journal).set_index("question_id")
    # question 2 closes before it opens: the window is widened to one second
    assert (q.loc["pb-2", "close_at"] - q.loc["pb-2", "open_at"]).total_seconds() == 1.0
    assert q.loc["pb-1", "collection"] == "predictionbook"


def test_predictionbook_percent_scale_is_detected(ws: Workspace, tmp_path: Path) -> None:
    pct = PB_F.replace(",0.8,", ",80,").replace(",0.25,", ",25,")
    paths = _write(tmp_path / "pb", {"questions.csv": PB_Q, "public.csv": pct})
    s = import_predictionbook(ws, paths)
    assert any("percentages" in n for n in s.notes)
    f = ws.forecasts_frame().set_index(["question_id", "forecaster"])
    assert f.loc[("pb-1", "pb:Matt"), "p"] == pytest.approx(0.8)


def test_predictionbook_bad_probability(ws: Workspace, tmp_path: Path) -> None:
    bad = PB_F + "1,Eve,0.0,abc,1,2008-06-20 06:00:00+00:00,1.0\n"
    paths = _write(tmp_path / "pb", {"questions.csv": PB_Q, "public.csv": bad})
    with pytest.raises(
        ImportFormatError, match=r"public\.csv:7: probability: 'abc' is not a number"
    ):
        import_predictionbook(ws, paths)


# --------------------------------------------------------------------------- ForecastBench
def _fb(tmp_path: Path) -> list[Path]:
    qset = {
        "forecast_due_date": "2024-07-21",
        "question_set": "q.json",
        "questions": [
            {
                "id": "AbC1",
                "source": "manifold",
                "question": "Will M?",
                "resolution_criteria": "per market",
                "background": "bg",
                "market_info_open_datetime": "2023-10-13T17:44:30+00:00",
                "market_info_close_datetime": "2025-01-01T04:59:00+00:00",
                "market_info_resolution_criteria": "N/A",
                "url": "https://manifold.markets/x",
                "freeze_datetime": "2024-07-12T00:00:00+00:00",
                "freeze_datetime_value": "0.75",
                "combination_of": "N/A",
                "resolution_dates": "N/A",
            },
            {
                "id": "77",
                "source": "metaculus",
                "question": "Will N?",
                "resolution_criteria": "per question",
                "market_info_open_datetime": "2023-01-01T00:00:00+00:00",
                "market_info_close_datetime": "2030-01-01T00:00:00+00:00",
                "url": "https://www.metaculus.com/questions/77/",
                "freeze_datetime": "2024-07-12T00:00:00+00:00",
                "freeze_datetime_value": "0.1",
                "combination_of": "N/A",
                "resolution_dates": "N/A",
            },
            {
                "id": "SER",
                "source": "fred",
                "question": "Will SER be higher on {resolution_date} than on {forecast_due_date}?",
                "resolution_criteria": "per data",
                "market_info_open_datetime": "N/A",
                "market_info_close_datetime": "N/A",
                "url": "https://fred.stlouisfed.org/series/SER",
                "freeze_datetime": "2024-07-12T00:00:00+00:00",
                "freeze_datetime_value": "4.2",
                "combination_of": "N/A",
                "resolution_dates": ["2024-07-28", "2024-08-20", "2034-07-19"],
            },
        ],
    }
    rset = {
        "forecast_due_date": "2024-07-21",
        "question_set": "q.json",
        "resolutions": [
            {
                "id": "AbC1",
                "source": "manifold",
                "direction": None,
                "resolution_date": "2024-12-31",
                "resolved_to": 1.0,
                "resolved": True,
            },
            {
                "id": "77",
                "source": "metaculus",
                "direction": None,
                "resolution_date": "2026-08-20",
                "resolved_to": 0.2,
                "resolved": False,
            },
            {
                "id": "SER",
                "source": "fred",
                "direction": None,
                "resolution_date": "2024-07-28",
                "resolved_to": 0.0,
                "resolved": True,
            },
            {
                "id": "SER",
                "source": "fred",
                "direction": None,
                "resolution_date": "2024-08-20",
                "resolved_to": 1.0,
                "resolved": True,
            },
        ],
    }
    return _write(tmp_path / "fb", {"q.json": json.dumps(qset), "r.json": json.dumps(rset)})


def test_forecastbench_markets_and_dataset_expansion(ws: Workspace, tmp_path: Path) -> None:
    s = import_forecastbench(ws, _fb(tmp_path))
    assert (s.questions_imported, s.forecasts_imported, s.resolutions_imported) == (5, 2, 3)
    q = questions_frame(ws.journal).set_index("question_id")
    ids = sorted(q.index)
    ser = slug("SER")  # upper case: lower-cased plus a short hash of the original
    assert ser.startswith("ser-") and len(ser) == 10
    dates = ("2024-07-28", "2024-08-20", "2034-07-19")
    assert [i for i in ids if i.startswith("fb-fred-")] == [f"fb-fred-{ser}-{d}" for d in dates]
    assert "fb-metaculus-77" in ids
    dq = q.loc[f"fb-fred-{ser}-2024-08-20"]
    assert dq["title"] == "Will SER be higher on 2024-08-20 than on 2024-07-21?"
    assert dq["close_at"].isoformat() == "2024-08-20T00:00:00+00:00"
    r = resolutions_frame(ws.journal)
    assert sorted(r.outcome) == [0.0, 1.0, 1.0]  # the unresolved market and 2034 stay open
    f = ws.forecasts_frame().set_index("forecaster")
    assert f.loc["crowd:manifold", "p"] == 0.75 and f.loc["crowd:manifold", "outcome"] == 1.0
    assert not f.loc["crowd:metaculus", "resolved"]
    assert f.loc["crowd:manifold", "as_of"].isoformat() == "2024-07-12T00:00:00+00:00"


def test_forecastbench_bad_resolution(ws: Workspace, tmp_path: Path) -> None:
    paths = _fb(tmp_path)
    data = json.loads(paths[1].read_text())
    data["resolutions"][0]["resolved_to"] = 0.4
    paths[1].write_text(json.dumps(data))
    with pytest.raises(
        ImportFormatError, match=r"r\.json:resolutions\[0\]: resolved_to: 0\.4 is not 0 or 1"
    ):
        import_forecastbench(ws, paths)
    s = import_forecastbench(ws, paths, skip_bad=True)
    assert s.resolutions_imported == 2 and s.n_skipped == 1


# ------------------------------------------------------------------------------- Metaculus
# written from the columns documented in the README of a Metaculus data export
MX_QCOLS = (
    "Question ID,Question URL,Question Title,Post ID,Post Curation Status,Post Published Time,"
    "Default Project,Default Project ID,Categories,Leaderboard Tags,Label,Question Type,"
    "MC Options (Current),MC Options (All),MC Options History,Lower Bound,Open Lower Bound,"
    "Upper Bound,Open Upper Bound,Continuous Range,Open Time,CP Reveal Time,Scheduled Close Time,"
    "Actual Close Time,Resolution,Resolution Known Time,Include Bots in Aggregates,Question Weight"
)
MX_FCOLS = (
    "Question ID,Forecaster ID,Forecaster Username,Is Bot,Start Time,End Time,Forecaster Count,"
    "Probability Yes,Probability Yes Per Category,Continuous CDF,Probability Below Lower Bound,"
    "Probability Above Upper Bound,5th Percentile,25th Percentile,Median,75th Percentile,"
    "95th Percentile,Probability of Resolution,PDF at Resolution"
)


def _mx(tmp_path: Path) -> list[Path]:
    t0, t1 = "2024-01-01 00:00:00+00:00", "2024-06-30 00:00:00+00:00"
    q = [
        MX_QCOLS,
        f"10,https://www.metaculus.com/questions/11/,Will B?,11,approved,{t0},P,1,[],[],,binary,,,,,False,,False,,{t0},{t0},{t1},{t1},yes,2024-07-01 00:00:00+00:00,False,1.0",
        f"20,https://www.metaculus.com/questions/21/,Which?,21,approved,{t0},P,1,[],[],,multiple_choice,\"['A', 'B', 'C']\",\"['A', 'B', 'C']\",,,False,,False,,{t0},{t0},{t1},{t1},B,2024-07-01 00:00:00+00:00,False,1.0",
        f"30,https://www.metaculus.com/questions/31/,How many?,31,approved,{t0},P,1,[],[],,numeric,,,,0,False,100,True,,{t0},{t0},{t1},{t1},42.5,2024-07-01 00:00:00+00:00,False,1.0",
        f"40,https://www.metaculus.com/questions/41/,Annulled?,41,approved,{t0},P,1,[],[],,binary,,,,,False,,False,,{t0},{t0},{t1},{t1},annulled,2024-07-01 00:00:00+00:00,False,1.0",
        f"50,https://www.metaculus.com/questions/51/,When?,51,approved,{t0},P,1,[],[],,date,,,,,False,,False,,{t0},{t0},{t1},{t1},,,False,1.0",
    ]
    e = ",,,,,,,,,,"
    f = [
        MX_FCOLS,
        "10,,recency_weighted,,2024-02-01 00:00:00+00:00,,3,0.7" + ",," + ",,,,,,,,,",
        "10,123,alice,False,2024-02-02 00:00:00+00:00,,,0.6" + ",," + ",,,,,,,,,",
        '20,,recency_weighted,,2024-02-01 00:00:00+00:00,,3,,"[0.2, 0.8, None]"' + e[:-1],
        "30,,recency_weighted,,2024-02-01 00:00:00+00:00,,3,,,,,,10,30,40,50,80,,",
        "40,,unweighted,,2024-02-01 00:00:00+00:00,,3,0.5" + ",," + ",,,,,,,,,",
        "50,,recency_weighted,,2024-02-01 00:00:00+00:00,,3,,,,,,1,2,3,4,5,,",
    ]
    return _write(
        tmp_path / "mx",
        {"question_data.csv": "\n".join(q) + "\n", "forecast_data.csv": "\n".join(f) + "\n"},
    )


def test_metaculus_export(ws: Workspace, tmp_path: Path) -> None:
    paths = _mx(tmp_path)
    s = import_metaculus(ws, paths, skip_bad=True)
    assert (s.questions_imported, s.forecasts_imported, s.resolutions_imported) == (4, 5, 4)
    assert sorted(s.reasons()) == ["question", "type"]  # the date question and its forecast
    f = ws.forecasts_frame()
    by = f.set_index(["question_id", "forecaster"])
    assert by.loc[("mx-10", "crowd:metaculus"), "p"] == 0.7
    assert by.loc[("mx-10", "metaculus:alice"), "p"] == 0.6
    assert by.loc[("mx-10", "crowd:metaculus"), "outcome"] == 1.0
    mc = by.loc[("mx-20", "crowd:metaculus")]
    assert mc["probs"] == pytest.approx((0.2, 0.8, 0.0)) and mc["outcome"] == 1.0
    num = by.loc[("mx-30", "crowd:metaculus"), "value"]
    assert num == {
        "quantiles": {
            "levels": [0.05, 0.25, 0.5, 0.75, 0.95],
            "values": [10.0, 30.0, 40.0, 50.0, 80.0],
        }
    }
    assert by.loc[("mx-30", "crowd:metaculus"), "outcome"] == 42.5
    assert bool(by.loc[("mx-40", "crowd:metaculus-unweighted"), "annulled"]) is True
    assert import_metaculus(ws, paths, skip_bad=True).imported == 0


# ----------------------------------------------------------------------------- generic CSV
GENERIC = """\
question_id,title,type,options,open_at,close_at,forecaster,timestamp,probability,probabilities,outcome,annulled,resolved_at
rain,Will it rain?,binary,,2024-01-01,2024-02-01,ann,2024-01-05T10:00:00Z,35%,,,,
rain,,,,,,bob,2024-01-06T10:00:00Z,0.5,,yes,,2024-02-02
who,Who wins?,multiple_choice,A|B|C,2024-01-01,2024-02-01,ann,2024-01-05T10:00:00Z,,0.2|0.5|0.3,,,
who,,,,,,bob,2024-01-07T10:00:00Z,,A=0.1;B=0.1;C=0.8,C,,
void,Void?,binary,,2024-01-01,2024-02-01,,,,,,true,
"""


def test_generic_csv(ws: Workspace, tmp_path: Path) -> None:
    (path,) = _write(tmp_path / "c", {"mine.csv": GENERIC})
    s = import_csv(ws, path)
    assert (s.questions_imported, s.forecasts_imported, s.resolutions_imported) == (3, 4, 3)
    by = ws.forecasts_frame().set_index(["question_id", "forecaster"])
    assert by.loc[("rain", "ann"), "p"] == pytest.approx(0.35)
    assert by.loc[("rain", "bob"), "outcome"] == 1.0
    assert by.loc[("who", "bob"), "probs"] == pytest.approx((0.1, 0.1, 0.8))
    assert by.loc[("who", "ann"), "outcome"] == 2.0
    assert by.loc[("who", "ann"), "collection"] == "csv"
    r = resolutions_frame(ws.journal).set_index("question_id")
    assert bool(r.loc["void", "annulled"])
    assert r.loc["rain", "resolved_at"].isoformat() == "2024-02-02T00:00:00+00:00"


def test_generic_csv_contradiction_is_a_bad_row(ws: Workspace, tmp_path: Path) -> None:
    bad = GENERIC + "rain,Will it snow?,,,,,,,,,,,\n"
    (path,) = _write(tmp_path / "c", {"mine.csv": bad})
    with pytest.raises(
        ImportFormatError, match=r"mine\.csv:7: title: 'Will it snow\?' contradicts"
    ):
        import_csv(ws, path)


def test_generic_csv_attaches_to_workspace_questions(workspace: Workspace, tmp_path: Path) -> None:
    text = "question_id,forecaster,timestamp,probability\nbin,carol,2024-03-01T00:00:00Z,0.4\n"
    (path,) = _write(tmp_path / "c", {"f.csv": text})
    s = import_csv(workspace, path)
    assert s.forecasts_imported == 1
    f = workspace.forecasts_frame()
    assert list(f.question_id) == ["bin"] and f.collection.iloc[0] == "testcoll"


# ---------------------------------------------------------- shared behaviour and fast path
def test_atomic_failure_in_write_phase_leaves_file_unchanged(ws: Workspace, tmp_path: Path) -> None:
    """A forecast dated in the future is refused during the write, after other records were
    appended inside the transaction: the SQLite file must be byte-for-byte unchanged."""
    good = _write(tmp_path / "gjp", {"ifps.csv": IFPS, "f.csv": FCASTS})
    import_gjp(ws, good)
    before = _db(ws).read_bytes()
    text = GENERIC.replace("2024-01-06T10:00:00Z", "2199-01-06T10:00:00Z")
    (path,) = _write(tmp_path / "c", {"late.csv": text})
    with pytest.raises(
        ImportFormatError, match=r"late\.csv:3: forecast: as_of: 2199-01-06.* is in the future"
    ):
        import_csv(ws, path)
    assert _db(ws).read_bytes() == before
    # the workspace still works after the rollback (its caches were reset)
    assert import_gjp(ws, good).imported == 0


def _records(ws: Workspace) -> list[tuple]:
    out = []
    for r in ws.journal.records():
        rid = r.record_id if r.kind != "question_version" else None
        out.append((r.kind, rid, r.question_id, r.forecaster, r.as_of, r.payload))
    return out


@pytest.mark.parametrize("maker", ["gjp", "pb", "mx", "csv"])
def test_fast_path_writes_what_workspace_writes(tmp_path: Path, maker: str) -> None:
    """The fast path appends records itself; the slow reference goes through
    Workspace.predict and Workspace.resolve.  The journals must agree record for record."""
    if maker == "gjp":
        paths, fn = _write(tmp_path / "d", {"ifps.csv": IFPS, "f.csv": FCASTS}), import_gjp
    elif maker == "csv":
        paths, fn = _write(tmp_path / "d", {"mine.csv": GENERIC}), import_csv
    elif maker == "pb":
        paths, fn = (
            _write(tmp_path / "d", {"questions.csv": PB_Q, "public.csv": PB_F}),
            import_predictionbook,
        )
    else:
        paths, fn = _mx(tmp_path), import_metaculus
    fast = Workspace.init(tmp_path / "fast")
    slow = Workspace.init(tmp_path / "slow")
    a = fn(fast, paths, fast=True, skip_bad=True)
    b = fn(slow, paths, fast=False, skip_bad=True)
    assert a.as_dict() == b.as_dict()
    assert _records(fast) == _records(slow)
    fast.close()
    slow.close()


def test_binary_values_skip_the_parser(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A binary probability that reads as a float in [0, 1] is stored as {"p": p} without
    going through parse_forecast_value (what the parser would return: the test above); the
    parser still refuses the others, with the row's line."""
    from forecasting import values

    calls: list[object] = []
    real = values.parse_forecast_value

    def counting(q, raw, **kw):  # type: ignore[no-untyped-def]
        calls.append(raw)
        return real(q, raw, **kw)

    monkeypatch.setattr(values, "parse_forecast_value", counting)
    rows = "".join(f"q,,,,,,p{i},2024-01-0{i}T00:00:00Z,0.{i}\n" for i in range(1, 6))
    text = "question_id,title,type,options,open_at,close_at,forecaster,timestamp,probability\n"
    text += "q,Q?,binary,,2024-01-01,2024-02-01,,,\n" + rows
    (path,) = _write(tmp_path / "c", {"b.csv": text})
    assert import_csv(ws, path).forecasts_imported == 5
    assert calls == []
    (bad,) = _write(tmp_path / "d", {"b.csv": text + "q,,,,,,p9,2024-01-09T00:00:00Z,1.5\n"})
    with pytest.raises(ImportFormatError, match=r"^b\.csv:8: probability: .*1\.5 must lie"):
        import_csv(ws, bad)
    assert calls == [1.5]


def test_csv_line_numbers_after_blank_lines_and_ragged_rows(ws: Workspace, tmp_path: Path) -> None:
    """Blank lines are passed over but counted; values past the header's columns are
    ignored (they do not fill the columns the file lacks)."""
    text = (
        "question_id,title,open_at,close_at,forecaster,timestamp,probability\n"
        "q,Q?,2024-01-01,2024-02-01,ann,2024-01-05T00:00:00Z,0.5\n"
        "\n"
        "q,,,,bob,2024-01-06T00:00:00Z,0.5,x,y,z\n"
        "q,,,,cat,2024-01-07T00:00:00Z\n"
    )
    (path,) = _write(tmp_path / "c", {"r.csv": text})
    with pytest.raises(ImportFormatError, match=r"^r\.csv:5: probability: a forecast row needs"):
        import_csv(ws, path)
    s = import_csv(ws, path, skip_bad=True)
    assert s.forecasts_imported == 2 and [x.line for x in s.skipped] == [5]
    f = ws.forecasts_frame().set_index("forecaster")
    assert f.loc["bob", "rationale"] is None  # not "x": the file has no rationale column


def test_forecastbench_close_after_the_last_year_is_stored_as_it(
    ws: Workspace, tmp_path: Path
) -> None:
    """A market that closes in the year 2525 is imported, its close stored as 2200-12-31."""
    paths = _fb(tmp_path)
    data = json.loads(paths[0].read_text())
    data["questions"][1]["market_info_close_datetime"] = "2525-01-01T05:00:00+00:00"
    paths[0].write_text(json.dumps(data))
    s = import_forecastbench(ws, paths)
    assert s.n_skipped == 0 and any("2200-12-31" in n for n in s.notes)
    assert ws.question("fb-metaculus-77").close_at.isoformat() == "2200-12-31T00:00:00+00:00"


def test_progress_bar_is_off_without_a_tty(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _write(tmp_path / "gjp", {"ifps.csv": IFPS, "f.csv": FCASTS})
    import_gjp(ws, paths, progress=True)
    assert capsys.readouterr().err == ""


def test_summary_type() -> None:
    s = ImportSummary("x", rows_read=3, forecasts_imported=2)
    assert s.imported == 2 and s.as_dict()["rows_read"] == 3


# -------------------------------------------------------------------------------------- CLI
def test_cli_import_and_malformed_row(forecast, ws: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = _write(tmp_path / "gjp", {"ifps.csv": IFPS, "f.csv": FCASTS})
    res = forecast("-w", str(ws.root), "import", "gjp", *map(str, good), "--no-progress")
    assert res.exit_code == 0, res.output
    assert "4 forecasts" in res.stdout and "0 rows skipped" in res.stdout
    _write(tmp_path / "bad", {"ifps.csv": IFPS, "f.csv": FCASTS + BAD_GROUP})
    before = _db(ws).read_bytes()
    res = forecast("-w", str(ws.root), "import", "gjp", str(tmp_path / "bad"))
    assert res.exit_code == 2
    assert res.stderr.startswith("error: f.csv:12: value:")
    assert _db(ws).read_bytes() == before
    res = forecast(
        "-w", str(ws.root), "import", "gjp", str(tmp_path / "bad"), "--skip-bad", "--json"
    )
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert out["skipped"] == [{"file": "f.csv", "line": 12, "reason": out["skipped"][0]["reason"]}]
    assert out["already_present"] == 9


def test_cli_help_has_examples(forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("import", "--help")
    assert res.exit_code == 0 and "Examples:" in res.stdout and "--skip-bad" in res.stdout


def test_imported_questions_keep_their_own_close_and_reports_filter_on_it(
    ws: Workspace, tmp_path: Path
) -> None:
    """Issue 16.6: the importer moved close_at out to the last forecast, so the report kept
    forecasts made after the real close and dropped each question's last forecast."""
    from forecasting.reports import build_report

    q = (
        "question_id,q_title,q_status,open_time,close_time,resolve_time,outcome,time_open,n_opts,options\n"
        "7,Will W?,resolved,2008-06-01 00:00:00+00:00,2008-06-10 00:00:00+00:00,2008-06-20 00:00:00+00:00,1.0,x,2,o\n"
    )
    f = (
        "question_id,user_id,team_id,probability,answer_option,timestamp,outcome\n"
        "7,Ann,0.0,0.6,1,2008-06-02 00:00:00+00:00,1.0\n"
        "7,Ann,0.0,0.7,1,2008-06-09 00:00:00+00:00,1.0\n"  # the last one before the close
        "7,Bob,0.0,0.99,1,2008-06-15 00:00:00+00:00,1.0\n"  # after the close: history only
    )
    paths = _write(tmp_path / "pb", {"questions.csv": q, "public.csv": f})
    s = import_predictionbook(ws, paths)
    assert s.forecasts_imported == 3
    assert ws.question("pb-7").close_at.isoformat() == "2008-06-10T00:00:00+00:00"
    data = build_report(ws, out=tmp_path / "r", charts=False).data
    by = {r["forecaster"]: r for r in data["forecasters"]}
    assert set(by) == {"pb:ann"} or set(by) == {"pb:Ann"}
    (ann,) = by.values()
    assert ann["n_forecasts"] == 2  # both of Ann's, including her last before the close
    assert data["header"]["n_excluded_late"] == 1  # Bob's, made after the close
