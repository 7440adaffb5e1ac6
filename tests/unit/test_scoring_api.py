"""The public surface of forecasting.scoring."""

import importlib
import inspect
import pkgutil
import subprocess
import sys

import forecasting.scoring as scoring


def test_all_names_resolve_and_are_documented():
    for name in scoring.__all__:
        obj = getattr(scoring, name)
        if callable(obj):
            assert inspect.getdoc(obj), name


def test_all_is_complete():
    """Every public function or class of the submodules is exported."""
    public = set()
    for mod in pkgutil.iter_modules(scoring.__path__):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"forecasting.scoring.{mod.name}")
        public |= set(getattr(module, "__all__", ()))
    assert public == set(scoring.__all__)


def test_import_is_cheap():
    code = (
        "import sys, forecasting.scoring; "
        "print(sorted(m for m in ('pandas', 'scoringrules', 'scipy.stats') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_keyword_only_after_observations_and_forecasts():
    for name in ("log_score", "interval_score", "bootstrap_mean_ci", "paired_permutation_test"):
        params = inspect.signature(getattr(scoring, name)).parameters.values()
        kinds = [p.kind for p in params]
        assert kinds.count(inspect.Parameter.POSITIONAL_OR_KEYWORD) <= 3, name
        assert inspect.Parameter.KEYWORD_ONLY in kinds, name
