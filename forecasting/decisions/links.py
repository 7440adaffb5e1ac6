"""How questions are linked: conditional questions and their unconditional counterparts,
and declared implications.

A conditional question ``C`` (``conditional_on: {question: B, outcome: b}``) asks about the
same event as an unconditional question ``A``, given ``B = b``.  ``A`` is named in ``C``'s
``related`` list (relation ``related`` or ``conditional_on``): the one unconditional question
there, other than ``B``, of ``C``'s type (and options).  So::

    # kursk-x-given-y.yaml
    conditional_on: {question: kursk-y, outcome: yes}
    related: [{id: kursk-x, relation: related}]

makes it the arm ``kursk-x | kursk-y = yes``.  ``related: [{id: B, relation: implies}]`` on a
binary question ``A`` declares that ``A`` implies ``B`` (e.g. nested deadlines: "by June"
implies "by December"), and ``excludes`` that they cannot both happen.
"""

from __future__ import annotations

from collections.abc import Mapping

from forecasting.questions import Question, condition_outcome, condition_problem

__all__ = ["base_of", "conditional_arms", "declared_relations"]

_BASE_RELATIONS = ("related", "conditional_on")


def base_of(c: Question, questions: Mapping[str, Question]) -> str | None:
    """The unconditional question that the conditional question ``c`` is an arm of."""
    if c.conditional_on is None:
        return None
    cands = []
    for r in c.related:
        q = questions.get(r.id)
        if (
            r.relation in _BASE_RELATIONS
            and q is not None
            and r.id != c.conditional_on.question
            and q.conditional_on is None
            and q.type == c.type
            and (q.options or None) == (c.options or None)
        ):
            cands.append(r.id)
    return cands[0] if len(set(cands)) == 1 else None


def conditional_arms(
    questions: Mapping[str, Question],
) -> dict[tuple[str, str], dict[int, str]]:
    """``(A, B) -> {outcome code of B: id of the question A | B = that outcome}``."""
    out: dict[tuple[str, str], dict[int, str]] = {}
    for c in questions.values():
        if c.conditional_on is None:
            continue
        b = questions.get(c.conditional_on.question)
        if b is None or condition_problem(c, b) is not None:
            continue
        a = base_of(c, questions)
        if a is None:
            continue
        code = int(condition_outcome(c, b))
        out.setdefault((a, b.id), {}).setdefault(code, c.id)
    return out


def declared_relations(questions: Mapping[str, Question], relation: str) -> list[tuple[str, str]]:
    """``(A, B)`` pairs of binary questions where ``A`` lists ``B`` with ``relation``."""
    out = []
    for a in questions.values():
        if a.type != "binary":
            continue
        for r in a.related:
            b = questions.get(r.id)
            if r.relation == relation and b is not None and b.type == "binary" and b.id != a.id:
                out.append((a.id, b.id))
    return out
