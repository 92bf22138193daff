"""Tune: the sampler and storage overhead per trial, and what pruning saves.

    python -m bench.bench_tune [--trials 30] [--epochs 30] [--k 3] [--seeds 0,1,2,3,4,5,6,7]
                               [--pruners none,halving,hyperband,median] [--modes inline,pool]

Breast cancer (455 training rows, 30 features), 3-fold cross-validation, TPE, on the embedded
default storage (a journal file in a temporary data dir). For each seed, one study per pruner,
after the worker's warm-up fit, in two modes:

- ``inline``: in this one process (as a headless worker runs them), chunk by chunk in turn, so
  that the machine's load (other users of a shared machine) falls on all of them alike;
- ``pool``: as the Tune page runs a study, each chunk through one worker process of the app's
  ``WorkerPool`` (``JobController``), the asks and tells in this process; one study at a time,
  its wall time from start to done (what the user waits for, with the pool's round trips).

Measured in both:

- **no pruning** and each pruner with the page's settings (``mlcore.tune.choices.make_pruner``;
  SuccessiveHalving is the page's default): wall time (the seconds of each study's own chunks,
  asks, reports and tells), best value, trials pruned and epochs trained;
- **overhead**: the server's seconds in ``ask`` / ``report`` / ``tell`` (the sampler and the
  storage; target < 5 %) and, apart, in ``should_prune`` (the pruner's decisions), as a
  percentage of the study's wall time;
  with the journal appends and fsyncs per trial (see ``mlcore.tune.storage`` for why they are few).

Targets: pruning saves >= 40 % of the wall time at a best value within 1 % of the unpruned one.
A pruned study's trials differ from the unpruned one's after its first pruned trial (TPE learns
from what was pruned), so one seed is one draw: the summary gives the mean and the range over the
seeds.

TPE's sampling costs about twice as much right after training as in a tight loop: on 25 trials
of history, 1.0-1.4 ms an ask in a loop, 2.2-2.6 ms with 20 ms of torch work between the asks,
the same with the garbage collector off (the CPU's caches, not Python's). So a study's sampler
time is not what a sampler benchmark of its own would show.

Until 2026-12-02 the unpruned study ran first and paid Lightning's one-off start-up (2-3 s) in its
wall time, which made Median pruning look like 40 % less; now every pool worker's warm-up fit runs
before any study.
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


def make(pruner: str, arrays, args, store, seed: int = 0, tag: str = "") -> TuneJob:
    settings = TuneSettings(space=SearchSpace(lr=(1e-4, 1e-1), n_layers=(1, 3), units=(4, 64)), sampler="tpe",
                            pruner=pruner, k=args.k, seed=seed, train_cfg=TrainConfig(batch_size=32, epochs=args.epochs))
    sampler, prn, _ = settings.sampler_and_pruner()
    study = store.create(f"bench-{tag}{pruner}-{seed}", settings.direction, study_attrs(settings, arrays),
                         sampler=sampler, pruner=prn)
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
    return {"name": pruner, "wall": wall, "best": study.best_value, "pruned": states.count("PRUNED"),
            "epochs": job.epochs_trained, "overhead": 100 * (job.overhead - job.pruner_seconds) / max(wall, 1e-9),
            "pruner": 100 * job.pruner_seconds / max(wall, 1e-9),
            "appends": getattr(backend, "appends", 0) / n, "fsyncs": getattr(backend, "fsyncs", 0)}


def run_pooled(jobs: dict, pool) -> dict:
    """Each job alone, in turn, through the app's worker pool (``JobController``, as the Tune page
    starts a study): its seconds from start to done, what the user waits for."""
    from mlcore.jobs import JobController

    walls = {}
    for name, job in jobs.items():
        ctrl = JobController(pool, job)
        t0 = time.perf_counter()
        ctrl.start()
        snap = ctrl.wait(1800)
        walls[name] = time.perf_counter() - t0
        if snap.error is not None:
            raise snap.error
    return walls


def main() -> None:
    import numpy as np

    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--seeds", default="0,1,2,3,4,5,6,7", help="comma-separated TPE seeds")
    ap.add_argument("--pruners", default="none,halving,hyperband,median",
                    help="comma-separated, the first is the baseline (choices: mlcore.tune.choices.PRUNERS)")
    ap.add_argument("--modes", default="inline,pool",
                    help="inline: chunks in this process, as a headless worker runs them; pool: through "
                         "one worker process of the app's pool, as the Tune page runs a study")
    args = ap.parse_args()
    pruners = [p.strip() for p in args.pruners.split(",") if p.strip()]
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    arrays = TrainArrays.from_prepared(prepare_builtin(BuiltinConfig(name="breast_cancer"), SplitConfig()))
    store = StudyStore(tempfile.mkdtemp(prefix="bench-tune-"))
    from mlcore.jobs import WorkerPool, _warm_fit

    _warm_fit()  # Lightning's one-off start-up (2-3 s), as every pool worker pays it before its first chunk
    pool = None
    if "pool" in modes:
        pool = WorkerPool(n_workers=1)
        pool.submit(time.sleep, 0).future.result(timeout=300)  # the worker's start-up and warm-up fit
    print(f"breast cancer, {args.k}-fold CV, {args.trials} trials x up to {args.epochs} epochs, TPE, journal file")
    print("overhead %: sampler + storage (ask, suggest, report, tell) + pruner (should_prune), of the wall time")
    for mode in modes:
        how = ("inline: chunks in this process (a headless worker), studies stepped in turn" if mode == "inline" else
               "pool: one study at a time through one worker process (the Tune page), wall = start to done")
        print(f"\n== {how}")
        print(f"{'seed':>4} {'pruner':10} {'wall s':>7} {'best acc':>9} {'pruned':>7} {'epochs':>7} {'overhead %':>15} "
              f"{'appends/trial':>14} {'fsyncs':>7} {'wall saved':>11} {'best vs none':>13}")
        summary: dict[str, list] = {p: [] for p in pruners}
        for seed in seeds:
            jobs = {p: make(p, arrays, args, store, seed, tag=mode) for p in pruners}
            walls = run_interleaved(jobs) if mode == "inline" else run_pooled(jobs, pool)
            rows = [row(p, job, walls[p]) for p, job in jobs.items()]
            base = rows[0]
            for r in rows:
                saved = 100 * (1 - r["wall"] / base["wall"])
                best = 100 * (r["best"] - base["best"]) / base["best"]
                summary[r["name"]].append((saved, best, r["overhead"], r["pruner"]))
                print(f"{seed:4d} {r['name']:10} {r['wall']:7.1f} {r['best']:9.4f} {r['pruned']:7d} {r['epochs']:7d} "
                      f"{r['overhead']:8.2f} + {r['pruner']:4.2f} {r['appends']:14.1f} {r['fsyncs']:7d} "
                      f"{saved:10.0f}% {best:+12.2f}%")
        print(f"{mode}, over {len(seeds)} seeds: mean (min to max)")
        for p, vals in summary.items():
            a = np.array(vals)
            line = (f"{p:10} sampler + storage {a[:, 2].mean():.1f}% ({a[:, 2].min():.1f} to {a[:, 2].max():.1f}), "
                    f"pruner {a[:, 3].mean():.1f}%")
            if p != pruners[0]:
                line += (f"; wall time {a[:, 0].mean():.0f}% less ({a[:, 0].min():.0f} to {a[:, 0].max():.0f}); "
                         f"best value {a[:, 1].mean():+.2f}% ({a[:, 1].min():+.2f} to {a[:, 1].max():+.2f})")
            print(line)
    if pool is not None:
        pool.shutdown(wait=True)


if __name__ == "__main__":
    main()
