"""Helpers shared by the decision tests (imported by the other test_decisions* files), and
the tests of the helpers themselves.

``questions(...)`` builds in-memory questions; ``decision(tmp_path, text, qs)`` writes a
decision file and compiles it, failing the test with its problems if it is invalid;
``joint(decision, **marginals)`` gives the independent joint model of given marginals.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from forecasting.decisions.marginals import Continuous, Discrete, Marginal
from forecasting.decisions.sampling import JointModel, Link
from forecasting.decisions.schema import Decision, read_decision
from forecasting.questions import Problem, Question

OPEN, CLOSE, RESOLVE = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "2099-02-01T00:00:00Z"


def question(qid: str, qtype: str = "binary", **extra: Any) -> Question:
    data: dict[str, Any] = {
        "id": qid,
        "type": qtype,
        "title": f"Question {qid}?",
        "resolution_criteria": "By the test.",
        "resolution_sources": ["the test suite"],
        "open_at": OPEN,
        "close_at": CLOSE,
        "resolve_by": RESOLVE,
    }
    if qtype == "multiple_choice":
        data["options"] = extra.pop("options", ["A", "B", "C"])
    data.update(extra)
    return Question.model_validate(data)


def questions(**types: str) -> dict[str, Question]:
    """``questions(x="binary", w="multiple_choice")`` -> ``{"x": Question, ...}``."""
    return {qid: question(qid, t) for qid, t in types.items()}


def write_decision(tmp_path: Path, text: str, name: str = "d.yaml") -> Path:
    folder = tmp_path / "decisions"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, qs: dict[str, Question]) -> list[Problem]:
    path = write_decision(tmp_path, text)
    _, probs, _ = read_decision(path, qs, display="d.yaml")
    return probs


def decision(tmp_path: Path, text: str, qs: dict[str, Question]) -> Decision:
    path = write_decision(tmp_path, text)
    dec, probs, _ = read_decision(path, qs, display="d.yaml")
    assert dec is not None and not probs, "\n".join(map(str, probs))
    return dec


def binary(p: float) -> Discrete:
    return Discrete(np.array([1.0 - p, p]))


def categorical(*probs: float) -> Discrete:
    return Discrete(np.array(probs))


def normal(mu: float, sigma: float) -> Continuous:
    from scipy import stats

    return Continuous(stats.norm(mu, sigma))


def joint(
    dec: Decision,
    links: dict[str, Link] | None = None,
    correlations: tuple[tuple[str, str, float], ...] = (),
    **marginals: Marginal,
) -> JointModel:
    return JointModel(dec.variables, dict(marginals), dict(links or {}), correlations)


def test_question_helper_builds_every_type() -> None:
    qs = questions(a="binary", b="multiple_choice", c="numeric")
    assert [q.type for q in qs.values()] == ["binary", "multiple_choice", "numeric"]
    assert qs["b"].options == ["A", "B", "C"]


def test_decision_helper_compiles(tmp_path: Path) -> None:
    dec = decision(
        tmp_path,
        """
        id: t
        title: T
        questions: {x: a}
        options: [go, stay]
        payoffs: {go: "10 * x - 5", stay: 0}
        """,
        questions(a="binary"),
    )
    assert dec.options == ("go", "stay")
    assert [v.question_id for v in dec.variables] == ["a"]
