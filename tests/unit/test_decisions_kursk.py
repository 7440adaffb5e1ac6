"""The Kursk decisions: valid files with illustrative, justified payoffs, computed with the
document's forecast (falling back to the models) and with the models."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from forecasting import Workspace
from forecasting.decisions import decide, load_decisions, voi_ranking
from forecasting.questions import load_registry

KURSK = Path(__file__).resolve().parents[2] / "questions" / "kursk-2024"
AT = "2024-11-15T00:00:00Z"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from forecasting.docforecast import record_document_forecast

    w = Workspace.init(tmp_path_factory.mktemp("kursk") / "ws", analyst="alice", questions=[KURSK])
    record_document_forecast(w, "kursk-2024")
    yield w
    w.close()


def test_the_kursk_decision_files_are_valid() -> None:
    reg = load_registry(KURSK)
    ds = load_decisions(KURSK, reg.questions, base=KURSK)
    assert not ds.problems, "\n".join(map(str, ds.problems))
    assert 2 <= len(ds) <= 3
    for dec in ds:
        assert dec.illustrative and dec.as_of is not None
        assert dec.as_of.date().isoformat() == "2024-11-15"
        assert dec.by == "doc:kursk-2024" and dec.fallback == ("model",)
        assert all(qid.startswith("kursk-") for qid in dec.question_ids)
        for o, p in dec.payoffs.items():
            assert p.justification and "\n" not in p.justification.strip(), (dec.id, o)
        for name in dec.parameters:
            just = dec.quantities[name].justification
            assert just and "\n" not in just.strip(), (dec.id, name)
        text = (dec.path or Path()).read_text(encoding="utf-8")
        assert text.startswith("# Illustrative decision")
        assert yaml.safe_load(text)["illustrative"] is True


@pytest.mark.parametrize("by", ["doc:kursk-2024", "model"])
def test_each_decision_computes(ws: Workspace, by: str) -> None:
    for did in ("rok-arms-to-ukraine", "firm-korea-exposure", "ammunition-commitment"):
        res = decide(ws, did, by=by, at=AT, draws=20_000)
        d = res.to_dict()
        assert d["best"] in d["expected_utility"]
        assert all(math.isfinite(v) for v in d["expected_utility"].values())
        assert sum(d["prob_best"].values()) == pytest.approx(1.0)
        for qid, v in d["evppi"].items():
            assert 0 <= v <= d["evpi"] + 4 * d["evppi_mcse"][qid] + 1e-9, (did, qid)
        assert d["notes"][0].startswith("the payoffs are illustrative")
        assert d["dependence"]["note"]
        if by == "model":
            assert all(s.startswith("model:") for s in d["sources"].values())


def test_the_documents_forecast_is_used_where_it_exists(ws: Workspace) -> None:
    rok = decide(ws, "rok-arms-to-ukraine", at=AT, draws=20_000)
    assert rok.by == "doc:kursk-2024"
    assert rok.sources["kursk-nato-ip4-cooperation"].startswith("doc:kursk-2024")
    assert "fallback: doc:kursk-2024 has no forecast" in rok.sources["kursk-korea-lethal-clash"]
    assert any("model used instead" in n for n in rok.notes)
    firm = decide(ws, "firm-korea-exposure", at=AT, draws=20_000)
    assert firm.threshold_details["kursk-china-countermeasures-nato-asia"]["p_now"] == (
        pytest.approx(0.675, abs=0.02)
    )
    ammo = decide(ws, "ammunition-commitment", at=AT, draws=20_000)
    assert ammo.dependence["correlated"][0]["rank_correlation"] == 0.6


def test_voi_over_the_kursk_decisions(ws: Workspace) -> None:
    ranking = voi_ranking(ws, draws=5_000)
    assert sorted(ranking.decisions) == [
        "ammunition-commitment",
        "firm-korea-exposure",
        "rok-arms-to-ukraine",
    ]
    assert ranking[0]["evppi"] >= ranking[-1]["evppi"] >= 0


def test_ex_post_with_the_real_outcomes(tmp_path: Path) -> None:
    """With questions/kursk-2024/resolutions.yaml applied, each decision reports the value
    its recommendation actually had, and the regret against the best option in hindsight."""
    from forecasting.docforecast import record_document_forecast
    from forecasting.outcomes import apply_resolutions, read_resolutions

    path = KURSK / "resolutions.yaml"
    if not path.is_file():
        pytest.skip("questions/kursk-2024/resolutions.yaml is not there yet")
    w = Workspace.init(tmp_path / "ws", analyst="alice", questions=[KURSK])
    try:
        record_document_forecast(w, "kursk-2024")
        entries, problems = read_resolutions(path)
        assert not problems
        apply_resolutions(w, entries)
        settled = {e.question_id for e in entries if e.settled and not e.annul}
        for did in ("rok-arms-to-ukraine", "firm-korea-exposure", "ammunition-commitment"):
            res = decide(w, did, at=AT, draws=20_000)
            ep = res.ex_post
            known = set(res.decision.question_ids) & settled
            if not known:
                assert ep is None
                continue
            assert ep is not None and set(ep["known"]) == known
            assert ep["recommended"] == res.best
            assert ep["regret"] >= -1e-9
            assert ep["value"][ep["best_in_hindsight"]] == max(ep["value"].values())
    finally:
        w.close()


def test_the_example_in_the_docs_is_valid(tmp_path: Path) -> None:
    import re

    from forecasting.decisions import read_decision

    doc = (KURSK.parents[1] / "docs" / "decisions.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert block is not None
    path = tmp_path / "example.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    dec, problems, _ = read_decision(path, load_registry(KURSK).questions)
    assert dec is not None and not problems, problems
    assert dec.options == ("keep", "insure", "dual-source")
