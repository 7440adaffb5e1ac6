"""The ``forecast`` command line: a thin layer over :class:`forecasting.Workspace`.

Commands are imported only when used, so ``forecast --help`` stays fast and never loads
PyMC, ArviZ or matplotlib.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from ..errors import ForecastingError

__all__ = ["COMMANDS", "cli", "cut_echoes", "main"]

#: command name -> ("module:attribute", short help).  The short help is kept here so that
#: ``forecast --help`` lists the commands without importing them; a test checks it against
#: each command's own help.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "journal_cmd:init_cmd",
        "Create a workspace: forecast.toml, a questions/ folder and an empty journal.",
    ),
    "questions": ("questions_cmd:questions", "Question files: validate, list and show them."),
    "predict": ("journal_cmd:predict", "Record a forecast on QUESTION."),
    "resolve": (
        "journal_cmd:resolve",
        "Resolve QUESTION with OUTCOME (yes/no, an option name, a number or a date).",
    ),
    "retract": ("journal_cmd:retract", "Retract a forecast (or evidence item, or resolution)."),
    "history": ("journal_cmd:history", "Each forecaster's trajectory on QUESTION."),
    "export": (
        "journal_cmd:export",
        "Write the whole journal, every record with its hashes, as JSONL or CSV.",
    ),
    "verify": ("journal_cmd:verify", "Check the journal's hash chain."),
    "head": ("journal_cmd:head", "Print the journal's head, SEQ:HASH, to keep somewhere else."),
    "evidence": (
        "evidence_cmd:evidence",
        "Evidence items: dated news reports and how they bear on questions.",
    ),
    "news": (
        "news_cmd:news",
        "News intake: feeds and lists into the inbox, then triage into evidence.",
    ),
    "model": (
        "model_cmd:model",
        "Bayesian question models: fit, inspect and record their forecasts.",
    ),
    "update": ("model_cmd:update", "Refit every open question whose evidence or clock has moved."),
    "decide": (
        "decide_cmd:decide",
        "Compute DECISION (an id or a decision file): expected utilities, EVPI, EVPPI.",
    ),
    "voi": (
        "decide_cmd:voi",
        "Rank open questions by their EVPPI summed over all decisions: forecast these first.",
    ),
    "decisions": ("decide_cmd:decisions", "Decision files: validate and list them."),
    "coherence": (
        "coherence_cmd:coherence",
        "List each forecaster's incoherent forecasts, with the smallest coherent adjustment.",
    ),
    "aggregate": (
        "aggregate_cmd:aggregate",
        "Pool the analysts' standing forecasts into team forecasts.",
    ),
    "report": (
        "report_cmd:report",
        "Score every resolved forecast and write a calibration report.",
    ),
    "import": (
        "import_cmd:import_cmd",
        "Import questions, forecasts and outcomes from PATH (files or folders).",
    ),
    "doc-forecast": (
        "doc_cmd:doc_forecast",
        "Record the forecast implied by the source document's wording.",
    ),
    "serve": (
        "serve_cmd:serve",
        "Serve the workspace to a team: web pages for signed-in analysts and a JSON API.",
    ),
    "users": (
        "users_cmd:users",
        "Accounts of the team server: add users, set roles, make API tokens.",
    ),
    "demo": (
        "demo_cmd:demo",
        "Run the Kursk question set on what really happened, and report.",
    ),
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use (not for ``--help``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        mod, attr = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(f"{__name__}.{mod}"), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "-w",
    "--workspace",
    "workspace",
    type=click.Path(file_okay=False),
    default=None,
    help="Workspace folder (default: the nearest folder with forecast.toml).",
)
@click.option(
    "--db",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL of the journal (overrides forecast.toml; also FORECAST_DB_URL).",
)
@click.version_option(package_name="forecasting", prog_name="forecast")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, db: str | None) -> None:
    """Structured forecasting: register questions, record forecasts and evidence in a
    tamper-evident journal, resolve, score and report calibration.

    \b
    Quick start:
      forecast demo                          # the whole loop on simulated data
      forecast init ws --questions questions/kursk-2024
      cd ws && forecast questions validate
      forecast predict kursk-nk-troops-engage 70% --analyst alice --rationale "..."
      forecast verify
    """
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace
    ctx.obj["db"] = db


def cut_echoes(message: str, limit: int = 80) -> str:
    """Shorten quoted input echoed in an error message to about ``limit`` characters, and the
    message to one line: a 120 KB value must not come back as a 120 KB line."""
    import re

    def cut(m: re.Match[str]) -> str:
        q, body = m.group(1), m.group(2)
        half = (limit - 1) // 2  # keep both ends: a path's tail names the file
        return f"{q}{body[:half]}…{body[-half:]}{q}" if len(body) > limit else m.group(0)

    pattern = r"(['\"])((?:(?!\1).){" + str(limit + 1) + r",})\1"
    out = re.sub(pattern, cut, message.splitlines()[0] if message else "")
    return out if len(out) <= 1000 else out[:999] + "…"


def main(argv: list[str] | None = None) -> Any:
    """Entry point: library errors become one line on stderr, never a traceback."""
    debug = bool(os.environ.get("FORECAST_DEBUG"))
    try:
        rv = cli.main(args=argv, prog_name="forecast", standalone_mode=False)
    except ForecastingError as exc:
        if debug:
            raise
        click.echo(f"error: {cut_echoes(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 1 else exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted; nothing further was recorded", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {cut_echoes(str(exc))} "
            "(set FORECAST_DEBUG=1 for a traceback)",
            err=True,
        )
        sys.exit(3)
    if isinstance(rv, int) and rv:
        sys.exit(rv)
    return rv
