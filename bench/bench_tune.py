"""Tune: the sampler and storage overhead per trial, and what pruning saves.

    python -m bench.bench_tune [--trials 30] [--epochs 30] [--k 3] [--pruners none,median,halving,hyperband]

Breast cancer (455 training rows, 30 features), 3-fold cross-validation, TPE with the same seed,
on the embedded default storage (a journal file in a temporary data dir). Two studies in this one
process, run inline (as a headless worker does), after the worker pool's warm-up fit, chunk by
chunk in turn, so that the machine's load (other users of a shared machine) falls on both alike:

- **no pruning**, **Median**, **SuccessiveHalving** and **Hyperband** (the page's settings for
  them, ``mlcore.tune.choices.make_pruner``): wall time (the seconds of each study's own chunks,
  asks, reports and tells), best value, trials pruned and epochs trained;
- **overhead**: the server's seconds in ``ask`` / ``report`` / ``should_prune`` / ``tell`` (the
  sampler and the storage), as a percentage of the study's wall time (target < 5 %); with the
  journal appends and fsyncs per trial (see ``mlcore.tune.storage`` for why they are few).

Targets: pruning saves >= 40 % of the wall time at a best value within 1 % of the unpruned one.
Until 2026-12-02 the unpruned study ran first and paid Lightning's one-off start-up (2-3 s) in its
wall time, which made Median pruning look like 40 % less; now every pool worker's warm-up fit
runs before either study.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import optuna
import torch

from mlcore.config import BuiltinConfig, SplitConfig, TrainConfig
from mlcore.data import prepare_builtin
from mlcore.train import TrainArrays
from mlcore.tune.objective import TuneJob, TuneSettings, study_attrs
from mlcore.tune.space import SearchSpace
from mlcore.tune.storage import StudyStore


def make(pruner: str, arrays, args, store) -> TuneJob:
    settings = TuneSettings(space=SearchSpace(lr=(1e-4, 1e-1), n_layers=(1, 3), units=(4, 64)), sampler="tpe",
                            pruner=pruner, k=args.k, seed=0, train_cfg=TrainConfig(batch_size=32, epochs=args.epochs))
    sampler, prn, _ = settings.sampler_and_pruner()
    study = store.create(f"bench-{pruner}", settings.direction, study_attrs(settings, arrays), sampler=sampler,
                         pruner=prn)
    return TuneJob(study, settings, arrays, args.trials)


def run_interleaved(jobs: dict) -> dict:
    """Each job's own seconds, stepping the jobs one chunk each in turn."""
    walls = dict.fromkeys(jobs, 0.0)
    while not all(j.done() for j in jobs.values()):
        for name, job in jobs.items():
            if job.done():
                continue
            t0 = time.perf_counter()
            fn, args = job.next_call()
            job.absorb(fn(*args))
            walls[name] += time.perf_counter() - t0
    return walls


def row(pruner: str, job: TuneJob, wall: float) -> dict:
    study = job.study
    states = [t.state.name for t in study.trials]
    backend = getattr(study._storage, "_backend", None)
    n = max(1, len(study.trials))
    return {"pruner": pruner, "wall": wall, "best": study.best_value, "pruned": states.count("PRUNED"),
            "epochs": job.epochs_trained, "overhead": 100 * job.overhead / max(wall, 1e-9),
            "appends": getattr(backend, "appends", 0) / n, "fsyncs": getattr(backend, "fsyncs", 0)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--pruners", default="none,median,halving,hyperband",
                    help="comma-separated, the first is the baseline (choices: mlcore.tune.choices.PRUNERS)")
    args = ap.parse_args()
    pruners = [p.strip() for p in args.pruners.split(",") if p.strip()]
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    arrays = TrainArrays.from_prepared(prepare_builtin(BuiltinConfig(name="breast_cancer"), SplitConfig()))
    store = StudyStore(tempfile.mkdtemp(prefix="bench-tune-"))
    from mlcore.jobs import _warm_fit

    _warm_fit()  # Lightning's one-off start-up (2-3 s), as every pool worker pays it before its first chunk
    jobs = {p: make(p, arrays, args, store) for p in pruners}
    walls = run_interleaved(jobs)
    rows = [row(p, job, walls[p]) for p, job in jobs.items()]
    print(f"breast cancer, {args.k}-fold CV, {args.trials} trials x up to {args.epochs} epochs, TPE seed 0, journal file"
          " (studies stepped in turn)")
    print(f"{'pruner':10} {'wall s':>7} {'best acc':>9} {'pruned':>7} {'epochs':>7} {'overhead %':>11} "
          f"{'appends/trial':>14} {'fsyncs':>7}")
    for r in rows:
        print(f"{r['pruner']:10} {r['wall']:7.1f} {r['best']:9.4f} {r['pruned']:7d} {r['epochs']:7d} "
              f"{r['overhead']:11.2f} {r['appends']:14.1f} {r['fsyncs']:7d}")
    base = rows[0]
    for r in rows[1:]:
        print(f"{r['pruner']} vs {base['pruner']}: wall time {100 * (1 - r['wall'] / base['wall']):.0f}% less; "
              f"best value {100 * (r['best'] - base['best']) / base['best']:+.2f}%")


if __name__ == "__main__":
    main()
