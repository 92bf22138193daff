"""The explanations as long jobs: ``ChunkJob`` adapters for :class:`mlcore.jobs.JobController`.

Workers receive everything by value: a :class:`ModelRef` (config, sizes and weights as numpy
arrays, or a plain module in tests), the rows, the layout. The chunk functions are module-level,
so they pickle by name.

- :class:`ShapJob`: the fast DeepLIFT pass in one chunk; when the model has a module the pass does
  not know, or additivity fails, it goes on with shap's KernelExplainer, a few rows per chunk
  (fewer rows and a smaller background: it is a sampling method), and keeps the notice.
- :class:`StepsJob`: a fixed list of named chunks (counterfactuals, saliency maps, the
  disagreement panel's five techniques), each result kept under its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from mlcore.jobs import ChunkJob

__all__ = ["ModelRef", "ShapJob", "StepsJob", "load", "shap_fast_chunk", "shap_kernel_chunk"]

KERNEL_ROWS = 30  # rows explained by the fallback
KERNEL_BACKGROUND = 30
KERNEL_ROWS_PER_CHUNK = 3


@dataclass(frozen=True, eq=False)
class ModelRef:
    """A trained MLP by value: rebuilt with :func:`mlcore.train.load_model` in the worker."""

    model_cfg: Any
    n_inputs: int
    n_outputs: int
    model_state: dict

    @classmethod
    def from_state(cls, model_cfg, n_inputs: int, n_outputs: int, state) -> "ModelRef":
        return cls(model_cfg, int(n_inputs), int(n_outputs), dict(state.model_state))


def load(ref):
    """The module for ``ref`` (a :class:`ModelRef`, or already a module)."""
    import torch

    if isinstance(ref, torch.nn.Module):
        return ref.eval()
    from mlcore.train import load_model

    return load_model(ref.model_cfg, (ref.n_inputs, ref.n_outputs), SimpleNamespace(model_state=ref.model_state))


def shap_fast_chunk(ref, X, background, specs):
    from mlcore.explain.shap_values import explain_shap, fast_path_problem

    import time

    start = time.perf_counter()
    model = load(ref)
    problem = fast_path_problem(model)
    if problem is not None:
        return ("unknown", problem)
    from mlcore.explain import shap_values as sv

    X = np.asarray(X)
    outputs = sv.model_outputs(model, X, specs)
    base = sv.model_outputs(model, np.asarray(background, dtype=X.dtype), specs).mean(axis=0)
    values = sv.deeplift_shap(model, X, background, specs)
    err = sv.additivity_error(values, outputs, base)
    scale = max(1.0, float(np.max(np.abs(outputs - base[None, :]))) if outputs.size else 1.0)
    if err > sv.ADDITIVITY_TOL * scale:
        return ("additivity", err)
    del explain_shap
    return ("ok", sv.ShapResult(X, values, base, outputs, tuple(specs), "deeplift", err,
                                seconds=time.perf_counter() - start))


def shap_kernel_chunk(ref, X, background, specs):
    from mlcore.explain.shap_values import kernel_shap

    return kernel_shap(load(ref), X, background, specs)


class ShapJob(ChunkJob):
    def __init__(self, ref, X: np.ndarray, background: np.ndarray, specs, seed: int = 0) -> None:
        self.ref = ref
        self.X = np.asarray(X, dtype=np.float32)
        self.background = np.asarray(background, dtype=np.float32)
        self.specs = tuple(specs)
        self.phase = "fast"
        self.notice: tuple[str, dict] | None = None
        self.parts: list[np.ndarray] = []
        self.result = None
        self._kernel_start: float | None = None
        rng = np.random.default_rng(seed)
        self.kernel_X = self.X[:KERNEL_ROWS]
        pick = rng.choice(len(self.background), min(KERNEL_BACKGROUND, len(self.background)), replace=False)
        self.kernel_B = self.background[np.sort(pick)]

    def next_call(self):
        if self.phase == "fast":
            return shap_fast_chunk, (self.ref, self.X, self.background, self.specs)
        i = sum(len(p) for p in self.parts)
        if self._kernel_start is None:
            import time

            self._kernel_start = time.perf_counter()
        return shap_kernel_chunk, (self.ref, self.kernel_X[i:i + KERNEL_ROWS_PER_CHUNK], self.kernel_B, self.specs)

    def absorb(self, result) -> None:
        if self.phase == "fast":
            status, payload = result
            if status == "ok":
                self.result = payload
                return
            self.notice = (("explain.shap.notice.unknown_module", {"module": payload}) if status == "unknown"
                           else ("explain.shap.notice.additivity", {"error": f"{payload:.2g}"}))
            self.phase = "kernel"
            return
        self.parts.append(np.asarray(result))
        if sum(len(p) for p in self.parts) >= len(self.kernel_X):
            self._finish_kernel()

    def _finish_kernel(self) -> None:
        from mlcore.explain import shap_values as sv

        model = load(self.ref)
        values = np.concatenate(self.parts)
        outputs = sv.model_outputs(model, self.kernel_X, self.specs)
        base = sv.model_outputs(model, self.kernel_B, self.specs).mean(axis=0)
        err = sv.additivity_error(values, outputs, base)
        import time

        seconds = time.perf_counter() - self._kernel_start if self._kernel_start is not None else 0.0
        self.result = sv.ShapResult(self.kernel_X, values, base, outputs, self.specs, "kernel", err, self.notice,
                                    seconds)

    def done(self) -> bool:
        return self.result is not None

    def progress(self) -> float:
        if self.result is not None:
            return 1.0
        if self.phase == "fast":
            return 0.0
        return 0.05 + 0.95 * sum(len(p) for p in self.parts) / max(1, len(self.kernel_X))


class StepsJob(ChunkJob):
    """Named chunks run in order: ``steps`` = [(name, fn, args), ...]; ``results[name]``."""

    def __init__(self, steps) -> None:
        self.steps = list(steps)
        self.results: dict[str, Any] = {}

    def next_call(self):
        _, fn, args = self.steps[len(self.results)]
        return fn, args

    def absorb(self, result) -> None:
        self.results[self.steps[len(self.results)][0]] = result

    def done(self) -> bool:
        return len(self.results) >= len(self.steps)

    def progress(self) -> float:
        return len(self.results) / max(1, len(self.steps))


# ---- chunk functions for StepsJob ---------------------------------------------------------------


def counterfactual_chunk(ref, layout, x0, target, task, constraints, stds, k, seed):
    from mlcore.explain.counterfactuals import find_counterfactuals

    return find_counterfactuals(load(ref), layout, x0, target, task, ref_outputs(ref), constraints,
                                stds=stds, k=k, seed=seed)


def ref_outputs(ref) -> int:
    if hasattr(ref, "n_outputs") and isinstance(ref.n_outputs, int):
        return ref.n_outputs
    return int([m for m in load(ref).modules() if hasattr(m, "out_features")][-1].out_features)


def saliency_chunk(ref, x, target, baseline):
    from mlcore.explain.saliency import logit_model, saliency_maps

    return saliency_maps(logit_model(load(ref), ref_outputs(ref)), x, target, baseline)


def shap_scores_chunk(ref, X, background, specs, layout):
    from mlcore.explain.disagreement import mean_abs
    from mlcore.explain.shap_values import explain_shap

    res = explain_shap(load(ref), X, background, specs)
    return mean_abs(res.values[:, 0, :], layout)


def permutation_chunk(ref, task, X_val, y_val, layout, seed):
    from mlcore.explain.disagreement import permutation_scores

    return permutation_scores(load(ref), task, ref_outputs(ref), X_val, y_val, layout, seed=seed)


def grad_input_chunk(ref, X, target, baseline, layout):
    from mlcore.explain.disagreement import mean_abs
    from mlcore.explain.saliency import gradient_x_input, logit_model

    model = logit_model(load(ref), ref_outputs(ref))
    return mean_abs(gradient_x_input(model, X, target, baseline), layout)


def integrated_chunk(ref, X, target, baseline, layout):
    from mlcore.explain.disagreement import mean_abs
    from mlcore.explain.saliency import integrated_gradients, logit_model

    model = logit_model(load(ref), ref_outputs(ref))
    attr, _ = integrated_gradients(model, X, target, baseline, n_steps=32)
    return mean_abs(attr, layout)


def surrogate_chunk(ref, task, layout, X_train, X_val, max_depth, seed):
    from mlcore.config import Task
    from mlcore.explain.surrogate import fit_surrogate
    from mlcore.train import predict

    model = load(ref)
    classification = Task(task) is not Task.REGRESSION

    def pred(X):
        out = predict(model, X, task)
        return out.argmax(axis=1) if classification else out

    return fit_surrogate(layout, X_train, pred(X_train), X_val, pred(X_val), classification, max_depth, seed)
