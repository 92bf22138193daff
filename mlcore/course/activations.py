"""Activation functions: f and f' (by torch autograd on the real modules), vanishing gradients,
dead ReLUs, and why a network without nonlinearity collapses to a single linear map.

The activation modules come from ``mlcore.model.make_activation`` when that module exists (so the
course shows exactly what the models use); otherwise from the small local mapping below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mlcore.errors import ConfigError

ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", "identity")

# f and f' in closed form, for display (the plotted f' comes from autograd, not from these).
FORMULAS = {
    "relu": (r"f(x) = \max(0, x)", r"f'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}"),
    "leaky_relu": (r"f(x) = \begin{cases} x & x > 0 \\ 0.01\,x & x \le 0 \end{cases}",
                   r"f'(x) = \begin{cases} 1 & x > 0 \\ 0.01 & x \le 0 \end{cases}"),
    "elu": (r"f(x) = \begin{cases} x & x > 0 \\ e^{x} - 1 & x \le 0 \end{cases}",
            r"f'(x) = \begin{cases} 1 & x > 0 \\ e^{x} & x \le 0 \end{cases}"),
    "gelu": (r"f(x) = x\,\Phi(x)", r"f'(x) = \Phi(x) + x\,\varphi(x)"),
    "tanh": (r"f(x) = \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}", r"f'(x) = 1 - \tanh^2(x)"),
    "sigmoid": (r"f(x) = \sigma(x) = \frac{1}{1 + e^{-x}}", r"f'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr)"),
    "identity": (r"f(x) = x", r"f'(x) = 1"),
}

_LOCAL = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def check_activation(name: str, allowed: tuple[str, ...] = ACTIVATIONS) -> str:
    if name not in allowed:
        raise ConfigError("err.course.basics.activation", value=name, allowed=", ".join(allowed))
    return name


def get_activation(name: str) -> nn.Module:
    """A fresh torch activation module for ``name`` (one of ``ACTIVATIONS``)."""
    check_activation(name)
    try:
        from mlcore.model import make_activation  # the models' own modules, when available
    except ImportError:
        return _LOCAL[name]()
    return make_activation(name)


def activation_name(module: nn.Module) -> str:
    """The ``ACTIVATIONS`` name of a torch activation module (class name for anything else)."""
    for name, cls in _LOCAL.items():
        if type(module) is cls:
            return name
    return type(module).__name__.lower()


# ----------------------------------------------------------------------------------------------
# f and f'
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivationCurve:
    """``f`` and ``f'`` sampled on ``x``; ``saturated`` lists the intervals where ``|f'| < threshold``."""

    name: str
    x: np.ndarray
    f: np.ndarray
    df: np.ndarray
    threshold: float
    saturated: tuple[tuple[float, float], ...]

    @property
    def saturated_fraction(self) -> float:
        """Share of the plotted range where the gradient (almost) vanishes."""
        span = float(self.x[-1] - self.x[0])
        return sum(b - a for a, b in self.saturated) / span if span > 0 else 0.0


def _intervals(x: np.ndarray, mask: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Contiguous runs of ``mask`` as (x_start, x_end) pairs."""
    out = []
    start = None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        if not m and start is not None:
            out.append((float(x[start]), float(x[i - 1])))
            start = None
    if start is not None:
        out.append((float(x[start]), float(x[-1])))
    return tuple((a, b) for a, b in out if b > a)


def activation_curve(
    name: str, x_min: float = -5.0, x_max: float = 5.0, n: int = 401, threshold: float = 0.05
) -> ActivationCurve:
    """Sample ``f(x)`` and ``f'(x)``; ``f'`` comes from autograd through the torch module."""
    check_activation(name)
    if not x_max > x_min or n < 2:
        raise ConfigError(
            "err.course.basics.range", name="x", value=f"[{x_min}, {x_max}]", low="x_min", high="x_max"
        )
    if not 0.0 <= threshold <= 1.0:
        raise ConfigError("err.course.basics.range", name="threshold", value=threshold, low=0, high=1)
    act = get_activation(name)
    x = torch.linspace(x_min, x_max, n, dtype=torch.float64, requires_grad=True)
    y = act(x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    xs = x.detach().numpy()
    df = grad.numpy()
    return ActivationCurve(
        name=name,
        x=xs,
        f=y.detach().numpy(),
        df=df,
        threshold=float(threshold),
        saturated=_intervals(xs, np.abs(df) < threshold),
    )


# ----------------------------------------------------------------------------------------------
# Dead ReLUs
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadReluScan:
    """A random ReLU layer on real rows, with every bias shifted by ``shift``.

    A unit is *dead* when its pre-activation is <= 0 on every row: its output is 0 everywhere, so
    the gradient of any loss with respect to its weights is 0 and training can never revive it.
    ``shifts``/``dead_fraction`` scan the bias shift; the other fields describe the layer at
    ``shift``, with ``grad_norm`` the norm of ``dL/dW_i`` (autograd, ``L`` = mean output) per unit.
    """

    shifts: np.ndarray
    dead_fraction: np.ndarray
    shift: float
    active_fraction: np.ndarray  # per unit: share of rows where z > 0
    dead: np.ndarray  # per unit, bool
    grad_norm: np.ndarray  # per unit
    n_rows: int

    @property
    def n_units(self) -> int:
        return int(self.dead.shape[0])

    @property
    def dead_now(self) -> float:
        return float(self.dead.mean())


def _seeded_linear(n_in: int, n_out: int, seed: int, dtype=torch.float64) -> nn.Linear:
    """``nn.Linear`` with PyTorch's default init distribution U(-1/sqrt(n_in), 1/sqrt(n_in)),
    drawn from a private generator (thread-safe: never touches the global RNG)."""
    gen = torch.Generator().manual_seed(int(seed))
    layer = torch.nn.utils.skip_init(nn.Linear, n_in, n_out, dtype=dtype)  # no draw from the global RNG
    bound = 1.0 / np.sqrt(n_in)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=gen)
        layer.bias.uniform_(-bound, bound, generator=gen)
    return layer


def dead_relu_scan(
    X: np.ndarray,
    shift: float,
    n_units: int = 32,
    seed: int = 0,
    shifts: np.ndarray | None = None,
) -> DeadReluScan:
    """Fraction of dead ReLU units in a random layer on the rows ``X`` as the biases shift."""
    X = np.array(X, dtype=np.float64)  # a writable copy (torch.from_numpy below)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ConfigError("err.course.basics.rows", value=X.shape[0] if X.ndim == 2 else 0)
    if shifts is None:
        shifts = np.round(np.linspace(-4.0, 2.0, 61), 3)
    layer = _seeded_linear(X.shape[1], int(n_units), seed)
    xt = torch.from_numpy(X)
    with torch.no_grad():
        z0 = layer(xt)  # (n_rows, n_units), biases not yet shifted
    zmax = z0.max(dim=0).values.numpy()  # the best row of each unit
    dead_fraction = np.array([(zmax + s <= 0).mean() for s in shifts])

    with torch.no_grad():
        layer.bias += float(shift)
    layer.zero_grad()
    z = layer(xt)
    out = torch.relu(z)
    out.mean().backward()
    grad_norm = layer.weight.grad.norm(dim=1).numpy()
    zn = z.detach().numpy()
    return DeadReluScan(
        shifts=np.asarray(shifts, dtype=float),
        dead_fraction=dead_fraction,
        shift=float(shift),
        active_fraction=(zn > 0).mean(axis=0),
        dead=(zn <= 0).all(axis=0),
        grad_norm=grad_norm,
        n_rows=int(X.shape[0]),
    )


# ----------------------------------------------------------------------------------------------
# Without nonlinearity two layers are one
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearCollapse:
    """Two seeded linear layers ``W2 a(W1 x + b1) + b2`` against the single map ``W x + b`` with
    ``W = W2 W1`` and ``b = W2 b1 + b2``. ``X`` has one column per instance (the course's layout).
    With ``activation == "identity"`` both outputs agree (``max_abs_diff`` ~ 1e-16)."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    W: np.ndarray
    b: np.ndarray
    X: np.ndarray  # (n_in, k)
    two_layers: np.ndarray  # (n_out, k): the torch nn.Sequential output
    one_layer: np.ndarray  # (n_out, k): W X + b
    activation: str

    @property
    def max_abs_diff(self) -> float:
        return float(np.max(np.abs(self.two_layers - self.one_layer)))

    @property
    def collapses(self) -> bool:
        return self.max_abs_diff < 1e-9


def linear_collapse(
    n_in: int = 3, n_hidden: int = 4, n_out: int = 2, k: int = 5, seed: int = 0, activation: str = "identity"
) -> LinearCollapse:
    """Compose two random linear layers (weights rounded to 1 decimal so they read well)."""
    check_activation(activation)
    limits = (("n_in", n_in, 8), ("n_hidden", n_hidden, 8), ("n_out", n_out, 8), ("k", k, 64))
    for name, value, high in limits:
        if not 1 <= int(value) <= high:
            raise ConfigError("err.course.basics.range", name=name, value=value, low=1, high=high)
    first = _seeded_linear(n_in, n_hidden, seed)
    second = _seeded_linear(n_hidden, n_out, seed + 1)
    with torch.no_grad():
        for layer in (first, second):  # readable numbers: one decimal, scaled into [-1.5, 1.5]
            layer.weight.copy_(torch.round(layer.weight * 3, decimals=1))
            layer.bias.copy_(torch.round(layer.bias * 3, decimals=1))
    gen = np.random.default_rng(seed + 2)
    X = np.round(gen.uniform(-2, 2, size=(n_in, k)), 1)
    net = nn.Sequential(first, get_activation(activation).double(), second)
    with torch.no_grad():
        two = net(torch.from_numpy(X.T)).numpy().T
    W1, b1 = first.weight.detach().numpy(), first.bias.detach().numpy()
    W2, b2 = second.weight.detach().numpy(), second.bias.detach().numpy()
    W = W2 @ W1
    b = W2 @ b1 + b2
    return LinearCollapse(
        W1=W1, b1=b1, W2=W2, b2=b2, W=W, b=b, X=X, two_layers=two, one_layer=W @ X + b[:, None],
        activation=activation,
    )
