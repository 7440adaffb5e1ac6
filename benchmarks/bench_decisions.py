"""Speed of decision analysis, each figure printed beside its target.  All data SIMULATED.

    .venv/bin/python benchmarks/bench_decisions.py [--repeat 5]

* one decision: 10 questions (4 binary, 2 multiple choice, 4 numeric), 5 options,
  100,000 joint Monte Carlo draws: expected utilities, EVPI and every EVPPI (four of them by
  regression), target < 2 s; also the whole ``analyse`` (plus thresholds and the one-way
  sensitivity table);
* ``voi_ranking`` over 50 decisions (8 questions and 5 options each) and 200 open questions in
  a workspace whose journal holds one simulated analyst's forecast on every question, target
  < 10 s; with ``forecast voi``'s default draws (at most 20,000 per decision) and, for
  reference, with each decision's full 100,000.

Each figure is the median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

OPEN, CLOSE, RESOLVE = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "2099-02-01T00:00:00Z"
TYPES = ["binary"] * 4 + ["multiple_choice"] * 2 + ["numeric"] * 4


def question_yaml(qid: str, qtype: str) -> str:
    extra = ""
    if qtype == "multiple_choice":
        extra = 'options: ["A", "B", "C"]\n'
    elif qtype == "numeric":
        extra = "lower: {value: 0, open: false}\nupper: {value: 1000, open: true}\n"
    return (
        f'id: {qid}\ntype: {qtype}\ntitle: "Simulated question {qid}?"\n'
        'resolution_criteria: "Simulated."\nresolution_sources: ["simulation"]\n'
        f"open_at: {OPEN}\nclose_at: {CLOSE}\nresolve_by: {RESOLVE}\n{extra}"
    )


def decision_yaml(did: str, names: dict[str, str], types: dict[str, str], draws: int) -> str:
    """Five options whose payoffs read every question (SIMULATED, arbitrary numbers)."""
    qs = "\n".join(f"  {n}: {q}" for n, q in names.items())
    terms = []
    for i, (n, t) in enumerate(types.items()):
        if t == "binary":
            terms.append(f"{1 + i % 3} * {n}")
        elif t == "multiple_choice":
            terms.append(f'2 * ({n} == "B") - ({n} == "C")')
        else:
            terms.append(f"({n} - 50) / 25")
    payoffs = []
    for k in range(5):
        sign = [1 if (k + i) % 2 == 0 else -1 for i in range(len(terms))]
        expr = " + ".join(
            f"{s} * ({t}) * {0.5 + 0.3 * k:.1f}" for s, t in zip(sign, terms, strict=True)
        )
        payoffs.append(f"  o{k}:\n    expr: '{k * 0.2} + {expr}'")
    return (
        f'id: {did}\ntitle: "Simulated decision {did}"\nillustrative: true\nby: alice\n'
        f"questions:\n{qs}\noptions: [o0, o1, o2, o3, o4]\npayoffs:\n"
        + "\n".join(payoffs)
        + f"\nparameters: {{}}\ndraws: {draws}\nseed: 1\n"
    )


def bench_one(repeat: int) -> None:
    from scipy import stats

    from forecasting.decisions import analyse, engine
    from forecasting.decisions.marginals import Continuous, Discrete
    from forecasting.decisions.payoffs import payoff_matrix
    from forecasting.decisions.sampling import JointModel, sample_scenarios
    from forecasting.decisions.schema import read_decision
    from forecasting.questions import load_registry

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sim"
        (root / "decisions").mkdir(parents=True)
        names = {f"x{i}": f"q{i:02d}" for i in range(10)}
        types = {f"x{i}": t for i, t in enumerate(TYPES)}
        for i, t in enumerate(TYPES):
            (root / f"q{i:02d}.yaml").write_text(question_yaml(f"q{i:02d}", t))
        path = root / "decisions" / "d.yaml"
        path.write_text(decision_yaml("d", names, types, 100_000))
        reg = load_registry(root)
        dec, problems, _ = read_decision(path, reg.questions)
        assert dec is not None and not problems, problems
    marginals = {}
    for n, t in types.items():
        if t == "binary":
            marginals[n] = Discrete(np.array([0.6, 0.4]))
        elif t == "multiple_choice":
            marginals[n] = Discrete(rng.dirichlet(np.ones(3)))
        else:
            marginals[n] = Continuous(stats.lognorm(0.5, scale=50))
    joint = JointModel(dec.variables, marginals)

    def core() -> None:
        scen = sample_scenarios(joint, dec.quantities, 100_000, np.random.default_rng(1))
        pays = payoff_matrix([dec.payoffs[o] for o in dec.options], scen.env(), scen.n)
        u = dec.utility(pays)
        engine.expected_utility(u)
        engine.mc_standard_error(u)
        engine.evpi(u)
        for v in dec.variables:
            engine.evppi(u, scen.values[v.name], discrete=v.discrete)

    core()  # warm-up: imports and SciPy's first calls
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        core()
        times.append(time.perf_counter() - t)
    print(
        f"10 questions × 5 options × 100,000 draws (SIMULATED): EU, EVPI, 10 EVPPI: "
        f"{statistics.median(times):.3f} s   (target < 2 s)"
    )
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        analyse(dec, joint, sensitivity=True, thresholds=True)
        times.append(time.perf_counter() - t)
    print(
        f"  the same with thresholds and one-way sensitivity (analyse): "
        f"{statistics.median(times):.3f} s   (no target)"
    )


def bench_voi(repeat: int) -> None:
    from forecasting import Workspace
    from forecasting.decisions import voi_ranking

    rng = np.random.default_rng(2)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src" / "sim"
        (src / "decisions").mkdir(parents=True)
        qtypes = {}
        for i in range(200):
            t = TYPES[i % len(TYPES)]
            qtypes[f"q{i:03d}"] = t
            (src / f"q{i:03d}.yaml").write_text(question_yaml(f"q{i:03d}", t))
        qids = list(qtypes)
        for d in range(50):
            chosen = rng.choice(len(qids), size=8, replace=False)
            names = {f"x{j}": qids[c] for j, c in enumerate(chosen)}
            types = {f"x{j}": qtypes[qids[c]] for j, c in enumerate(chosen)}
            text = decision_yaml(f"d{d:02d}", names, types, 100_000)
            (src / "decisions" / f"d{d:02d}.yaml").write_text(text)
        (src / "collection.yaml").write_text("id: sim\ntitle: SIMULATED collection\n")
        ws = Workspace.init(Path(tmp) / "ws", analyst="alice", questions=[src])
        with ws.journal.atomic():
            for qid, t in qtypes.items():
                if t == "binary":
                    v = f"{rng.uniform(0.05, 0.95):.3f}"
                elif t == "multiple_choice":
                    a, b = (round(float(x), 4) for x in rng.dirichlet(np.ones(3))[:2])
                    v = f"A={a},B={b},C={round(1 - a - b, 4)}"
                else:
                    m = rng.uniform(30, 70)
                    v = f"0.1={m * 0.6:.1f},0.5={m:.1f},0.9={m * 1.6:.1f}"
                ws.predict(qid, v, analyst="alice")
        voi_ranking(ws)  # warm-up: registry, frames, imports
        for draws, target in ((None, "(target < 10 s)"), (100_000, "(reference, no target)")):
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                ranking = voi_ranking(ws, draws=draws)
                times.append(time.perf_counter() - t)
            shown = "default draws (20,000)" if draws is None else f"{draws:,} draws"
            print(
                f"forecast voi, 50 decisions × 8 questions ({len(ranking)} of 200 open questions "
                f"ranked), {shown} (SIMULATED): {statistics.median(times):.3f} s   {target}"
            )
        ws.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    bench_one(args.repeat)
    bench_voi(max(1, args.repeat // 2))


if __name__ == "__main__":
    main()
