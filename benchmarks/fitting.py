"""Benchmark of `review optimize`'s fit: how long FSRS-6's optimizer (fsrs-rs-python) takes on 100,000
reviews, and how much better the fitted parameters predict held-out learners' reviews than the defaults.

The reviews come from the memory simulation (learning/simulation.py): simulated learners answer a pack's
40 questions over 90 days under Sprout's own reviews, their memory following a known truth:
- ``fsrs``: FSRS-6 with each learner's and question's parameters drawn around the published defaults
  (the defaults are right on average: little to gain);
- ``fast``: FSRS-6 drawn around parameters of people who forget faster than the defaults expect
  (first stabilities a quarter of the defaults', slower growth, a steeper curve);
- ``dhp``: the DHP half-life model of SSP-MMC, a different model altogether.

    python benchmarks/fitting.py [--reviews 100000] [--truth fsrs fast dhp] [--seed 1]

Targets: the whole fit (fit on 80% of the learners, judge on the rest) of 100,000 reviews under 60 s;
the fitted log loss lower than the defaults' on the ``fast`` and ``dhp`` truths.
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import Results


def truths():
    from learning.fitting import DEFAULT_PARAMETERS

    fast = list(DEFAULT_PARAMETERS)
    fast[0] *= 0.25
    fast[2] *= 0.25
    fast[8] = 1.3
    fast[20] = 0.5
    return {"fsrs": ("fsrs", None), "fast": ("fsrs", fast), "dhp": ("dhp", None)}


def histories(model: str, truth, reviews: int, seed: int):
    from learning.fitting import CardHistory
    from learning.simulation import recorded_answers

    out, learners, batch = [], 0, 100
    while sum(h.reviews for h in out) < reviews:
        for answers in recorded_answers(model, learners=batch, questions=40, days=90, seed=seed * 1000 + learners,
                                        truth=truth):
            learners += 1
            by_question: dict[int, list] = {}
            for question, moment, rating in answers:
                by_question.setdefault(question, []).append((moment, rating))
            out += [CardHistory(len(out) + 1, learners, tuple(h)) for h in by_question.values()]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reviews", type=int, default=100_000, help="at least this many reviews (default 100,000)")
    ap.add_argument("--truth", nargs="+", choices=("fsrs", "fast", "dhp"), default=["fsrs", "fast", "dhp"])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    from learning.fitting import fit, fit_parameters, items
    from learning.review import replay

    results = Results("fitting")
    results.say(f"review optimize's fit, at least {args.reviews:,} simulated reviews per truth (seed {args.seed})")
    results.say("| truth | reviews | learners | held-out reviews | log loss fitted | log loss defaults "
                "| items (s) | fit on all (s) | fit + judge (s) | reschedule open cards (s) |")
    results.say("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.truth:
        model, truth = truths()[name]
        records = histories(model, truth, args.reviews, args.seed)
        t = time.perf_counter()
        items(records)
        t_items = time.perf_counter() - t
        t = time.perf_counter()
        parameters = fit_parameters(records)
        t_all = time.perf_counter() - t
        t = time.perf_counter()
        result = fit(records)
        t_fit = time.perf_counter() - t
        t = time.perf_counter()
        for h in records:
            if not h.retired:
                replay(h.answers, parameters=parameters)
        t_replay = time.perf_counter() - t
        results.say(f"| {name} | {result.reviews:,} | {result.learners} | {result.held_out_reviews:,} "
                    f"| {result.log_loss:.4f} | {result.default_log_loss:.4f} | {t_items:.2f} | {t_all:.2f} "
                    f"| {t_fit:.2f} | {t_replay:.2f} |")
        results.target(f"{name}: fit + judge of {result.reviews:,} reviews under 60 s ({t_fit:.1f} s)", t_fit < 60)
        if name != "fsrs":
            results.target(f"{name}: fitted predicts held-out reviews better ({result.log_loss:.4f} < "
                           f"{result.default_log_loss:.4f})", result.better)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
