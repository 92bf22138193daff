"""The universal approximation theorem, seen on a 1-D target (course page 6).

One hidden layer with ``N`` neurons computes

    f(x) = c + sum_j v_j * a(w_j x + b_j)

so its output is literally a sum of ``N`` scaled, shifted copies of the activation ``a`` plus an
output bias ``c``. ``fit_universal`` trains such a network (the project's ``MLP`` with one hidden
layer, float64, full-batch L-BFGS, seeded) and returns each neuron's contribution
``v_j * a(w_j x + b_j)`` on a grid, so the page can draw the pieces and their sum.
``width_sweep`` repeats the fit for N = 1, 2, 4, ..., 64 and reports the error against N.

The theorem (Cybenko 1989; Hornik 1991; Leshno et al. 1993 for any non-polynomial activation)
promises that *some* width and *some* weights get within any epsilon of a continuous target on a
compact interval. It does not say how many neurons are needed, that gradient descent will find
those weights, nor that the fit is good between or beyond the training points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from mlcore.data.builtins import TOY_1D_DOMAIN, TOYS_1D, toy_1d, toy_1d_truth
from mlcore.errors import ConfigError, DataError

TARGETS = TOYS_1D  # sin, step, abs, poly: the Data page's 1-D regression toys
UA_ACTIVATIONS = ("tanh", "relu", "sigmoid")
WIDTHS = (1, 2, 4, 8, 16, 32, 64)
MAX_WIDTH = 256
MAX_STEPS = 2000
MAX_SAMPLES = 2000


@dataclass(frozen=True)
class Target1D:
    """Training points of a 1-D target and, when known, the noiseless truth on a grid."""

    name: str
    x: np.ndarray  # (n,)
    y: np.ndarray  # (n,)
    x_grid: np.ndarray  # (m,)
    truth: np.ndarray | None  # (m,) or None for a dataset without a known formula


def target_data(name: str, n_samples: int = 200, noise: float = 0.0, seed: int = 0, grid: int = 400) -> Target1D:
    """The built-in 1-D toy ``name`` (``mlcore.data.toy_1d``: x uniform on [-3, 3], seeded),
    with the noiseless truth on an even grid."""
    if name not in TARGETS:
        raise ConfigError("err.course.universal.target", value=name, allowed=", ".join(TARGETS))
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or not 2 <= n_samples <= MAX_SAMPLES:
        raise ConfigError("err.course.universal.samples", value=n_samples, low=2, high=MAX_SAMPLES)
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        raise ConfigError("err.course.universal.noise", value=noise) from None
    if not (math.isfinite(noise) and 0.0 <= noise <= 1.0):
        raise ConfigError("err.course.universal.noise", value=noise)
    x, y = toy_1d(name, int(n_samples), noise, int(seed))
    x_grid = np.linspace(*TOY_1D_DOMAIN, grid)
    return Target1D(name, x, y, x_grid, toy_1d_truth(name, x_grid))


def dataset_target(name: str, x: np.ndarray, y: np.ndarray, grid: int = 400) -> Target1D:
    """A 1-D regression dataset (one numeric feature) as a target; no known truth."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if len(x) != len(y) or len(x) < 2 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise DataError("err.course.universal.data", rows=len(x))
    lo, hi = float(x.min()), float(x.max())
    return Target1D(name, x, y, np.linspace(lo, hi, grid), None)


@dataclass(frozen=True)
class UniversalFit:
    """A trained one-hidden-layer network and its pieces on ``x_grid``.

    ``output == output_bias + contributions.sum(axis=0)`` (the network's own forward pass).
    """

    target: str
    n_hidden: int
    activation: str
    steps: int
    seed: int
    x_grid: np.ndarray  # (m,)
    output: np.ndarray  # (m,) network output
    contributions: np.ndarray  # (N, m): v_j * a(w_j x + b_j)
    output_bias: float
    w: np.ndarray  # (N,) hidden weights
    b: np.ndarray  # (N,) hidden biases
    v: np.ndarray  # (N,) output weights
    train_mse: float
    truth_mse: float | None  # against the noiseless truth on the grid (None if unknown)
    loss_history: np.ndarray  # training MSE at each loss evaluation of L-BFGS, then the final one


def _check_int(value, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ConfigError(key, value=value, low=low, high=high)
    return int(value)


def _activation_fn(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    from mlcore.model import make_activation

    if name not in UA_ACTIVATIONS:
        raise ConfigError("err.course.universal.activation", value=name, allowed=", ".join(UA_ACTIVATIONS))
    return make_activation(name)


def fit_universal(
    target: Target1D,
    n_hidden: int,
    activation: str = "tanh",
    *,
    steps: int = 200,
    seed: int = 0,
) -> UniversalFit:
    """Full-batch L-BFGS (strong Wolfe line search) on the MSE for at most ``steps`` iterations,
    from the seeded default initial weights of the project's ``MLP``."""
    from mlcore.config import LayerSpec, ModelConfig
    from mlcore.model import MLP

    n_hidden = _check_int(n_hidden, "err.course.universal.width", 1, MAX_WIDTH)
    steps = _check_int(steps, "err.course.universal.steps", 1, MAX_STEPS)
    act = _activation_fn(activation)
    model = MLP(ModelConfig(hidden=(LayerSpec(n_hidden, activation),)), 1, 1, seed=seed).double()
    xt = torch.from_numpy(np.asarray(target.x, dtype=np.float64)).reshape(-1, 1)
    yt = torch.from_numpy(np.asarray(target.y, dtype=np.float64)).reshape(-1, 1)
    optimizer = torch.optim.LBFGS(
        model.parameters(), lr=1.0, max_iter=steps, history_size=20, line_search_fn="strong_wolfe",
        tolerance_grad=1e-12, tolerance_change=1e-15,
    )
    history: list[float] = []

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.mean((model(xt) - yt) ** 2)
        loss.backward()
        history.append(float(loss.detach()))
        return loss

    optimizer.step(closure)
    hidden, out = model.net[0], model.net[-1]
    with torch.no_grad():
        train_mse = float(torch.mean((model(xt) - yt) ** 2))
        xg = torch.from_numpy(np.asarray(target.x_grid, dtype=np.float64)).reshape(-1, 1)
        output = model(xg).reshape(-1).numpy().copy()
        w = hidden.weight.reshape(-1).numpy().copy()
        b = hidden.bias.numpy().copy()
        v = out.weight.reshape(-1).numpy().copy()
        c = float(out.bias)
        pieces = (v[None, :] * act(hidden(xg)).numpy()).T  # (N, m)
    history.append(train_mse)
    truth_mse = None if target.truth is None else float(np.mean((output - target.truth) ** 2))
    return UniversalFit(target.name, n_hidden, activation, steps, int(seed), np.asarray(target.x_grid),
                        output, pieces, c, w, b, v, train_mse, truth_mse, np.array(history))


@dataclass(frozen=True)
class WidthSweep:
    target: str
    activation: str
    steps: int
    seed: int
    widths: tuple[int, ...]
    train_mse: tuple[float, ...]
    truth_mse: tuple[float, ...] | None


def width_sweep(
    target: Target1D,
    activation: str = "tanh",
    *,
    widths: tuple[int, ...] = WIDTHS,
    steps: int = 200,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> WidthSweep:
    """``fit_universal`` for each width; ``progress(i, n)`` is called after each fit (i = 1..n)."""
    if not widths:
        raise ConfigError("err.course.universal.width", value="-", low=1, high=MAX_WIDTH)
    train, truth = [], []
    for i, n in enumerate(widths, start=1):
        fit = fit_universal(target, n, activation, steps=steps, seed=seed)
        train.append(fit.train_mse)
        truth.append(fit.truth_mse)
        if progress is not None:
            progress(i, len(widths))
    return WidthSweep(
        target.name, activation, int(steps), int(seed), tuple(int(w) for w in widths), tuple(train),
        None if target.truth is None else tuple(float(t) for t in truth),
    )
