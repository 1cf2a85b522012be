"""Benchmark of the learning effect: does Sprout's spaced review make knowledge stick, beside the anchors' rules?

Simulates a cohort (500 learners, a pack of 40 one-question lessons, one a working day, 90 days) whose
memory follows a published model with parameters of each learner's and question's own, under: no review,
Qstream's 12/24-day rule, the 1-3-10-30-60 ladder, and Sprout's own review code at several desired
retentions (learning/simulation.py). Two ground truths: FSRS-6 with drawn parameters (the main one) and
the DHP half-life model of SSP-MMC (the robustness check). Each seed is a new cohort; every policy meets
the same learners with the same random numbers.

    python benchmarks/learning_effect.py [--learners 500] [--days 90] [--seeds 5] [--seed 1]
        [--retention 0.8 0.85 0.9 0.95] [--per-review 3] [--spread 1.0] [--chart docs/learning_effect.png]

Targets, on each memory model: at no more review questions a learner a week than the best fixed rule
(the one with the higher recall at the last day), the best Sprout retention within that workload has a
higher expected recall at the last day, its margin's 95% confidence interval over seeds above zero.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from _common import ROOT, Results


def chart(comparisons, path) -> None:
    import matplotlib

    from learning.memory import MODELS

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(comparisons), figsize=(6.2 * len(comparisons), 4.4), sharey=True, squeeze=False)
    for ax, comparison in zip(axes[0], comparisons, strict=True):
        for name in comparison.names:
            recall = comparison.mean_recall(name)
            per_week = comparison.mean(name, "per_week")
            style = "-" if name.startswith("Sprout") else "--"
            ax.plot(range(1, len(recall)), recall[1:] * 100, style, label=f"{name} ({per_week:.1f}/week)", linewidth=1.6)
        last = comparison.runs[0]["no review"].last_lesson
        ax.axvline(last, color="grey", linewidth=0.8, linestyle=":")
        ax.set_title(f"Ground truth: {MODELS[comparison.model].name}")
        ax.set_xlabel("day (lessons on working days until the dotted line)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="lower left")
    axes[0][0].set_ylabel("expected recall of the questions met so far (%)")
    fig.suptitle(f"{comparisons[0].runs[0]['no review'].learners} simulated learners × "
                 f"{len(comparisons[0].seeds)} seeds, 40 questions; review questions a learner a week in brackets",
                 fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    from learning.memory import MODELS
    from learning.simulation import compare, table, verdict_lines

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seeds", type=int, default=5, help="cohorts, for the confidence interval (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="the first seed")
    parser.add_argument("--retention", type=float, nargs="+", default=[0.8, 0.85, 0.9, 0.95])
    parser.add_argument("--per-review", type=int, default=3, help="questions in a review DM (REVIEW_QUESTIONS)")
    parser.add_argument("--spread", type=float, default=1.0,
                        help="scale of the learners' and questions' spread around the models' parameters")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chart", default=str(ROOT / "docs" / "learning_effect.png"))
    args = parser.parse_args()

    results = Results("learning_effect")
    results.say(f"learning effect: {args.learners} learners × {args.seeds} seeds, {args.questions} questions, "
                f"{args.days} days, {args.per_review} questions a review DM, spread ×{args.spread}")
    seeds = range(args.seed, args.seed + args.seeds)
    comparisons = []
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for model in ("fsrs", "dhp"):
            comparison = compare(model, learners=args.learners, questions=args.questions, days=args.days,
                                 seeds=seeds, retentions=args.retention, per_review=args.per_review,
                                 spread=args.spread, mapper=pool.map)
            comparisons.append(comparison)
            name = MODELS[model].name
            results.say()
            results.say(f"ground truth {name} (means over {args.seeds} seeds):")
            for line in table(comparison):
                results.say(line)
            verdict = comparison.verdict()
            for line in verdict_lines(verdict):
                results.say(line)
            results.target(f"{name}: Sprout beats the best fixed rule ({verdict.best_fixed}) at day {args.days} "
                           f"at no more review questions a week", verdict.sprout_wins)
    results.say(f"simulated in {time.monotonic() - started:.0f} s")
    if args.chart:
        from pathlib import Path

        chart(comparisons, Path(args.chart))
        results.say(f"chart: {args.chart}")
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
