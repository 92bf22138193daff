"""The neuron, the network's basic element: ``y = a(sum_i w_i x_i + b)``.

``evaluate_neuron`` computes one output with every intermediate number (for the formula with the
values filled in), ``neuron_surface`` the output over a square of the input plane together with
the decision line where the pre-activation is 0, and ``count_parameters`` the weights and biases
of a network of stacked layers (a layer is a set of m neurons; a network, q stacked layers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from mlcore.course.activations import check_activation, get_activation
from mlcore.errors import ConfigError


def _apply(activation: str, z: np.ndarray) -> np.ndarray:
    """The torch activation module applied to a numpy array (float64 in, float64 out)."""
    with torch.no_grad():
        return get_activation(activation)(torch.as_tensor(np.asarray(z, dtype=np.float64))).numpy()


def neuron_output(weights: Sequence[float], bias: float, x: np.ndarray, activation: str) -> np.ndarray:
    """Outputs of one neuron for the rows of ``x`` (shape (n, len(weights)), or one row)."""
    check_activation(activation)
    w = np.asarray(weights, dtype=np.float64)
    xs = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if xs.shape[1] != w.shape[0]:
        raise ConfigError("err.course.basics.shape", expected=w.shape[0], value=xs.shape[1])
    return _apply(activation, xs @ w + float(bias))


@dataclass(frozen=True)
class NeuronEval:
    """One neuron on one input: the weighted terms ``w_i x_i``, ``z = sum + b`` and ``y = a(z)``."""

    weights: tuple[float, ...]
    bias: float
    x: tuple[float, ...]
    activation: str
    terms: tuple[float, ...]
    z: float
    y: float


def evaluate_neuron(weights: Sequence[float], bias: float, x: Sequence[float], activation: str) -> NeuronEval:
    w = tuple(float(v) for v in weights)
    xs = tuple(float(v) for v in x)
    if len(w) != len(xs):
        raise ConfigError("err.course.basics.shape", expected=len(w), value=len(xs))
    terms = tuple(a * b for a, b in zip(w, xs))
    z = float(sum(terms) + float(bias))
    y = float(neuron_output(w, bias, np.array([xs]), activation)[0])
    return NeuronEval(w, float(bias), xs, activation, terms, z, y)


@dataclass(frozen=True)
class NeuronSurface:
    """Output ``y[i, j]`` of a two-input neuron at ``(x1[j], x2[i])`` over a square grid.

    ``line`` holds points of the decision line ``w1 x1 + w2 x2 + b = 0`` inside the square (None when
    it misses the square or both weights are 0): on one side z > 0, on the other z < 0.
    """

    w1: float
    w2: float
    b: float
    activation: str
    x1: np.ndarray
    x2: np.ndarray
    z: np.ndarray
    y: np.ndarray
    line: tuple[np.ndarray, np.ndarray] | None


def decision_line(
    w1: float, w2: float, b: float, lim: float, n: int = 101
) -> tuple[np.ndarray, np.ndarray] | None:
    """Points of ``w1 x1 + w2 x2 + b = 0`` within ``[-lim, lim]^2`` (None when there are none)."""
    if w1 == 0 and w2 == 0:
        return None
    t = np.linspace(-lim, lim, n)
    if abs(w2) >= abs(w1):
        xs, ys = t, -(w1 * t + b) / w2
    else:
        xs, ys = -(w2 * t + b) / w1, t
    inside = (np.abs(xs) <= lim + 1e-12) & (np.abs(ys) <= lim + 1e-12)
    if inside.sum() < 2:
        return None
    return xs[inside], ys[inside]


def neuron_surface(
    w1: float, w2: float, b: float, activation: str, lim: float = 3.0, n: int = 61
) -> NeuronSurface:
    check_activation(activation)
    if not (lim > 0 and 2 <= n <= 401):
        raise ConfigError("err.course.basics.range", name="n", value=n, low=2, high=401)
    grid = np.linspace(-lim, lim, n)
    g1, g2 = np.meshgrid(grid, grid)  # g1 varies along columns (x1), g2 along rows (x2)
    z = w1 * g1 + w2 * g2 + b
    return NeuronSurface(
        float(w1), float(w2), float(b), activation, grid, grid, z, _apply(activation, z),
        decision_line(float(w1), float(w2), float(b), lim),
    )


def count_parameters(n_inputs: int, layer_sizes: Sequence[int]) -> int:
    """Weights plus biases of stacked fully connected layers: ``sum (inputs + 1) * units``."""
    total = 0
    prev = int(n_inputs)
    for units in layer_sizes:
        total += (prev + 1) * int(units)
        prev = int(units)
    return total
