"""The forward pass as matrix multiplication, in the course's notation.

A linear layer is a weight matrix ``W`` with ``W_ij``: i = neuron, j = feature of the input. The
bias is folded in as an extra last column of ``W`` and a row of ones at the bottom of ``X``, and
``X`` has one COLUMN per instance, so for every layer ``Z = W X`` and ``Y = a(Z)``. Adding instances
adds columns to ``X`` (mini-batching). ``forward_trace`` records every matrix of that computation
for a real torch model and checks the result against ``model(x)``; ``time_batches`` measures how
the time per instance falls as the batch grows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from mlcore.course.activations import _seeded_linear, activation_name, check_activation, get_activation
from mlcore.errors import ConfigError

MAX_K = 8
DEFAULT_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def build_network(
    n_inputs: int, hidden: int, n_outputs: int, activation: str = "relu", seed: int = 0
) -> nn.Module:
    """A ``n_inputs-hidden-n_outputs`` network, the project's ``mlcore.model.MLP`` when available
    (else an equivalent ``nn.Sequential``), with seeded PyTorch-default weights, in eval mode."""
    check_activation(activation)
    limits = (("n_inputs", n_inputs, 4096), ("hidden", hidden, 512), ("n_outputs", n_outputs, 64))
    for name, value, high in limits:
        if not 1 <= int(value) <= high:
            raise ConfigError("err.course.basics.range", name=name, value=value, low=1, high=high)
    try:
        from mlcore.config import LayerSpec, ModelConfig
        from mlcore.model import MLP
    except ImportError:
        model: nn.Module = nn.Sequential(
            nn.Linear(n_inputs, hidden), get_activation(activation), nn.Linear(hidden, n_outputs)
        )
    else:
        # seed= keeps the caller's global RNG as it was; the weights are redrawn below anyway
        config = ModelConfig(hidden=(LayerSpec(int(hidden), activation),))
        model = MLP(config, int(n_inputs), int(n_outputs), seed=seed)
    for i, layer in enumerate(m for m in model.modules() if isinstance(m, nn.Linear)):
        fresh = _seeded_linear(layer.in_features, layer.out_features, seed * 101 + i, dtype=torch.float32)
        with torch.no_grad():
            layer.weight.copy_(fresh.weight)
            layer.bias.copy_(fresh.bias)
    return model.eval()


def dense_layers(model: nn.Module) -> list[tuple[nn.Linear, nn.Module]]:
    """The (Linear, activation) pairs of a feed-forward model, in order (identity when a Linear
    is followed directly by another Linear or by nothing; dropout is skipped: eval mode)."""
    seq = model.net if hasattr(model, "net") else model
    pairs: list[list] = []
    for module in seq.children() if isinstance(seq, nn.Sequential) else seq.modules():
        if isinstance(module, nn.Linear):
            pairs.append([module, nn.Identity()])
        elif isinstance(module, (nn.Dropout, nn.Sequential)) or not pairs:
            continue
        else:
            pairs[-1][1] = module
    if not pairs:
        raise ConfigError("err.course.basics.no_layers")
    return [(lin, act) for lin, act in pairs]


def _sub(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _sup(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


@dataclass(frozen=True)
class LayerStep:
    """One layer of the forward pass: ``Z = W_aug X_aug`` then ``Y = a(Z)``.

    ``W_aug`` is (units, inputs + 1) = ``[W | b]``; ``X_aug`` is (inputs + 1, k) = ``[X ; 1...1]``
    with one column per instance; ``Z`` and ``Y`` are (units, k).
    """

    index: int  # 1-based layer number
    activation: str
    W_aug: np.ndarray
    X_aug: np.ndarray
    Z: np.ndarray
    Y: np.ndarray
    input_labels: tuple[str, ...]  # rows of X_aug (the last one is "1")
    unit_labels: tuple[str, ...]  # rows of W_aug, Z and Y

    @property
    def n_inputs(self) -> int:
        return int(self.W_aug.shape[1] - 1)

    @property
    def n_units(self) -> int:
        return int(self.W_aug.shape[0])


@dataclass(frozen=True)
class ForwardTrace:
    steps: tuple[LayerStep, ...]
    instance_labels: tuple[str, ...]
    model_output: np.ndarray  # (n_outputs, k): what model(x) returns, transposed

    @property
    def output(self) -> np.ndarray:
        return self.steps[-1].Y

    @property
    def max_abs_diff(self) -> float:
        return float(np.max(np.abs(self.output - self.model_output)))


def forward_trace(model: nn.Module, rows: np.ndarray) -> ForwardTrace:
    """Every matrix of the forward pass of ``model`` on ``rows`` (k, n_features), layer by layer.

    The matrices are computed in float64 from the model's own parameters, each activation by the
    model's own module; ``model_output`` is ``model(rows)`` in float32 for comparison.
    """
    rows = np.asarray(rows, dtype=np.float32)
    if rows.ndim != 2 or not 1 <= rows.shape[0] <= 4096:
        raise ConfigError("err.course.basics.rows", value=rows.shape[0] if rows.ndim == 2 else 0)
    layers = dense_layers(model)
    if rows.shape[1] != layers[0][0].in_features:
        raise ConfigError("err.course.basics.shape", expected=layers[0][0].in_features, value=rows.shape[1])
    k = rows.shape[0]
    current = rows.T.astype(np.float64)  # (features, k): one column per instance
    labels = tuple(f"x{_sub(j)}" for j in range(rows.shape[1]))
    steps = []
    for index, (lin, act) in enumerate(layers, start=1):
        W = lin.weight.detach().double().numpy()
        b = lin.bias.detach().double().numpy() if lin.bias is not None else np.zeros(W.shape[0])
        W_aug = np.hstack([W, b[:, None]])
        X_aug = np.vstack([current, np.ones((1, k))])
        Z = W_aug @ X_aug
        with torch.no_grad():
            Y = act(torch.from_numpy(Z)).numpy()
        units = tuple(f"z{_sub(i)}" for i in range(W.shape[0]))
        steps.append(LayerStep(index, activation_name(act), W_aug, X_aug, Z, Y, labels + ("1",), units))
        current = Y
        labels = tuple(f"y{_sub(i)}⁽{_sup(index)}⁾" for i in range(W.shape[0]))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(torch.tensor(rows)).reshape(k, -1).double().numpy().T  # a copy: rows may be read-only
    model.train(was_training)
    return ForwardTrace(tuple(steps), tuple(f"#{i + 1}" for i in range(k)), out)


@dataclass(frozen=True)
class BatchTiming:
    """Measured forward time (best of ``repeats``) for each batch size."""

    batch_sizes: tuple[int, ...]
    seconds_per_batch: tuple[float, ...]
    n_inputs: int
    hidden: int

    @property
    def seconds_per_instance(self) -> tuple[float, ...]:
        return tuple(t / b for t, b in zip(self.seconds_per_batch, self.batch_sizes))

    @property
    def speedup(self) -> float:
        """Time per instance with batch 1 divided by that with the largest batch."""
        per = self.seconds_per_instance
        return per[0] / per[-1] if per[-1] > 0 else float("inf")


def time_batches(
    model: nn.Module,
    n_inputs: int,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    repeats: int = 3,
    seed: int = 0,
) -> BatchTiming:
    """Time ``model(x)`` for random batches of each size (a measurement to display, not a test).

    Each measurement runs enough calls to process at least 128 instances, so small batches are
    timed over many calls; the best of ``repeats`` measurements is kept (the minimum is the least
    disturbed by other work on a shared server).
    """
    sizes = tuple(int(b) for b in batch_sizes)
    if not sizes or min(sizes) < 1 or max(sizes) > 65536 or not 1 <= repeats <= 50:
        raise ConfigError("err.course.basics.range", name="batch_sizes", value=sizes, low=1, high=65536)
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    results = []
    with torch.inference_mode():
        for size in sizes:
            x = torch.randn(size, n_inputs, generator=gen)
            calls = max(1, 128 // size)
            model(x)  # warm-up
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                for _ in range(calls):
                    model(x)
                best = min(best, (time.perf_counter() - start) / calls)
            results.append(best)
    hidden = next(m for m in model.modules() if isinstance(m, nn.Linear)).out_features
    return BatchTiming(sizes, tuple(results), int(n_inputs), int(hidden))
