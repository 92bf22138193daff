"""The bias-variance decomposition ("balance sesgo-varianza") from M models trained on M training sets.

The M training sets are bootstrap resamples of the training set (rows drawn with replacement) or,
for a built-in 1-D toy whose true function and noise are known, M fresh noisy draws
``y = f(x) + N(0, noise²)`` at the same inputs. All M models start from the same seeded weights,
so their spread comes from the data alone. The decompositions are computed on evaluation points
``x`` (a grid with the true function for the toys, else the validation rows):

Regression (squared error), with ``ŷ_m(x)`` the M predictions and ``ȳ(x)`` their mean:
  ``E[(y - ŷ)²] = bias² + variance + noise`` with ``bias² = mean_x (ȳ(x) - f(x))²``,
  ``variance = mean_x mean_m (ŷ_m(x) - ȳ(x))²`` and ``noise = σ²``. Without a known ``f`` the
  validation targets play its part and the noise stays inside the unexplained remainder
  ``error - variance`` (= bias² + noise).

Classification (0-1 loss), Domingos (2000), "A unified bias-variance decomposition", noise-free
form (as mlxtend's ``bias_variance_decomp``): the main prediction ``y_main(x)`` is the most frequent
class among the M predictions (ties: the smallest class id); ``bias(x) = 1[y_main ≠ y]``;
``variance(x) = P_m(ŷ_m ≠ y_main)``; the expected loss is ``bias + net variance``, where the
variance ADDS to the loss on unbiased points and SUBTRACTS on biased ones:
``net variance = mean_x [ variance(x) if bias(x) = 0 else -P_m(ŷ_m = y) ]`` (with two classes
``P_m(ŷ_m = y) = variance(x)`` on a biased point, Domingos' ``V_u - V_b``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlcore.batched import Member
from mlcore.config import ModelConfig, Task, TrainConfig
from mlcore.errors import ConfigError
from mlcore.evaluate.study import Point, PointResult, StudyJob
from mlcore.evaluate.sweeps import _check_points, with_capacity

DEFAULT_M = 20
MAX_M = 50
GRID_POINTS = 200


@dataclass(frozen=True)
class RegressionDecomposition:
    error: float  # expected squared error (known truth: bias² + variance + noise)
    bias2: float
    variance: float
    noise: float | None  # σ² when known, else None (then bias2 holds bias² + noise)


@dataclass(frozen=True)
class ZeroOneDecomposition:
    error: float  # mean over models and points of 1[ŷ ≠ y]
    bias: float
    variance: float  # mean_x P(ŷ ≠ y_main): the total variance (mlxtend's avg_var)
    net_variance: float  # expected loss - bias
    variance_unbiased: float  # sum over unbiased points / n
    variance_biased: float  # sum over biased points / n
    main: np.ndarray  # main prediction per point


def decompose_regression(preds: np.ndarray, target: np.ndarray, noise_var: float | None = None
                         ) -> RegressionDecomposition:
    """``preds`` (M, n); ``target`` the true function at the points (``noise_var`` known) or the
    observed targets (``noise_var=None``)."""
    preds = np.asarray(preds, dtype=float)
    target = np.asarray(target, dtype=float).reshape(-1)
    mean = preds.mean(axis=0)
    variance = float(((preds - mean) ** 2).mean())
    if noise_var is not None:
        bias2 = float(((mean - target) ** 2).mean())
        return RegressionDecomposition(bias2 + variance + float(noise_var), bias2, variance, float(noise_var))
    error = float(((preds - target) ** 2).mean())
    return RegressionDecomposition(error, error - variance, variance, None)


def main_prediction(preds: np.ndarray) -> np.ndarray:
    """The most frequent class per column of ``preds`` (M, n) of class ids (ties: smallest id)."""
    preds = np.asarray(preds, dtype=np.int64)
    k = int(preds.max(initial=0)) + 1
    counts = np.stack([(preds == c).sum(axis=0) for c in range(k)])
    return counts.argmax(axis=0)


def decompose_01(preds: np.ndarray, y: np.ndarray) -> ZeroOneDecomposition:
    """Domingos' 0-1 decomposition of ``preds`` (M, n) class ids against true labels ``y`` (n,)."""
    preds = np.asarray(preds, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    main = main_prediction(preds)
    biased = main != y
    var_x = (preds != main).mean(axis=0)
    right_x = (preds == y).mean(axis=0)
    error = float((preds != y).mean())
    bias = float(biased.mean())
    n = len(y)
    v_unbiased = float(var_x[~biased].sum() / n)
    v_biased = float(var_x[biased].sum() / n)
    net = float(np.where(biased, -right_x, var_x).mean())
    return ZeroOneDecomposition(error, bias, float(var_x.mean()), net, v_unbiased, v_biased, main)


# ---- the job ------------------------------------------------------------------------------------


def known_toy(data) -> tuple[str, float] | None:
    """(name, noise) when ``data`` is a built-in 1-D toy (true function and noise known)."""
    from mlcore.data import TOYS_1D

    source = getattr(data, "source", None) or {}
    if source.get("kind") == "builtin" and source.get("name") in TOYS_1D and getattr(data, "preprocessor", 1) is None:
        return str(source["name"]), float(source.get("noise", 0.0))
    return None


def training_sets(arrays, m: int, seed: int = 0, toy: tuple[str, float] | None = None) -> list:
    """M ``TrainArrays`` with the same validation set: fresh noisy draws of a known 1-D toy, or
    bootstrap resamples of the training rows."""
    from mlcore.data import toy_1d_truth
    from mlcore.train import TrainArrays

    if not 2 <= int(m) <= MAX_M:
        raise ConfigError("err.eval.m_range", value=m, high=MAX_M)
    rng = np.random.default_rng(seed)
    out = []
    n = len(arrays.y_train)
    for _ in range(int(m)):
        if toy is not None:
            name, noise = toy
            x = arrays.X_train[:, 0].astype(float)
            y = toy_1d_truth(name, x) + rng.normal(0.0, noise, size=n)
            out.append(TrainArrays(arrays.X_train, y, arrays.X_val, arrays.y_val, arrays.task, arrays.n_classes))
        else:
            rows = rng.integers(0, n, size=n)
            out.append(TrainArrays(arrays.X_train[rows], arrays.y_train[rows], arrays.X_val, arrays.y_val,
                                   arrays.task, arrays.n_classes))
    return out


def biasvar_job(arrays, model_cfg: ModelConfig, train_cfg: TrainConfig, widths=(2, 8, 32), m: int = DEFAULT_M,
                toy: tuple[str, float] | None = None, seed: int = 0, meta: dict | None = None) -> StudyJob:
    """One point per hidden width; M members each (the same M training sets at every width)."""
    from mlcore.data import TOY_1D_DOMAIN, toy_1d_truth

    widths = sorted({int(w) for w in _check_points(widths)})
    sets = training_sets(arrays, m, seed, toy)
    if toy is not None:
        grid = np.linspace(*TOY_1D_DOMAIN, GRID_POINTS).astype(np.float32).reshape(-1, 1)
        truth = toy_1d_truth(toy[0], grid[:, 0].astype(float))
    else:
        grid, truth = arrays.X_val, None
    points = [Point(w, tuple(Member(s, with_capacity(model_cfg, "width", w), train_cfg) for s in sets), grid)
              for w in widths]
    info = {"widths": tuple(widths), "m": int(m), "toy": toy, "source": "draws" if toy else "bootstrap"}
    job = StudyJob("biasvar", points, {**info, **(meta or {})})
    job.eval_X, job.truth = grid, truth
    return job


def decompose_point(job: StudyJob, result: PointResult, y_val: np.ndarray):
    """The decomposition of one finished point of :func:`biasvar_job`."""
    from mlcore.evaluate.metrics import predicted_classes

    task = job.points[0].members[0].arrays.task
    preds = [s.extra_pred for s in result.scores]
    if Task(task) is Task.REGRESSION:
        P = np.stack([np.asarray(p, dtype=float).reshape(-1) for p in preds])
        toy = job.meta.get("toy")
        if toy is not None:
            return decompose_regression(P, job.truth, toy[1] ** 2)
        return decompose_regression(P, y_val)
    P = np.stack([predicted_classes(p) for p in preds])
    return decompose_01(P, y_val)
