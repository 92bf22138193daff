"""Live training view: overhead against headless training, and time to the first curve point.

    python -m bench.bench_live [--repeats 3]

Both figures are measured in this one process, on the moons workload (1000 rows, 2-16-16-2,
batch 32, Adam, 50 epochs):

- overhead: the Play path (``TrainingController`` over a warm ``WorkerPool`` of processes, chunks
  of about 0.3 s, each followed by the views: decision-boundary grid of 80x80 points and the
  28x28 neuron maps) against ``mlcore.train.fit`` for the same epochs with no views, in the same
  process. Target: at most 1.15x.
- first point: wall time from ``play()`` to the first finished chunk (first epoch's curve point
  available to the page), with the pool already warm (as after the Build page warmed it).
  Target: under 1 s. The page polls every 0.5 s, so add up to 0.5 s for it to be drawn.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mlcore.config import BuiltinConfig, LayerSpec, ModelConfig, OptimConfig, SplitConfig, TrainConfig
from mlcore.data import prepare_builtin
from mlcore.jobs import TrainingController, WorkerPool
from mlcore.train import TrainArrays, fit
from mlcore.views import input_grid

MODEL = ModelConfig(hidden=(LayerSpec(16, "relu"), LayerSpec(16, "relu")))
TRAIN = TrainConfig(optim=OptimConfig(name="adam", lr=0.01), batch_size=32, epochs=50, seed=0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = prepare_builtin(BuiltinConfig(name="moons", n_samples=1000), SplitConfig(val_frac=0.2, test_frac=0.0))
    arrays = TrainArrays.from_prepared(data)
    views = input_grid(data).view_spec()

    pool = WorkerPool(n_workers=1)
    pool.warm_up()
    pool.submit(time.sleep, 0).future.result(timeout=120)  # wait until the worker is up

    headless, live, first = [], [], []
    fit(arrays, MODEL, TRAIN)  # warm-up
    for _ in range(args.repeats):
        start = time.perf_counter()
        fit(arrays, MODEL, TRAIN)
        headless.append(time.perf_counter() - start)

        ctrl = TrainingController(pool, arrays, MODEL, TRAIN, views=views)
        start = time.perf_counter()
        ctrl.play()
        while ctrl.snapshot().state.epoch == 0:
            time.sleep(0.002)
        first.append(time.perf_counter() - start)
        snap = ctrl.wait(timeout=300)
        live.append(time.perf_counter() - start)
        assert snap.state.epoch == TRAIN.epochs, snap
    pool.shutdown(wait=True)

    h, lv, f = (statistics.median(v) for v in (headless, live, first))
    print(f"{'what':<44}{'seconds':>10}{'ratio':>8}")
    print(f"{'headless fit (this process, no views)':<44}{h:>10.3f}{1.0:>8.2f}")
    print(f"{'Play: pool chunks + views (worker process)':<44}{lv:>10.3f}{lv / h:>8.2f}")
    print(f"{'first curve point after play()':<44}{f:>10.3f}")
    print(f"grid points per chunk: {len(views.grid)} + {len(views.hidden_grid)}; "
          f"chunks of ~0.3 s; median of {args.repeats}")


if __name__ == "__main__":
    main()
