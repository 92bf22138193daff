"""Lesson preset 8 (batch size): seconds per epoch with a batch of 1, 32 and the full batch,
and their ratios within one run. The explanation says a batch of 1 makes every epoch much slower;
this prints by how much on this machine (timings never go in tests).

    .venv/bin/python -m bench.bench_presets
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from mlcore import presets as P
from mlcore.train import TrainArrays, fit


def main(epochs: int = 5) -> None:
    preset = P.get_preset("batch")
    arrays = TrainArrays.from_prepared(P.prepare_source(preset.steps[0].source))
    fit(arrays, preset.steps[1].model, replace(preset.steps[1].train, epochs=1))  # warm-up (imports, first call)
    per_epoch = {}
    for step in preset.steps:
        t0 = time.perf_counter()
        state = fit(arrays, step.model, replace(step.train, epochs=epochs))
        wall = (time.perf_counter() - t0) / epochs
        per_epoch[step.key] = statistics.median(r.seconds for r in state.history)
        print(f"batch {step.train.batch_size:>4}: {per_epoch[step.key] * 1000:8.2f} ms/epoch (median), "
              f"{wall * 1000:8.2f} ms/epoch wall")
    print(f"ratio batch 1 / batch 32: {per_epoch['one'] / per_epoch['mini']:.1f}x; "
          f"batch 1 / full batch: {per_epoch['one'] / per_epoch['full']:.1f}x")


if __name__ == "__main__":
    main()
