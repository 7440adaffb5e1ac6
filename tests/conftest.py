"""Shared fixtures: a small question collection and a workspace built on it in tmp_path.

The collection ``testcoll`` holds one question of each type, all open from 2020 to 2099, plus
one question that has already closed and one that opens only in 2098:

=============  ================  ==============================================
id             type              notes
=============  ================  ==============================================
``bin``        binary
``mc``         multiple_choice   options A, B, C
``num``        numeric           lower 0 (closed), upper 100000 (open), troops
``free``       numeric           no bounds
``when``       date              2020-01-01 (closed) to 2100-01-01 (open)
``closed``     binary            closed on 2021-01-01
``later``      binary            opens on 2098-01-01
=============  ================  ==============================================
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

OPEN = "2020-01-01T00:00:00Z"
CLOSE = "2099-01-01T00:00:00Z"
RESOLVE = "2099-02-01T00:00:00Z"

COLLECTION_YAML = """\
id: testcoll
title: A small collection for tests
stakeholders:
  - {id: north-korea, name: North Korea}
  - {id: ukraine, name: Ukraine}
"""


def _question(
    qid: str,
    qtype: str,
    extra: str = "",
    *,
    open_at: str = OPEN,
    close_at: str = CLOSE,
    resolve_by: str = RESOLVE,
) -> str:
    return (
        f"id: {qid}\n"
        f"type: {qtype}\n"
        f'title: "Question {qid}?"\n'
        'resolution_criteria: "Resolves by the test."\n'
        'resolution_sources: ["the test suite"]\n'
        f"open_at: {open_at}\n"
        f"close_at: {close_at}\n"
        f"resolve_by: {resolve_by}\n"
        "tags: [t1]\n"
        "actors: [north-korea]\n" + extra
    )


QUESTIONS: dict[str, str] = {
    "bin": _question("bin", "binary", "base_rate: {value: 0.2, reference_class: tests}\n"),
    "mc": _question("mc", "multiple_choice", 'options: ["A", "B", "C"]\n'),
    "num": _question(
        "num",
        "numeric",
        "unit: troops\nlower: {value: 0, open: false}\nupper: {value: 100000, open: true}\n",
    ),
    "free": _question("free", "numeric"),
    "when": _question(
        "when",
        "date",
        "lower: {value: 2020-01-01, open: false}\nupper: {value: 2100-01-01, open: true}\n",
    ),
    "closed": _question(
        "closed",
        "binary",
        open_at="2020-01-01T00:00:00Z",
        close_at="2021-01-01T00:00:00Z",
        resolve_by="2021-02-01T00:00:00Z",
    ),
    "later": _question(
        "later",
        "binary",
        open_at="2098-01-01T00:00:00Z",
        close_at=CLOSE,
    ),
}


def write_collection(folder: Path, questions: dict[str, str] | None = None) -> Path:
    """Write ``collection.yaml`` and one file per question into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "collection.yaml").write_text(COLLECTION_YAML, encoding="utf-8")
    for qid, text in (QUESTIONS if questions is None else questions).items():
        (folder / f"{qid}.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def _no_forecast_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's FORECAST_DB_URL, FORECAST_ANALYST or FORECAST_DEBUG must not leak in."""
    for name in ("FORECAST_DB_URL", "FORECAST_ANALYST", "FORECAST_DEBUG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def question_yaml() -> dict[str, str]:
    """The YAML text of each test question, by id (a copy: edit freely)."""
    return dict(QUESTIONS)


@pytest.fixture
def make_collection():  # type: ignore[no-untyped-def]
    """``make_collection(folder, {id: yaml_text})`` writes a collection folder."""
    return write_collection


@pytest.fixture
def collection_dir(tmp_path: Path) -> Path:
    """A question collection folder ``tmp_path/src/testcoll``."""
    return write_collection(tmp_path / "src" / "testcoll")


@pytest.fixture
def workspace(tmp_path: Path, collection_dir: Path):  # type: ignore[no-untyped-def]
    """A fresh workspace ``tmp_path/ws`` (analyst alice) with the test collection."""
    from forecasting import Workspace

    ws = Workspace.init(tmp_path / "ws", analyst="alice", questions=[collection_dir])
    yield ws
    ws.close()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_main(*args: str, env: dict[str, str | None] | None = None) -> CliResult:
    """Run ``forecasting.cli.main`` in process, as the console script would.

    ``main`` maps library errors to one line on stderr and an exit code; click's
    ``CliRunner.invoke`` would bypass that mapping, so this uses only its stream isolation.
    """
    from click.testing import CliRunner

    from forecasting.cli import main

    runner = CliRunner()
    code = 0
    with runner.isolation(env=env) as (out, err, _mixed):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
        stdout = out.getvalue().decode("utf-8", "replace")
        stderr = err.getvalue().decode("utf-8", "replace")
    return CliResult(code, stdout, stderr)


@pytest.fixture
def forecast():  # type: ignore[no-untyped-def]
    """``forecast(*args)`` runs the CLI entry point in process and returns a CliResult."""
    return run_main


SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real datasets (``../shared/data`` next to the project); skips without them."""
    path = SHARED_DATA.resolve()
    if not path.is_dir():
        pytest.skip(f"shared datasets not found at {path} (CI provides ../shared/data)")
    return path


# --------------------------------------------------------------------------- PostgreSQL
PG_ENV = "FORECAST_TEST_PG_URL"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of a PostgreSQL server for tests (``$FORECAST_TEST_PG_URL``, which `.ci/run`
    sets after `bash scripts/pg.sh start`); skips when it is not set."""
    import os

    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(
            f"PostgreSQL tests need a server: run `bash scripts/pg.sh start` and set {PG_ENV} "
            "to the URL it prints (.ci/run does both)"
        )
    return url


@pytest.fixture
def pg_url(pg_server: str):  # type: ignore[no-untyped-def]
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A journal URL on each backend: a SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journal.db'}"
    return str(request.getfixturevalue("pg_url"))


# Hypothesis keeps no example database in the checkout (the suite must not write into it).
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("forecasting", database=None)
_hypothesis_settings.load_profile("forecasting")
