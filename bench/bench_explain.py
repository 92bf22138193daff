"""Explanation speed: the fast DeepLIFT SHAP pass against shap.DeepExplainer, and counterfactuals.

    python -m bench.bench_explain [--repeats 5]

Workload (from the issue): breast cancer (30 standardised features), an MLP 30-64-2 trained for
30 epochs, SHAP values of 100 validation rows against 100 training rows as background, for both
logits, with ``torch.set_num_threads(1)`` (as in the app's workers). Times are warm medians over
``--repeats`` runs after one warm-up call (shap's first call in a process is much slower; it is
printed too). The table prints the largest difference between the two explainers' values and
both additivity errors, so the ratio compares the same numbers.

Also timed: the first explanation in a fresh interpreter (importing ``mlcore.explain`` and torch,
building the model, one fast SHAP pass), and 3 diverse counterfactuals for each of 10 validation
rows. Targets: fast SHAP <= 50 ms and >= 12x faster than DeepExplainer, values equal within 1e-4;
first explanation within 2 s; counterfactuals <= 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]

FIRST = r"""
import time, numpy as np
t0 = time.perf_counter()
import torch
torch.set_num_threads(1)
from mlcore.config import LayerSpec, ModelConfig, Task
from mlcore.model import MLP
from mlcore.explain.shap_values import explain_shap, output_specs
rng = np.random.default_rng(0)
X = rng.normal(size=(100, 30)).astype(np.float32)
model = MLP(ModelConfig(hidden=(LayerSpec(64, "relu"),)), 30, 2, seed=0).eval()
res = explain_shap(model, X, X[::-1].copy(), output_specs(Task.BINARY, 2, 2, "logit"))
print(time.perf_counter() - t0, res.method)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)

    from mlcore.config import BuiltinConfig, LayerSpec, ModelConfig, OptimConfig, SplitConfig, Task, TrainConfig
    from mlcore.data import prepare_builtin
    from mlcore.explain.counterfactuals import Target, find_counterfactuals
    from mlcore.explain.features import feature_layout
    from mlcore.explain.shap_values import additivity_error, deeplift_shap, model_outputs, output_specs
    from mlcore.train import TrainArrays, fit, load_model, predict

    data = prepare_builtin(BuiltinConfig(name="breast_cancer"), SplitConfig())
    arrays = TrainArrays.from_prepared(data)
    mcfg = ModelConfig(hidden=(LayerSpec(64, "relu"),), binary_head="softmax")
    state = fit(arrays, mcfg, TrainConfig(optim=OptimConfig(lr=0.01), epochs=30, batch_size=32))
    model = load_model(mcfg, arrays, state)
    X, B = data.X_val[:100], data.X_train[:100]
    specs = output_specs(Task.BINARY, 2, 2, "logit")

    def timed(fn):
        fn()  # warm-up
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times), out

    fast_t, fast = timed(lambda: deeplift_shap(model, X, B, specs))

    import shap

    Xt, Bt = torch.as_tensor(X), torch.as_tensor(B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        explainer = shap.DeepExplainer(model, Bt)
        first = explainer.shap_values(Xt)
        shap_first = time.perf_counter() - t
        shap_t, ref = timed(lambda: explainer.shap_values(Xt))
    ref = np.transpose(np.asarray(ref), (0, 2, 1))
    outputs = model_outputs(model, X, specs)
    base = model_outputs(model, B, specs).mean(axis=0)
    del first

    first_run = subprocess.run([sys.executable, "-c", FIRST], cwd=ROOT, capture_output=True, text=True, timeout=300)
    first_s = float(first_run.stdout.split()[0]) if first_run.returncode == 0 else float("nan")

    layout = feature_layout(data)
    stds = data.X_train.std(axis=0)
    cf_times, counts, changes = [], [], []
    for i in range(10):
        x0 = data.X_val[i]
        now = int(predict(model, x0[None, :], data.task)[0].argmax())
        t = time.perf_counter()
        res = find_counterfactuals(model, layout, x0, Target(cls=1 - now), data.task, 2, stds=stds, k=3, seed=i)
        cf_times.append(time.perf_counter() - t)
        counts.append(len(res.items))
        changes += [c.sparsity for c in res.items]

    print("SHAP, breast cancer 30-64-2, 100 rows x 100 background, both logits, one torch thread")
    print(f"{'explainer':<34}{'warm median':>14}{'first call':>12}")
    print(f"{'vectorised DeepLIFT (mlcore)':<34}{fast_t * 1000:>11.1f} ms{'':>12}")
    print(f"{'shap.DeepExplainer':<34}{shap_t * 1000:>11.1f} ms{shap_first:>10.2f} s")
    print(f"ratio DeepExplainer / mlcore: {shap_t / fast_t:.1f}x  (target >= 12x; mlcore target <= 50 ms)")
    print(f"max |mlcore - shap| = {np.abs(fast - ref).max():.2e} (target <= 1e-4)")
    print(f"additivity error: mlcore {additivity_error(fast, outputs, base):.2e}, "
          f"shap {additivity_error(ref, outputs, base):.2e}")
    print(f"first explanation in a fresh interpreter (imports included): {first_s:.2f} s (target <= 2 s)")
    print(f"counterfactuals, 3 asked, 10 rows: median {statistics.median(cf_times):.2f} s, "
          f"max {max(cf_times):.2f} s (target <= 2 s); found {min(counts)}-{max(counts)} per row, "
          f"median {statistics.median(changes) if changes else float('nan'):.0f} features changed")


if __name__ == "__main__":
    main()
