"""Decision files: validation with file:line problems, like question files."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_decisions_support import decision, problems_of, question, questions, write_decision

from forecasting.decisions import DecisionFileError, load_decisions
from forecasting.errors import QuestionError, UnknownQuestionError

QS = {
    **questions(clash="binary", war="multiple_choice", troops="numeric", when="date"),
    "a-given-clash": question(
        "a-given-clash",
        "binary",
        conditional_on={"question": "clash", "outcome": "yes"},
    ),
}

GOOD = """\
id: good
title: A valid decision
illustrative: true
unit: points
as_of: 2024-11-15
by: doc:kursk-2024
fallback: model
questions:
  c: clash
  w: war
  t: troops
options:
  - {id: go, label: Go ahead}
  - stay
parameters:
  gain: {value: 4, range: [2, 6], justification: one line}
  loss: {distribution: normal, mu: 8, sigma: 2, justification: one line}
payoffs:
  go:
    justification: one line
    table:
      - {when: {c: yes, w: [A, B]}, value: "gain - loss"}
      - {when: {t: {at_least: 10000, below: 20000}}, value: 3}
      - {value: "gain * t / 10000"}
  stay: 0
utility: {kind: exponential, risk_tolerance: 10}
correlations: [{between: [c, t], rank: 0.3}]
draws: 1000
seed: 7
"""


def lines(tmp_path: Path, text: str) -> list[str]:
    return [str(p) for p in problems_of(tmp_path, text, QS)]


def test_a_good_file_compiles(tmp_path: Path) -> None:
    dec = decision(tmp_path, GOOD, QS)
    assert dec.options == ("go", "stay")
    assert dec.labels == {"go": "Go ahead", "stay": "stay"}
    assert [v.name for v in dec.variables] == ["c", "w", "t"]
    assert dec.variables[1].categories == ("A", "B", "C")
    assert dec.parameters == ("gain", "loss")
    assert dec.quantities["gain"].low == 2 and dec.quantities["gain"].high == 6
    assert dec.quantities["loss"].uncertain
    assert dec.quantities["payoffs.go.table.1"].label == "go: when t=at_least 10000 below 20000"
    assert dec.utility.kind == "exponential" and dec.utility.risk_tolerance == 10
    assert dec.correlations == (("c", "t", 0.3),)
    assert dec.fallback == ("model",) and dec.by == "doc:kursk-2024"
    assert dec.as_of is not None and dec.as_of.isoformat() == "2024-11-15T00:00:00+00:00"
    assert dec.draws == 1000 and dec.seed == 7 and dec.illustrative


@pytest.mark.parametrize(
    ("old", "new", "want"),
    [
        (
            "  t: troops\n",
            "  t: tropps\n",
            "d.yaml:11: questions.t: 'tropps' is not a known question id",
        ),
        (
            "  c: clash\n",
            "  c: a-given-clash\n",
            "d.yaml:9: questions.c: a-given-clash is a conditional question",
        ),
        (
            "  c: clash\n",
            "  2c: clash\n",
            "d.yaml:9: questions.2c: '2c' is not a valid variable name",
        ),
        (
            "w: [A, B]",
            "w: [A, D]",
            "d.yaml:22: payoffs.go.table.0.when.w: 'D' is not an option of w (war)",
        ),
        (
            "c: yes, w",
            "c: maybe, w",
            "d.yaml:22: payoffs.go.table.0.when.c: 'maybe' is not an outcome of the binary c",
        ),
        (
            '"gain * t / 10000"',
            '"max(gain, t)"',
            "d.yaml:24: payoffs.go.table.2.value: 'max(gain, t)': calls are not allowed (max(...))",
        ),
        (
            '"gain * t / 10000"',
            "\"__import__('os').system('ls')\"",
            "calls are not allowed",
        ),
        ('"gain * t / 10000"', '"gain * z"', "unknown name 'z'"),
        ("seed: 7\n", "seed: 7\ncolour: red\n", "d.yaml:30: colour: unknown field"),
        ("  stay: 0\n", "", "d.yaml:18: payoffs: no payoff for option(s) stay"),
        (
            "  stay: 0\n",
            "  stay: 0\n  leave: 1\n",
            "d.yaml:26: payoffs.leave: 'leave' is not an option",
        ),
        (
            "distribution: normal, mu: 8, sigma: 2",
            "distribution: normall, mu: 8, sigma: 2",
            "d.yaml:17: parameters.loss.distribution: 'normall' is not allowed",
        ),
        (
            "distribution: normal, mu: 8, sigma: 2",
            "distribution: normal, mu: 8",
            "d.yaml:17: parameters.loss: a normal distribution takes mu, sigma; missing sigma",
        ),
        (
            "distribution: normal, mu: 8, sigma: 2",
            "distribution: normal, mu: 8, sigma: -2",
            "d.yaml:17: parameters.loss: the normal distribution",
        ),
        (
            "range: [2, 6]",
            "range: [5, 6]",
            "d.yaml:16: parameters.gain.range: [5, 6] does not contain the value 4",
        ),
        (
            "risk_tolerance: 10",
            "risk_tolerance: -1",
            "d.yaml:26: utility.risk_tolerance: Input should be greater than 0",
        ),
        (
            "{kind: exponential, risk_tolerance: 10}",
            "{kind: exponential}",
            "d.yaml:26: utility: an exponential utility needs",
        ),
        (
            "{kind: exponential, risk_tolerance: 10}",
            "{kind: log}",
            "d.yaml:26: utility.kind: 'log' is not allowed",
        ),
        (
            "rank: 0.3",
            "rank: 1.5",
            "d.yaml:27: correlations.0.rank: Input should be less than or equal to 0.99",
        ),
        (
            "between: [c, t]",
            "between: [c, q]",
            "d.yaml:27: correlations.0.between: 'q' is not a variable",
        ),
        (
            "by: doc:kursk-2024",
            "by: team:nosuch",
            "d.yaml:6: by: 'team:nosuch': 'nosuch' is not a pooling method",
        ),
        (
            "draws: 1000",
            "draws: 10",
            "d.yaml:28: draws: Input should be greater than or equal to 100",
        ),
        ("  - stay\n", "  - go\n", "d.yaml:14: options.1: 'go' is listed twice"),
        ("id: good", "id: Good Decision", "d.yaml:1: id: 'Good Decision' is not a valid id"),
        ("as_of: 2024-11-15", "as_of: 2024-11-15T10:00:00", "d.yaml:5: as_of:"),
    ],
)
def test_bad_files_give_file_line_problems(tmp_path: Path, old: str, new: str, want: str) -> None:
    assert old in GOOD
    got = lines(tmp_path, GOOD.replace(old, new, 1))
    assert any(want in g for g in got), got
    assert all(g.startswith("d.yaml:") for g in got)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("  t: troops\n", "  t: tropps\n").replace("seed: 7\n", "seed: 7\nx: 1\n")
    text = text.replace('"gain - loss"', '"max(gain)"')
    got = lines(tmp_path, text)
    assert len(got) >= 3, got


def test_table_coverage(tmp_path: Path) -> None:
    base = """\
id: cov
title: Coverage
questions: {c: clash, w: war, t: troops}
options: [a, b]
payoffs:
  a:
    table:
      - {when: {c: yes}, value: 1}
      - {when: {c: no, w: A}, value: 2}
  b: 0
"""
    got = lines(tmp_path, base)
    assert got == [
        "d.yaml:7: payoffs.a.table: no row covers c=no, w=B; c=no, w=C; add a final row "
        "without `when` (every other scenario)"
    ]
    numeric = base.replace("{c: no, w: A}", "{t: {above: 5}}")
    assert "needs a final row without `when`" in lines(tmp_path, numeric)[0]
    full = base.replace("{c: no, w: A}", "{c: no}")
    assert lines(tmp_path, full) == []
    dead = base.replace("{when: {c: yes}, value: 1}", "{value: 1}")
    assert lines(tmp_path, dead) == [
        "d.yaml:9: payoffs.a.table.1: this row is never used: row 0 has no `when` and matches "
        "every scenario"
    ]


def test_a_payoff_needs_exactly_one_form(tmp_path: Path) -> None:
    text = GOOD.replace("  stay: 0\n", "  stay: {value: 0, expr: '1'}\n")
    assert any(
        "give exactly one of value, expr or table (got value, expr)" in g
        for g in lines(tmp_path, text)
    )


def test_correlations_must_be_consistent(tmp_path: Path) -> None:
    text = """\
id: corr
title: Impossible correlations
questions: {a: troops, b: when, c: clash}
options: [x, y]
payoffs: {x: "a + b + c", y: 0}
correlations:
  - {between: [a, b], rank: 0.95}
  - {between: [b, c], rank: 0.95}
  - {between: [a, c], rank: -0.95}
"""
    got = lines(tmp_path, text)
    assert got and got[0].startswith("d.yaml:6: correlations: the stated rank correlations")


def test_malformed_and_empty_files(tmp_path: Path) -> None:
    assert lines(tmp_path, "id: x\ntitle: [unclosed\n")[0].startswith("d.yaml:3: yaml:")
    assert lines(tmp_path, "# nothing\n") == [
        "d.yaml:1: file: is empty; it must hold one mapping (key: value)"
    ]
    assert lines(tmp_path, "- a list\n") == [
        "d.yaml:1: decision: the file must hold one mapping (key: value)"
    ]
    assert "duplicate key" in lines(tmp_path, GOOD + "seed: 8\n")[0]


def test_load_decisions_and_duplicate_ids(tmp_path: Path) -> None:
    write_decision(tmp_path, GOOD, "one.yaml")
    write_decision(tmp_path, GOOD, "two.yaml")
    write_decision(tmp_path, GOOD.replace("id: good", "id: other"), "three.yaml")
    write_decision(tmp_path, "id: broken\ntitle: B\n", "four.yaml")
    ds = load_decisions(tmp_path, QS, base=tmp_path)
    assert list(ds.decisions) == ["other"]
    assert ds.files["good"] == ["decisions/one.yaml", "decisions/two.yaml"]
    assert any("'good' is already defined in decisions/one.yaml" in str(p) for p in ds.problems)
    with pytest.raises(DecisionFileError, match=r"decisions/four.yaml:1: questions: is required"):
        ds.get("broken")
    with pytest.raises(QuestionError):
        ds.get("good")
    with pytest.raises(UnknownQuestionError, match="did you mean other"):
        ds.get("oth")
    assert ds.get("other").title == "A valid decision"


def test_numeric_and_date_conditions(tmp_path: Path) -> None:
    import numpy as np

    dec = decision(
        tmp_path,
        """\
id: conds
title: Conditions on numbers and dates
questions: {t: troops, d: when}
options: [a, b]
payoffs:
  a:
    table:
      - {when: {t: {above: 10, at_most: 20}, d: {below: 2025-01-01}}, value: 1}
      - {value: 0}
  b: 0
""",
        QS,
    )
    payoff = dec.payoffs["a"]
    days_2024 = 19800.0  # 2024-03-18
    env = {"t": np.array([10.0, 15.0, 20.0, 15.0]), "d": np.array([days_2024] * 3 + [20100.0])}
    env.update({q.name: q.nominal for q in dec.quantities.values()})
    assert payoff.evaluate(env, 4).tolist() == [0.0, 1.0, 1.0, 0.0]


def test_has_decision_files_agrees_with_decision_files(tmp_path: Path) -> None:
    from forecasting.decisions.schema import decision_files, has_decision_files

    layouts = [
        [],
        ["c/q1.yaml"],
        ["c/decisions/notes.txt"],
        ["c/decisions/d.yaml"],
        ["c/sub/decisions/d.yml"],
        ["c/.hidden/decisions/d.yaml"],
        ["decisions/d.yaml"],
    ]
    for i, files in enumerate(layouts):
        root = tmp_path / str(i)
        root.mkdir()
        for f in files:
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            (root / f).write_text("x: 1\n", encoding="utf-8")
        assert has_decision_files(root) == bool(decision_files(root)), files
    assert [has_decision_files(tmp_path / str(i)) for i in range(len(layouts))] == [
        False, False, False, True, True, False, True,
    ]  # fmt: skip
