"""Sweeps: the validation curve against capacity and the learning curve against data size.

- :func:`capacity_job`: the hidden width (every hidden layer gets ``units``) or the depth (that
  many hidden layers like the first one) takes each value of a list; each value is trained with
  several seeds, as one point of batched members. The final training and validation losses
  against capacity give the U shape of the bias-variance trade-off ("balance sesgo-varianza"):
  both high at low capacity (bias), validation rising again at high capacity (variance).
- :func:`learning_curve_job`: the same configuration trained on growing, NESTED subsets of the
  training set (each subset contains the smaller ones: one shuffled order, cut at each
  fraction; stratified by class so the small subsets keep every class), always validated on the
  full validation set.

Results come back as ``mlcore.evaluate.study.PointResult`` s; :func:`sweep_bands` gives the
mean ± std over seeds that the figures draw.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mlcore.batched import Member
from mlcore.config import LayerSpec, ModelConfig, Task, TrainConfig
from mlcore.errors import ConfigError
from mlcore.evaluate.study import Band, Point, PointResult, StudyJob, band

CAPACITY_KINDS = ("width", "depth")
DEFAULT_WIDTHS = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_DEPTHS = (1, 2, 3, 4)
DEFAULT_FRACTIONS = (0.1, 0.2, 0.4, 0.6, 0.8, 1.0)
MAX_POINTS = 12
MAX_SEEDS = 10


def with_capacity(model_cfg: ModelConfig, kind: str, value: int) -> ModelConfig:
    """``model_cfg`` with every hidden layer ``value`` wide, or with ``value`` hidden layers."""
    first = model_cfg.hidden[0] if model_cfg.hidden else LayerSpec()
    if kind == "width":
        layers = model_cfg.hidden or (first,)
        return replace(model_cfg, hidden=tuple(LayerSpec(int(value), h.activation) for h in layers))
    if kind == "depth":
        return replace(model_cfg, hidden=tuple(LayerSpec(first.units, first.activation) for _ in range(int(value))))
    raise ConfigError("err.eval.capacity_kind", value=kind, allowed=", ".join(CAPACITY_KINDS))


def _seeds(train_cfg: TrainConfig, n_seeds: int) -> list[TrainConfig]:
    if not 1 <= int(n_seeds) <= MAX_SEEDS:
        raise ConfigError("err.eval.seeds", value=n_seeds, high=MAX_SEEDS)
    return [replace(train_cfg, seed=train_cfg.seed + i) for i in range(int(n_seeds))]


def _check_points(values) -> list:
    values = list(values)
    if not 1 <= len(values) <= MAX_POINTS:
        raise ConfigError("err.eval.points", value=len(values), high=MAX_POINTS)
    return values


def capacity_job(arrays, model_cfg: ModelConfig, train_cfg: TrainConfig, kind: str = "width",
                 values=DEFAULT_WIDTHS, n_seeds: int = 3, meta: dict | None = None) -> StudyJob:
    values = sorted({int(v) for v in _check_points(values)})
    cfgs = _seeds(train_cfg, n_seeds)
    points = [Point(v, tuple(Member(arrays, with_capacity(model_cfg, kind, v), t) for t in cfgs)) for v in values]
    return StudyJob("capacity", points, {"kind": kind, "values": tuple(values), "seeds": int(n_seeds), **(meta or {})})


def nested_subsets(y: np.ndarray, fractions, task: Task | str, seed: int = 0) -> list[np.ndarray]:
    """Row indices of the training subsets, one per fraction (ascending), each containing the
    previous ones. Classification: classes are interleaved in the shuffled order, so every prefix
    keeps the class ratios (and every class, from the first ``n_classes`` rows)."""
    fractions = sorted(float(f) for f in _check_points(fractions))
    if fractions[0] <= 0 or fractions[-1] > 1:
        raise ConfigError("err.eval.fraction", value=fractions[0] if fractions[0] <= 0 else fractions[-1])
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    n = len(y)
    if Task(task).is_classification:
        # each row gets a rank within its own class, rescaled to [0, 1): sorting by it interleaves
        # the classes in proportion, so every prefix is (nearly) stratified
        key = np.empty(n)
        for c in np.unique(y):
            rows = np.flatnonzero(y == c)
            key[rng.permutation(rows)] = (np.arange(len(rows)) + rng.uniform(0, 1)) / len(rows)
        order = np.argsort(key, kind="stable")
    else:
        order = rng.permutation(n)
    min_rows = 2 if not Task(task).is_classification else len(np.unique(y))
    return [np.sort(order[:max(min_rows, int(round(f * n)))]) for f in fractions]


def learning_curve_job(arrays, model_cfg: ModelConfig, train_cfg: TrainConfig, fractions=DEFAULT_FRACTIONS,
                       n_seeds: int = 1, seed: int = 0, meta: dict | None = None) -> StudyJob:
    from mlcore.train import TrainArrays

    fractions = sorted(float(f) for f in _check_points(fractions))
    subsets = nested_subsets(arrays.y_train, fractions, arrays.task, seed)
    cfgs = _seeds(train_cfg, n_seeds)
    points = []
    for frac, rows in zip(fractions, subsets):
        sub = TrainArrays(arrays.X_train[rows], arrays.y_train[rows], arrays.X_val, arrays.y_val, arrays.task,
                          arrays.n_classes)
        points.append(Point(frac, tuple(Member(sub, model_cfg, t) for t in cfgs)))
    return StudyJob("learning", points, {"fractions": tuple(fractions), "seeds": int(n_seeds),
                                         "rows": tuple(len(r) for r in subsets), **(meta or {})})


def sweep_bands(results: list[PointResult]) -> dict[str, Band]:
    """Mean ± std over seeds of the final train/val loss and metric, per x value."""
    return {name: band(results, name) for name in ("train_loss", "val_loss", "train_metric", "val_metric")}
