"""The examples in the docstrings of forecasting.scoring, forecasting.probability and forecasting.numbers run.

Each module is run with ``doctest.testmod``; a public module must hold at least one
example and none may fail.  Every public scoring function documents itself the way
scoringrules does: formula, parameters, references and a runnable example.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import forecasting.scoring as scoring

MODULES = [
    f"forecasting.scoring.{m.name}"
    for m in pkgutil.iter_modules(scoring.__path__)
    if not m.name.startswith("_")
] + ["forecasting.probability", "forecasting.numbers"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, verbose=False, report=True)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


@pytest.mark.parametrize(
    "name", [n for n in scoring.__all__ if inspect.isfunction(getattr(scoring, n))]
)
def test_public_scoring_function_documents_itself(name: str) -> None:
    doc = inspect.getdoc(getattr(scoring, name)) or ""
    for section in ("Parameters", "Returns", "References", "Examples", ">>> "):
        assert section in doc, f"{name}: no {section.strip()!r} in its docstring"
