from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

import forecasting.models as models
from forecasting.errors import ModelError


def test_import_does_not_load_pymc() -> None:
    code = (
        "import sys, json, forecasting.models as m\n"
        "from datetime import datetime, UTC\n"
        "q={'id':'x','type':'binary','open_at':datetime(2024,1,1,tzinfo=UTC),"
        "'close_at':datetime(2024,6,1,tzinfo=UTC)}\n"
        "h=m.model_from_spec({'name':'hazard','params':{'p_by_deadline':0.3,'months_equivalent':2}},question=q)\n"
        "h.forecast_at(datetime(2024,2,1,tzinfo=UTC))\n"
        "print(json.dumps(sorted(k for k in sys.modules if k.split('.')[0] in "
        "('pymc','pytensor','arviz','nutpie','xarray'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_all_is_complete() -> None:
    public = {n for n in dir(models) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if type(getattr(models, n)).__name__ == "module"}
    assert public - modules == set(models.__all__)


def test_factory_errors() -> None:
    q = {
        "id": "x",
        "type": "binary",
        "open_at": datetime(2024, 1, 1, tzinfo=UTC),
        "close_at": datetime(2024, 6, 1, tzinfo=UTC),
    }
    with pytest.raises(ModelError, match=r"model\.name='nope' is not a known model"):
        models.model_from_spec({"name": "nope", "params": {}}, question=q)
    with pytest.raises(ModelError, match="unknown keys"):
        models.model_from_spec({"name": "hazard", "prams": {}}, question=q)
    with pytest.raises(ModelError, match="no timezone"):
        models.model_from_spec(
            {"name": "hazard", "params": {"p_by_deadline": 0.5, "months_equivalent": 1}},
            question={**q, "open_at": datetime(2024, 1, 1)},
        )
    for name in models.MODEL_NAMES:
        assert models.model_class(name).name == name


def test_config_hash_stable_and_sensitive() -> None:
    q = {
        "id": "x",
        "type": "binary",
        "open_at": datetime(2024, 1, 1, tzinfo=UTC),
        "close_at": datetime(2024, 6, 1, tzinfo=UTC),
    }
    spec = {"name": "hazard", "params": {"p_by_deadline": 0.5, "months_equivalent": 1}}
    a = models.model_from_spec(spec, question=q)
    b = models.model_from_spec(spec, question=q)
    c = models.model_from_spec(
        {**spec, "params": {"p_by_deadline": 0.5, "months_equivalent": 2}}, question=q
    )
    assert a.config_hash == b.config_hash != c.config_hash
