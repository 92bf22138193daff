"""Batched training: many small models in one Lightning run against one sequential fit.

    python -m bench.bench_evaluate [--repeats 3] [--epochs 50]

Workload (issue 7): moons, 1000 rows (800 train / 200 validation, as in ``bench.bench_train``), MLP
2-16-16-2, Adam, batch 32, 50 epochs, one torch thread. The reference is ONE sequential
:func:`mlcore.train.fit` of that model on the training set. Three batched jobs
(:func:`mlcore.batched.fit_many`):

- 5-fold cross-validation (:func:`mlcore.evaluate.folds.fold_members`): 5 models on 640 rows each;
- a 10-point capacity sweep, hidden widths 2 .. 64 (geometric), 2-w-w-2, twice: grouped by shape
  (the default: ten one-member groups, each exactly its single run) and with ``pad_widths=True``
  (one zero-padded group: the fast way, equal to its single runs only up to float rounding, which
  Adam can amplify over 50 epochs - see the max |dW| column);
- a bias-variance run: M = 20 models at 2-16-16-2 on bootstrap resamples of the training set.

For each job the table prints the batched time / one fit (median of the per-repeat ratios, the
one fit re-timed in every repeat, so background load hits both alike; "(cpu)": the same ratio of
this process's CPU time, steadier on a shared machine), the time of the same work
done sequentially (one ``train.fit`` per model, timed once) and the largest difference between the
batched and the sequential final weights (0 = the very same computation).
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
from mlcore.evaluate.folds import fold_members
from mlcore.train import TrainArrays, fit

WIDTHS = tuple(int(round(w)) for w in np.geomspace(2, 64, 10))  # 2, 3, 4, 6, 9, 14, 20, 30, 44, 64
TARGETS = {"5-fold CV": 1.5, "sweep, by shape": None, "sweep, padded": 3.0, "bias-variance M=20": 3.0}


def model_cfg(width: int = 16) -> ModelConfig:
    return ModelConfig(hidden=(LayerSpec(width, "relu"), LayerSpec(width, "relu")), binary_head="softmax")


def jobs(arrays: TrainArrays, epochs: int) -> dict[str, tuple[list[Member], bool]]:
    """name -> (members, pad_widths)."""
    cfg = TrainConfig(OptimConfig("adam", lr=0.01), batch_size=32, epochs=epochs, seed=0)
    rng = np.random.default_rng(0)
    boot = []
    for i in range(20):
        rows = rng.integers(0, len(arrays.y_train), len(arrays.y_train))
        sample = TrainArrays(arrays.X_train[rows], arrays.y_train[rows], arrays.X_val, arrays.y_val,
                             arrays.task, arrays.n_classes)
        boot.append(Member(sample, model_cfg(), TrainConfig(cfg.optim, cfg.batch_size, epochs, seed=i)))
    sweep = [Member(arrays, model_cfg(w), cfg) for w in WIDTHS]
    return {
        "5-fold CV": (fold_members(arrays, model_cfg(), cfg, k=5), False),
        "sweep, by shape": (sweep, False),
        "sweep, padded": (sweep, True),
        "bias-variance M=20": (boot, False),
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
    fit(arrays, model_cfg(), TrainConfig(cfg.optim, 32, 2, seed=0))  # warm-up (lazy imports)
    fit_many(jobs(arrays, 2)["sweep, padded"][0], pad_widths=True)

    rows = []
    for name, (members, pad) in all_jobs.items():
        ratios, cpu_ratios, batched_t, one_t = [], [], [], []
        result = None
        for _ in range(args.repeats):
            t_one, _ = timed(fit, arrays, model_cfg(), cfg)
            t_b, result = timed(fit_many, members, pad)
            ratios.append(t_b[0] / t_one[0])
            cpu_ratios.append(t_b[1] / t_one[1])
            batched_t.append(t_b[0])
            one_t.append(t_one[0])
        t_seq, seq = timed(lambda ms: [fit(m.arrays, m.model_cfg, m.train_cfg) for m in ms], members)
        one = statistics.median(one_t)
        rows.append((name, len(members), one, statistics.median(batched_t), statistics.median(ratios),
                     statistics.median(cpu_ratios), t_seq[0], t_seq[0] / one, max_dw(result, seq)))

    print(f"\nBatched training, moons 1000 rows, 2-16-16-2 (sweep 2-w-w-2), Adam, batch 32, {args.epochs} epochs,"
          f" 1 torch thread; median of {args.repeats} repeats\n")
    head = (f"{'job':<20}{'models':>7}{'one fit s':>11}{'batched s':>11}{'batched/fit':>13}{'(cpu)':>8}"
            f"{'target':>8}{'sequential s':>14}{'seq/fit':>9}{'max |dW|':>10}")
    print(head)
    print("-" * len(head))
    for name, n, one, b, ratio, cpu, seq, seq_ratio, dw in rows:
        target = f"{TARGETS[name]:.1f}x" if TARGETS[name] else "-"
        print(f"{name:<20}{n:>7}{one:>11.3f}{b:>11.3f}{ratio:>12.2f}x{cpu:>7.2f}x{target:>8}"
              f"{seq:>14.3f}{seq_ratio:>8.2f}x{dw:>10.1e}")
    print(f"\nSweep widths: {', '.join(map(str, WIDTHS))}. batched/fit: median of per-repeat ratios; sequential:")
    print("one train.fit per model, timed once. max |dW|: largest difference between batched and sequential")
    print("final weights (float rounding only: batched matmuls and the shared lockstep optimizer round differently).")


if __name__ == "__main__":
    main()
