"""Why preprocess: the same network, the same seed, raw versus standardised features (page 7).

Real tables from scikit-learn's bundled data (no download): *wine* (13 chemical measurements;
``proline`` is in the hundreds, ``hue`` below 2) and *breast cancer* (30 measurements; areas in
the hundreds, smoothness around 0.1).

- ``feature_scales``: each feature's raw and standardised values (box plots).
- ``compare_scaling``: one hidden layer trained twice with identical initial weights and batch
  order, once on raw features and once on ``(x - mean) / std`` (statistics of the training split).
- ``loss_slice``: the loss of a logistic model on two features over ``(w1, w2)`` with the bias
  at its optimum. Its Hessian ``H = X^T diag(p(1 - p)) X / n`` has a condition number
  ``kappa = lambda_max / lambda_min``: on raw features it is huge (a long narrow valley: one
  rate cannot suit both directions), on standardised features it is close to 1 (round contours).

``load_table`` also serves the mini-batch noise demo of page 4 (standardised iris by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlcore.config import OptimConfig, Task
from mlcore.errors import ConfigError, DataError

TABLES = ("wine", "breast_cancer", "iris")
SCALING_TABLES = ("wine", "breast_cancer")  # features of very different scales
DEFAULT_SLICE_FEATURES = {"wine": ("alcohol", "magnesium"), "breast_cancer": ("mean_texture", "mean_area")}
MAX_EPOCHS = 300


@dataclass(frozen=True)
class Table:
    """A bundled scikit-learn table: raw float64 features, int64 class ids."""

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]

    @property
    def task(self) -> Task:
        return Task.BINARY if len(self.class_names) == 2 else Task.MULTICLASS


def load_table(name: str) -> Table:
    """The Data page's built-in table ``name`` (``mlcore.data``), as raw arrays."""
    from mlcore.config import BuiltinConfig
    from mlcore.data.builtins import load_builtin_table

    if name not in TABLES:
        raise ConfigError("err.course.preprocess.dataset", value=name, allowed=", ".join(TABLES))
    table = load_builtin_table(BuiltinConfig(name=name))
    features = table.features
    target = table.df[table.target]
    return Table(
        name,
        table.df[features].to_numpy(dtype=np.float64),
        np.asarray(target.cat.codes, dtype=np.int64),
        tuple(features),
        tuple(str(c) for c in table.class_names),
    )


def standardized(X: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """``(X - mean) / std`` with the mean and std of ``reference`` (default ``X``), as scikit-learn's
    ``StandardScaler`` does (a constant column is left centred, not divided by zero)."""
    ref = X if reference is None else reference
    mean, std = ref.mean(axis=0), ref.std(axis=0)
    return (X - mean) / np.where(std > 0, std, 1.0)


def scaled_table(name: str) -> Table:
    table = load_table(name)
    return Table(table.name, standardized(table.X), table.y, table.feature_names, table.class_names)


# --- feature scales --------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureScales:
    dataset: str
    feature_names: tuple[str, ...]
    raw: np.ndarray  # (n, d)
    scaled: np.ndarray  # (n, d)

    @property
    def std(self) -> np.ndarray:
        return self.raw.std(axis=0)

    @property
    def ratio(self) -> float:
        """Largest over smallest feature standard deviation."""
        std = self.std[self.std > 0]
        return float(std.max() / std.min())


def feature_scales(name: str) -> FeatureScales:
    table = load_table(name)
    return FeatureScales(name, table.feature_names, table.X, standardized(table.X))


# --- same network, raw vs standardised ---------------------------------------------------------


@dataclass(frozen=True)
class TrainCurve:
    """Loss on the training split at the end of each epoch (index 0 = before training)."""

    scaled: bool
    train_loss: np.ndarray  # (epochs_run + 1,)
    val_accuracy: np.ndarray  # (epochs_run + 1,)
    diverged_at: int | None  # epoch whose loss was not finite

    def epochs_to(self, threshold: float) -> int | None:
        """First epoch whose training loss is at or below ``threshold`` (None if never)."""
        hits = np.flatnonzero(self.train_loss <= threshold)
        return int(hits[0]) if len(hits) else None


@dataclass(frozen=True)
class ScalingComparison:
    dataset: str
    hidden: int
    optimizer: str
    lr: float
    batch_size: int
    epochs: int
    seed: int
    raw: TrainCurve
    scaled: TrainCurve


def _split(table: Table, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    return train_test_split(table.X, table.y, test_size=0.25, random_state=seed, stratify=table.y)


def _build_network(n_inputs: int, hidden: int, n_outputs: int, seed: int):
    """One hidden ReLU layer, built by the project's ``MLP`` (softmax head for every task); the
    initial weights depend only on ``seed`` and the shapes, so both runs start identical."""
    from mlcore.config import LayerSpec, ModelConfig
    from mlcore.model import MLP

    cfg = ModelConfig(hidden=(LayerSpec(hidden, "relu"),), binary_head="softmax")
    return MLP(cfg, n_inputs, n_outputs, seed=seed)


def _train_curve(Xtr, ytr, Xva, yva, *, scaled, hidden, n_classes, optimizer, lr, batch_size, epochs,
                 seed) -> TrainCurve:
    import torch
    from torch.nn.functional import cross_entropy

    from mlcore.optim import make_optimizer

    xt, yt = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(ytr, dtype=torch.int64)
    xv, yv = torch.tensor(Xva, dtype=torch.float32), torch.tensor(yva, dtype=torch.int64)
    model = _build_network(xt.shape[1], hidden, n_classes, seed)
    opt = make_optimizer(list(model.parameters()), OptimConfig(name=optimizer, lr=lr))
    gen = torch.Generator().manual_seed(seed)

    def measure() -> tuple[float, float]:
        model.eval()
        with torch.no_grad():
            loss = float(cross_entropy(model(xt), yt))
            acc = float((model(xv).argmax(dim=1) == yv).float().mean())
        model.train()
        return loss, acc

    losses, accs = zip(*[measure()])
    losses, accs = list(losses), list(accs)
    diverged_at = None
    n = len(xt)
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
        loss, acc = measure()
        losses.append(loss)
        accs.append(acc)
        if not math.isfinite(loss):
            diverged_at = epoch
            break
    return TrainCurve(scaled, np.array(losses), np.array(accs), diverged_at)


def compare_scaling(
    name: str = "wine",
    *,
    hidden: int = 16,
    optimizer: str = "sgd",
    lr: float = 0.01,
    batch_size: int = 16,
    epochs: int = 60,
    seed: int = 0,
) -> ScalingComparison:
    """Train the same network from the same initial weights on raw and on standardised features."""
    if name not in SCALING_TABLES:
        raise ConfigError("err.course.preprocess.dataset", value=name, allowed=", ".join(SCALING_TABLES))
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or not 1 <= epochs <= MAX_EPOCHS:
        raise ConfigError("err.course.preprocess.epochs", value=epochs, high=MAX_EPOCHS)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError("err.course.preprocess.batch_size", value=batch_size)
    cfg = OptimConfig(name=optimizer, lr=lr)  # validates name and rate
    table = load_table(name)
    Xtr, Xva, ytr, yva = _split(table, seed)
    common = dict(hidden=int(hidden), n_classes=len(table.class_names), optimizer=cfg.name, lr=cfg.lr,
                  batch_size=int(batch_size), epochs=int(epochs), seed=int(seed))
    raw = _train_curve(Xtr, ytr, Xva, yva, scaled=False, **common)
    scaled = _train_curve(standardized(Xtr), ytr, standardized(Xva, Xtr), yva, scaled=True, **common)
    return ScalingComparison(name, int(hidden), cfg.name, cfg.lr, int(batch_size), int(epochs), int(seed),
                             raw, scaled)


# --- the loss over two weights -----------------------------------------------------------------


@dataclass(frozen=True)
class LossSlice:
    """Mean logistic loss over a square window of ``(w1, w2)`` centred at the optimum ``center``,
    with the bias fixed at its optimum. ``z[i, j] = L(w1s[j], w2s[i])``."""

    dataset: str
    features: tuple[str, str]
    scaled: bool
    w1s: np.ndarray
    w2s: np.ndarray
    z: np.ndarray
    center: tuple[float, float]
    bias: float
    min_loss: float
    hessian: np.ndarray  # (2, 2) at the optimum

    @property
    def condition(self) -> float:
        eig = np.linalg.eigvalsh(self.hessian)
        return float(eig.max() / eig.min()) if eig.min() > 0 else math.inf


def binary_target(table: Table) -> np.ndarray:
    """0/1 target: the table's own for binary tables, else "class 0 versus the rest"."""
    return (table.y == 0).astype(np.float64) if len(table.class_names) > 2 else table.y.astype(np.float64)


def logistic_loss(X2: np.ndarray, y: np.ndarray, w1, w2, bias: float) -> np.ndarray:
    """Mean binary cross-entropy of ``sigmoid(w1 x1 + w2 x2 + b)``; ``w1``/``w2`` may be arrays."""
    w1, w2 = np.asarray(w1, dtype=np.float64), np.asarray(w2, dtype=np.float64)
    logits = w1[..., None] * X2[:, 0] + w2[..., None] * X2[:, 1] + bias
    # log(1 + e^z) - y z, stably
    return np.mean(np.logaddexp(0.0, logits) - y * logits, axis=-1)


def logistic_hessian(X2: np.ndarray, y: np.ndarray, w: np.ndarray, bias: float) -> np.ndarray:  # noqa: ARG001
    """Hessian of the mean logistic loss with respect to ``(w1, w2)``: ``X^T diag(p(1-p)) X / n``."""
    p = 1.0 / (1.0 + np.exp(-(X2 @ w + bias)))
    return (X2 * (p * (1.0 - p))[:, None]).T @ X2 / len(X2)


def _fit_logistic(X2: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Unpenalised logistic regression by Newton's method (3 parameters, exact and fast)."""
    A = np.column_stack([X2, np.ones(len(X2))])
    theta = np.zeros(3)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(A @ theta)))
        grad = A.T @ (p - y) / len(y)
        hess = (A * (p * (1.0 - p))[:, None]).T @ A / len(y) + 1e-10 * np.eye(3)
        step = np.linalg.solve(hess, grad)
        # damped Newton: halve until the loss does not increase
        base = np.mean(np.logaddexp(0.0, A @ theta) - y * (A @ theta))
        t = 1.0
        while t > 1e-6:
            cand = theta - t * step
            z = A @ cand
            if np.mean(np.logaddexp(0.0, z) - y * z) <= base:
                break
            t *= 0.5
        theta = theta - t * step
        if np.max(np.abs(t * step)) < 1e-12 * (1.0 + np.max(np.abs(theta))):
            break
    return theta[:2], float(theta[2])


def loss_slice(name: str, features: tuple[str, str] | None = None, *, scaled: bool, n: int = 81) -> LossSlice:
    table = load_table(name)
    features = tuple(features or DEFAULT_SLICE_FEATURES.get(name, table.feature_names[:2]))
    missing = [f for f in features if f not in table.feature_names]
    if len(features) != 2 or missing or features[0] == features[1]:
        raise ConfigError("err.course.preprocess.features", value=", ".join(map(str, features)))
    cols = [table.feature_names.index(f) for f in features]
    X2 = table.X[:, cols]
    if scaled:
        X2 = standardized(X2)
    if np.any(X2.std(axis=0) == 0):
        raise DataError("err.course.preprocess.constant", value=", ".join(features))
    y = binary_target(table)
    w, bias = _fit_logistic(X2, y)
    hess = logistic_hessian(X2, y, w, bias)
    lam_min = max(float(np.linalg.eigvalsh(hess).min()), 1e-300)
    half = 3.0 / math.sqrt(lam_min)  # the loss rises by about 4.5 along the flattest direction
    w1s = np.linspace(w[0] - half, w[0] + half, n)
    w2s = np.linspace(w[1] - half, w[1] + half, n)
    z = np.stack([logistic_loss(X2, y, w1s, np.full_like(w1s, w2), bias) for w2 in w2s])
    return LossSlice(name, (features[0], features[1]), bool(scaled), w1s, w2s, z,
                     (float(w[0]), float(w[1])), bias, float(logistic_loss(X2, y, w[0], w[1], bias)), hess)
