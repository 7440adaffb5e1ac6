"""The public API: ``__all__`` is complete, every name imports, and importing is cheap."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
import textwrap
import types

import pytest

import forecasting
from forecasting import errors

HEAVY = ("pymc", "pytensor", "arviz", "matplotlib")


def run_fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it must print one JSON object last."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


_REPORT = f"""
import json, sys
heavy = [m for m in sys.modules if m.split(".")[0] in {HEAVY!r}]
print(json.dumps({{"heavy": sorted(heavy)}}))
"""


def test_import_forecasting_is_light() -> None:
    assert run_fresh("import forecasting\n" + _REPORT)["heavy"] == []


def test_import_everything_public_is_light() -> None:
    code = "from forecasting import *\nimport forecasting.journal.frames\n" + _REPORT
    assert run_fresh(code)["heavy"] == []


def test_import_cli_is_light() -> None:
    assert run_fresh("import forecasting.cli\n" + _REPORT)["heavy"] == []


def test_cli_help_is_light() -> None:
    code = """
    from click.testing import CliRunner
    from forecasting.cli import cli
    for args in (["--help"], ["predict", "--help"], ["questions", "validate", "--help"],
                 ["verify", "--help"], ["history", "--help"], ["export", "--help"]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, (args, res.output)
    """
    assert run_fresh(textwrap.dedent(code) + _REPORT)["heavy"] == []


def test_core_commands_are_light(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A whole predict-resolve-verify loop through the CLI never needs the model stack."""
    code = f"""
    import pathlib
    from click.testing import CliRunner
    from forecasting.cli import cli
    root = pathlib.Path({str(tmp_path)!r})
    q = root / "src" / "c"
    q.mkdir(parents=True)
    (q / "b.yaml").write_text(
        "id: b\\ntype: binary\\ntitle: T\\nresolution_criteria: R\\nresolution_sources: [S]\\n"
        "open_at: 2020-01-01T00:00:00Z\\nclose_at: 2099-01-01T00:00:00Z\\n"
        "resolve_by: 2099-01-01T00:00:00Z\\n"
    )
    r = CliRunner()
    ws = str(root / "ws")
    for args in (["init", ws, "--questions", str(q)], ["-w", ws, "predict", "b", "70%"],
                 ["-w", ws, "history", "b"], ["-w", ws, "resolve", "b", "yes", "--source", "s"],
                 ["-w", ws, "export"], ["-w", ws, "verify"], ["-w", ws, "questions", "list"]):
        res = r.invoke(cli, args)
        assert res.exit_code == 0, (args, res.output)
    """
    assert run_fresh(textwrap.dedent(code) + _REPORT)["heavy"] == []


# --------------------------------------------------------------------------- __all__
def _public_names(module: types.ModuleType) -> set[str]:
    """Names defined at the top of ``module`` that a user could take for API: not private,
    not submodules (``forecasting.journal`` is reached as a module), not the ``__future__``
    feature ``annotations``."""
    # names loaded on first use (module-level __getattr__) are public too
    lazy = set(getattr(module, "_LAZY", {}))
    return lazy | {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and not (name == "annotations" and getattr(value, "compiler_flag", None))
    }


def test_all_is_complete() -> None:
    """Like httpx's test_exported_members: every public top-level name is in __all__."""
    public = _public_names(forecasting)
    assert public - set(forecasting.__all__) == set()
    assert set(forecasting.__all__) - public == {"__version__"}
    assert len(forecasting.__all__) == len(set(forecasting.__all__))


def test_all_is_complete_in_a_fresh_interpreter() -> None:
    """The same check without the submodules other tests may have imported."""
    got = run_fresh(
        """
        import inspect, json, forecasting
        public = sorted(set(forecasting._LAZY) | {n for n, v in vars(forecasting).items()
                        if not n.startswith("_") and not inspect.ismodule(v)
                        and not (n == "annotations" and hasattr(v, "compiler_flag"))})
        print(json.dumps({"public": public, "all": forecasting.__all__}))
        """
    )
    assert set(got["public"]) | {"__version__"} == set(got["all"])


@pytest.mark.parametrize("name", forecasting.__all__)
def test_every_exported_name_imports(name: str) -> None:
    obj = getattr(forecasting, name)
    assert obj is not None
    if isinstance(obj, type):
        assert obj.__module__.startswith("forecasting.")


def test_star_import() -> None:
    ns: dict[str, object] = {}
    exec("from forecasting import *", ns)
    assert set(forecasting.__all__) <= set(ns)


@pytest.mark.parametrize(
    "module",
    [
        "forecasting.errors",
        "forecasting.probability",
        "forecasting.questions",
        "forecasting.values",
        "forecasting.workspace",
        "forecasting.journal",
        "forecasting.journal.store",
        "forecasting.journal.schema",
        "forecasting.journal.frames",
        "forecasting.cli",
    ],
)
def test_submodule_all_names_exist(module: str) -> None:
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", [])
    missing = [n for n in names if not hasattr(mod, n)]
    assert missing == []
    assert len(names) == len(set(names)), "duplicates in __all__"


def test_version_matches_the_package_metadata() -> None:
    from importlib.metadata import version

    assert forecasting.__version__ == version("forecasting")


# --------------------------------------------------------------------------- the exception tree
def test_exception_tree() -> None:
    E = errors
    assert set(errors.__all__) == {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, Exception)}  # fmt: skip
    for name in errors.__all__:
        cls = getattr(E, name)
        assert issubclass(cls, E.ForecastingError), name
        assert getattr(forecasting, name) is cls, f"{name} is not exported from forecasting"
        assert name in (errors.__doc__ or ""), f"{name} is not drawn in the docstring"
    assert issubclass(E.UnknownQuestionError, E.QuestionError)
    assert issubclass(E.UnknownQuestionError, KeyError)
    assert issubclass(E.ChainError, E.JournalError)
    for cls in (E.InvalidForecastError, E.InvalidEvidenceError, E.ImportFormatError):
        assert issubclass(cls, ValueError)
    assert E.ForecastingError.exit_code == 2
    assert E.ChainError.exit_code == 1
    assert str(E.UnknownQuestionError("question: 'x' is unknown")) == "question: 'x' is unknown"
