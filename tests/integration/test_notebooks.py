"""The worked notebooks (jupytext percent format) run from top to bottom without error, show
their charts inline (PNG outputs) and their results as tables, never as raw objects; without
the shared datasets they say so instead of crashing or showing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("[0-9][0-9]_*.py"))
#: notebooks that read ../shared/data (they let FORECASTING_SHARED_DATA point elsewhere)
DATA_NOTEBOOKS = [p for p in NOTEBOOKS if "FORECASTING_SHARED_DATA" in p.read_text("utf-8")]
MISSING_DATA_BANNER = "Shared datasets not found"


def test_the_four_notebooks_exist() -> None:
    names = [p.stem for p in NOTEBOOKS]
    assert names[:4] == [
        "01_register_questions",
        "02_priors_and_evidence",
        "03_calibration_on_real_data",
        "04_team_aggregation",
    ], names


def test_the_data_notebooks_can_be_pointed_at_the_data() -> None:
    assert [p.stem for p in DATA_NOTEBOOKS] == [
        "03_calibration_on_real_data",
        "04_team_aggregation",
    ]


def _execute(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    # the kernel chooses the inline backend (figures as image/png) only when none is forced
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    return nb


def _code_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _texts(output: Any) -> list[str]:
    """Every piece of text an output shows: stream text, rich data, tracebacks."""
    out = []
    if "text" in output:
        out.append(str(output["text"]))
    for mime, value in output.get("data", {}).items():
        if mime.startswith("text/") or mime.endswith("json"):
            out.append(value if isinstance(value, str) else "".join(map(str, value)))
    out += [str(line) for line in output.get("traceback", [])]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = _execute(path, tmp_path, monkeypatch)
    outputs = [o for c in _code_cells(nb) for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors
    assert outputs, "the notebook produced no output at all"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "the notebook shows no figure (no image/png output)"
    raw = [t[:200] for o in outputs for t in _texts(o) if "Record(" in t]
    assert not raw, f"raw Record(...) objects in the output: {raw}"


@pytest.mark.slow
@pytest.mark.parametrize("path", DATA_NOTEBOOKS, ids=[p.stem for p in DATA_NOTEBOOKS])
def test_notebook_without_shared_data_says_so(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No crash, one clear message at the top, and every later cell says it skipped."""
    monkeypatch.setenv("FORECASTING_SHARED_DATA", str(tmp_path / "no-data-here"))
    nb = _execute(path, tmp_path, monkeypatch)
    cells = _code_cells(nb)
    texts = [[t for o in c.get("outputs", []) for t in _texts(o)] for c in cells]
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    banners = [i for i, ts in enumerate(texts) if any(MISSING_DATA_BANNER in t for t in ts)]
    assert banners == [0], (
        f"the missing-data message must appear once, in the first cell: {banners}"
    )
    silent = [
        cells[i].source.splitlines()[0]
        for i in range(1, len(cells))
        if not any("Skipped" in t for t in texts[i])
    ]
    assert not silent, f"cells that neither show results nor say they skipped: {silent}"
