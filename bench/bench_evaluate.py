"""Batched training: many small models in one Lightning run against one sequential fit.

    python -m bench.bench_evaluate [--repeats 3] [--epochs 50]

Workload (issue 7): moons, 1000 rows (800 train / 200 validation, as in ``bench.bench_train``), MLP
2-16-16-2, Adam, batch 32, 50 epochs, one torch thread. The reference is ONE sequential
:func:`mlcore.train.fit` of that model on the training set. The jobs:

- 5-fold cross-validation (:func:`mlcore.evaluate.folds.fold_members`, :func:`mlcore.batched.fit_many`):
  5 models on 640 rows each;
- a 10-point capacity sweep, hidden widths 2 .. 64 (geometric), 2-w-w-2, one seed, AS THE EVALUATE
  PAGE RUNS IT: :func:`mlcore.evaluate.sweeps.capacity_job` run chunk by chunk
  (``mlcore.jobs.run_inline``: two point groups of 5 widths, ``CHUNK_SECONDS`` chunks, each a batched
  call with ``pad_widths=True`` that resumes the previous one, and the final scoring; exact: each
  group's widths train in one looped group); the same with the page's default 3 seeds (30 models);
- the same 10 widths as one zero-padded group with ``exact=False`` (``fit_many(pad_widths=True,
  exact=False)``): the fast approximate path, equal to its single runs only up to rounding, which
  Adam amplifies over 50 epochs (see its max |dW|);
- the page's learning curve (6 nested fractions of the training set, one seed) and regularisation
  comparison (none, L2, dropout, early stopping), run as the page runs them;
- a bias-variance run: M = 20 models at 2-16-16-2 on bootstrap resamples (``fit_many``).

For each job the table prints the batched time / one fit (median of the per-repeat ratios, the
one fit re-timed in every repeat, so background load hits both alike; "(cpu)": the same ratio of
this process's CPU time, steadier on a shared machine), the time of the same work
done sequentially (one ``train.fit`` per model, timed once) and the largest difference between the
batched and the sequential final weights (0 = the very same computation; for the page's sweeps
the weights come from ``fit_many(pad_widths=True)`` over the same point groups, which the chunked
run equals).
Targets: 5-fold <= 1.5x, sweep <= 3x, bias-variance <= 3x one fit.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from bench.bench_train import workloads
from mlcore.batched import Member, fit_many
from mlcore.config import LayerSpec, ModelConfig, OptimConfig, TrainConfig
from mlcore.evaluate import regularise, sweeps
from mlcore.evaluate.folds import fold_members
from mlcore.jobs import run_inline
from mlcore.train import TrainArrays, fit

WIDTHS = tuple(int(round(w)) for w in np.geomspace(2, 64, 10))  # 2, 3, 4, 6, 9, 14, 20, 30, 44, 64
TARGETS = {"5-fold CV": 1.5, "sweep (page)": 3.0, "sweep x3 seeds (page)": None, "sweep, padded ~": None,
           "learning curve (page)": None, "regularisation (page)": None, "bias-variance M=20": 3.0}


def model_cfg(width: int = 16) -> ModelConfig:
    return ModelConfig(hidden=(LayerSpec(width, "relu"), LayerSpec(width, "relu")), binary_head="softmax")


def _page_sweep(arrays: TrainArrays, cfg: TrainConfig, seeds: int):
    return _page_job(lambda: sweeps.capacity_job(arrays, model_cfg(), cfg, "width", WIDTHS, n_seeds=seeds))


def _page_job(make):
    """(members, run, states) of a page study: ``run`` times what the page runs, ``states`` gives
    the final weights of the same members (``fit_many`` per point group)."""
    job = make()
    members = [m for p in job.points for m in p.members]

    def states():
        out = []
        for a, b in job.groups:
            out.extend(fit_many([m for p in job.points[a:b] for m in p.members], pad_widths=True))
        return out
    return members, lambda: run_inline(make()), states


def jobs(arrays: TrainArrays, epochs: int) -> dict[str, tuple]:
    """name -> (members, run, states): ``run()`` is timed, ``states()`` gives the final weights."""
    cfg = TrainConfig(OptimConfig("adam", lr=0.01), batch_size=32, epochs=epochs, seed=0)
    rng = np.random.default_rng(0)
    boot = []
    for i in range(20):
        rows = rng.integers(0, len(arrays.y_train), len(arrays.y_train))
        sample = TrainArrays(arrays.X_train[rows], arrays.y_train[rows], arrays.X_val, arrays.y_val,
                             arrays.task, arrays.n_classes)
        boot.append(Member(sample, model_cfg(), TrainConfig(cfg.optim, cfg.batch_size, epochs, seed=i)))
    sweep = [Member(arrays, model_cfg(w), cfg) for w in WIDTHS]
    folds = fold_members(arrays, model_cfg(), cfg, k=5)
    padded = (lambda: fit_many(sweep, pad_widths=True, exact=False))
    return {
        "5-fold CV": (folds, lambda: fit_many(folds), lambda: fit_many(folds)),
        "sweep (page)": _page_sweep(arrays, cfg, 1),
        "sweep x3 seeds (page)": _page_sweep(arrays, cfg, 3),
        "sweep, padded ~": (sweep, padded, padded),
        "learning curve (page)": _page_job(lambda: sweeps.learning_curve_job(arrays, model_cfg(), cfg)),
        "regularisation (page)": _page_job(lambda: regularise.regularisation_job(arrays, model_cfg(), cfg)),
        "bias-variance M=20": (boot, lambda: fit_many(boot), lambda: fit_many(boot)),
    }


def timed(fn, *args):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return (time.perf_counter() - t0, time.process_time() - c0), out


def max_dw(a, b) -> float:
    return max(float(np.abs(np.asarray(x.model_state[k]) - np.asarray(y.model_state[k])).max())
               for x, y in zip(a, b) for k in x.model_state)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    moons = workloads()[0]
    arrays = moons.arrays
    cfg = TrainConfig(OptimConfig("adam", lr=0.01), batch_size=32, epochs=args.epochs, seed=0)
    all_jobs = jobs(arrays, args.epochs)
    fit(arrays, model_cfg(), TrainConfig(cfg.optim, 32, 2, seed=0))  # warm-up (lazy imports, probes)
    for _members, run, _states in jobs(arrays, 2).values():
        run()

    rows = []
    for name, (members, run, states) in all_jobs.items():
        ratios, cpu_ratios, batched_t, one_t = [], [], [], []
        for _ in range(args.repeats):
            t_one, _ = timed(fit, arrays, model_cfg(), cfg)
            t_b, _ = timed(run)
            ratios.append(t_b[0] / t_one[0])
            cpu_ratios.append(t_b[1] / t_one[1])
            batched_t.append(t_b[0])
            one_t.append(t_one[0])
        t_seq, seq = timed(lambda ms: [fit(m.arrays, m.model_cfg, m.train_cfg) for m in ms], members)
        one = statistics.median(one_t)
        rows.append((name, len(members), one, statistics.median(batched_t), statistics.median(ratios),
                     statistics.median(cpu_ratios), t_seq[0], t_seq[0] / one, max_dw(states(), seq)))

    print(f"\nBatched training, moons 1000 rows, 2-16-16-2 (sweep 2-w-w-2), Adam, batch 32, {args.epochs} epochs,"
          f" 1 torch thread; median of {args.repeats} repeats\n")
    head = (f"{'job':<23}{'models':>7}{'one fit s':>11}{'batched s':>11}{'batched/fit':>13}{'(cpu)':>8}"
            f"{'target':>8}{'sequential s':>14}{'seq/fit':>9}{'max |dW|':>10}")
    print(head)
    print("-" * len(head))
    for name, n, one, b, ratio, cpu, seq, seq_ratio, dw in rows:
        target = f"{TARGETS[name]:.1f}x" if TARGETS[name] else "-"
        print(f"{name:<23}{n:>7}{one:>11.3f}{b:>11.3f}{ratio:>12.2f}x{cpu:>7.2f}x{target:>8}"
              f"{seq:>14.3f}{seq_ratio:>8.2f}x{dw:>10.1e}")
    print(f"\nSweep widths: {', '.join(map(str, WIDTHS))}. batched/fit: median of per-repeat ratios; sequential:")
    print("one train.fit per model, timed once. max |dW|: largest difference between batched and sequential")
    print("final weights. (page): what the Evaluate page runs (chunks, point groups, scoring); ~: exact=False.")


if __name__ == "__main__":
    main()
