"""Backpropagation on a 2-2-1 network, one example, stepped through the chain rule.

Notation (layer in the superscript, neuron i and input j in the subscript, as ``W_ij`` in the
course: i = neuron, j = input feature)::

    z1_i = w1_i1 x_1 + w1_i2 x_2 + b1_i      h_i = a(z1_i)         (hidden layer, i = 1, 2)
    z2   = w2_1 h_1 + w2_2 h_2 + b2          y_hat = g(z2)         (output neuron)
    L    = (y_hat - y)^2                                           (MSE on one example)

Each gradient is written as the product of local derivatives, e.g.
``dL/dw1_11 = dL/dy_hat * dy_hat/dz2 * dz2/dh_1 * dh_1/dz1_1 * dz1_1/dw1_11``, computed by hand
from closed-form derivatives, and set beside the value torch's autograd gives (they agree to
rounding). The update step is plain gradient descent ``w <- w - alpha * dL/dw``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch

from mlcore.course.activations import get_activation
from mlcore.errors import ConfigError

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu")
OUTPUT_ACTIVATIONS = ("sigmoid", "identity")
PARAMS = ("w1_11", "w1_12", "w1_21", "w1_22", "b1_1", "b1_2", "w2_1", "w2_2", "b2")
STEPS = ("fwd_hidden", "fwd_output", "loss", "bwd_output", "bwd_hidden", "update")

_LATEX = {
    "w1_11": "w^{(1)}_{11}", "w1_12": "w^{(1)}_{12}", "w1_21": "w^{(1)}_{21}", "w1_22": "w^{(1)}_{22}",
    "b1_1": "b^{(1)}_{1}", "b1_2": "b^{(1)}_{2}",
    "w2_1": "w^{(2)}_{1}", "w2_2": "w^{(2)}_{2}", "b2": "b^{(2)}",
}
_UNICODE = {
    "w1_11": "w⁽¹⁾₁₁", "w1_12": "w⁽¹⁾₁₂", "w1_21": "w⁽¹⁾₂₁", "w1_22": "w⁽¹⁾₂₂",
    "b1_1": "b⁽¹⁾₁", "b1_2": "b⁽¹⁾₂", "w2_1": "w⁽²⁾₁", "w2_2": "w⁽²⁾₂", "b2": "b⁽²⁾",
}


def _finite(value) -> bool:
    """A real number (not a bool), finite and at most 1e6 in size."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return math.isfinite(value) and abs(value) <= 1e6


def param_latex(name: str) -> str:
    return _LATEX[name]


def param_label(name: str) -> str:
    """A plain-text label with unicode super/subscripts (for tables and figures)."""
    return _UNICODE[name]


@dataclass(frozen=True)
class TinyNet:
    """The nine parameters of the 2-2-1 network, by name (see ``PARAMS``)."""

    w1_11: float
    w1_12: float
    w1_21: float
    w1_22: float
    b1_1: float
    b1_2: float
    w2_1: float
    w2_2: float
    b2: float

    def __post_init__(self) -> None:
        for name in PARAMS:
            value = getattr(self, name)
            if not _finite(value):
                raise ConfigError("err.course.basics.number", name=name, value=value)
            object.__setattr__(self, name, float(value))

    @classmethod
    def random(cls, seed: int = 0) -> "TinyNet":
        """Seeded weights in [-1, 1], rounded to 2 decimals so they can be read and typed."""
        values = np.round(np.random.default_rng(seed).uniform(-1.0, 1.0, size=len(PARAMS)), 2)
        return cls(**{name: float(v) for name, v in zip(PARAMS, values)})

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in PARAMS}

    @property
    def W1(self) -> np.ndarray:
        return np.array([[self.w1_11, self.w1_12], [self.w1_21, self.w1_22]])

    @property
    def b1(self) -> np.ndarray:
        return np.array([self.b1_1, self.b1_2])

    @property
    def W2(self) -> np.ndarray:
        return np.array([self.w2_1, self.w2_2])


@dataclass(frozen=True)
class Example:
    """One training example: inputs ``x1, x2`` and the target ``y``."""

    x1: float
    x2: float
    y: float

    def __post_init__(self) -> None:
        for name in ("x1", "x2", "y"):
            value = getattr(self, name)
            if not _finite(value):
                raise ConfigError("err.course.basics.number", name=name, value=value)
            object.__setattr__(self, name, float(value))

    @property
    def x(self) -> np.ndarray:
        return np.array([self.x1, self.x2])


def _act(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed forms ``a(z)`` and ``a'(z)`` (the hand side of the comparison with autograd)."""
    z = np.asarray(z, dtype=np.float64)
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s, s * (1.0 - s)
    if name == "tanh":
        t = np.tanh(z)
        return t, 1.0 - t**2
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(np.float64)  # torch also uses 0 at z = 0
    if name == "identity":
        return z.copy(), np.ones_like(z)
    raise ConfigError("err.course.basics.activation", value=name, allowed=", ".join(HIDDEN_ACTIVATIONS))


def _check(hidden: str, output: str) -> None:
    if hidden not in HIDDEN_ACTIVATIONS:
        raise ConfigError("err.course.basics.activation", value=hidden, allowed=", ".join(HIDDEN_ACTIVATIONS))
    if output not in OUTPUT_ACTIVATIONS:
        raise ConfigError("err.course.basics.activation", value=output, allowed=", ".join(OUTPUT_ACTIVATIONS))


@dataclass(frozen=True)
class Factor:
    """One local derivative in a chain-rule product: its LaTeX symbol and its value."""

    latex: str
    value: float


@dataclass(frozen=True)
class ParamGrad:
    name: str
    value: float  # current value of the parameter
    factors: tuple[Factor, ...]
    autograd: float  # torch's answer
    new_value: float  # value - lr * chain

    @property
    def chain(self) -> float:
        """The product of the factors: the gradient by the chain rule."""
        return float(np.prod([f.value for f in self.factors]))

    @property
    def latex(self) -> str:
        return _LATEX[self.name]

    def latex_chain(self, digits: int = 4, decimal: str = ".") -> str:
        """``dL/dp = (factor)_value * ... = product``, each factor underbraced with its value
        (``decimal``: the session language's mark)."""
        from mlcore.plots.style import tex_number

        parts = [rf"\underbrace{{{f.latex}}}_{{{tex_number(f.value, digits, decimal)}}}" for f in self.factors]
        return (
            rf"\frac{{\partial L}}{{\partial {self.latex}}} = " + r" \cdot ".join(parts)
            + rf" = {tex_number(self.chain, digits, decimal)}"
        )


@dataclass(frozen=True)
class Forward:
    z1: np.ndarray  # (2,)
    h: np.ndarray  # (2,)
    z2: float
    y_hat: float
    loss: float


@dataclass(frozen=True)
class BackpropTrace:
    net: TinyNet
    example: Example
    hidden_activation: str
    output_activation: str
    lr: float
    forward: Forward
    dL_dyhat: float
    dyhat_dz2: float
    dh_dz1: np.ndarray  # (2,)
    grads: tuple[ParamGrad, ...]  # in PARAMS order
    new_net: TinyNet
    new_loss: float

    @property
    def delta2(self) -> float:
        """``dL/dz2``: the error signal of the output neuron."""
        return self.dL_dyhat * self.dyhat_dz2

    @property
    def delta1(self) -> np.ndarray:
        """``dL/dz1_i``: the error signal sent back to each hidden neuron."""
        return self.delta2 * self.net.W2 * self.dh_dz1

    def grad(self, name: str) -> ParamGrad:
        return self.grads[PARAMS.index(name)]

    @property
    def max_abs_diff(self) -> float:
        """Largest |chain rule - autograd| over the nine parameters."""
        return max(abs(g.chain - g.autograd) for g in self.grads)


def forward(net: TinyNet, example: Example, hidden: str, output: str) -> Forward:
    _check(hidden, output)
    z1 = net.W1 @ example.x + net.b1
    h, _ = _act(hidden, z1)
    z2 = float(net.W2 @ h + net.b2)
    y_hat = float(_act(output, np.array(z2))[0])
    return Forward(z1, h, z2, y_hat, (y_hat - example.y) ** 2)


def autograd_gradients(net: TinyNet, example: Example, hidden: str, output: str) -> dict[str, float]:
    """``dL/dp`` for every parameter from torch autograd, with torch's own modules and MSELoss."""
    _check(hidden, output)
    params = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in net.as_dict().items()
    }
    W1 = torch.stack([
        torch.stack([params["w1_11"], params["w1_12"]]),
        torch.stack([params["w1_21"], params["w1_22"]]),
    ])
    b1 = torch.stack([params["b1_1"], params["b1_2"]])
    W2 = torch.stack([params["w2_1"], params["w2_2"]])
    x = torch.tensor([example.x1, example.x2], dtype=torch.float64)
    h = get_activation(hidden)(W1 @ x + b1)
    y_hat = get_activation(output)(W2 @ h + params["b2"])
    loss = torch.nn.functional.mse_loss(y_hat, torch.tensor(example.y, dtype=torch.float64))
    grads = torch.autograd.grad(loss, [params[name] for name in PARAMS])
    return {name: float(g) for name, g in zip(PARAMS, grads)}


def backprop_trace(
    net: TinyNet, example: Example, hidden: str = "sigmoid", output: str = "sigmoid", lr: float = 0.5
) -> BackpropTrace:
    """Forward values, loss, chain-rule gradients (with autograd beside them) and the update."""
    _check(hidden, output)
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and 0.0 < lr <= 10.0):
        raise ConfigError("err.course.basics.range", name="lr", value=lr, low=0, high=10)
    fw = forward(net, example, hidden, output)
    _, dh_dz1 = _act(hidden, fw.z1)
    _, d_out = _act(output, np.array(fw.z2))
    dL_dyhat = 2.0 * (fw.y_hat - example.y)
    dyhat_dz2 = float(d_out)

    f_L = Factor(r"\frac{\partial L}{\partial \hat y}", dL_dyhat)
    f_out = Factor(r"\frac{\partial \hat y}{\partial z^{(2)}}", dyhat_dz2)
    chains: dict[str, tuple[Factor, ...]] = {}
    for i in (1, 2):
        f_w2 = Factor(rf"\frac{{\partial z^{{(2)}}}}{{\partial h_{i}}}", float(net.W2[i - 1]))
        f_h = Factor(rf"\frac{{\partial h_{i}}}{{\partial z^{{(1)}}_{i}}}", float(dh_dz1[i - 1]))
        for j in (1, 2):
            f_in = Factor(
                rf"\frac{{\partial z^{{(1)}}_{i}}}{{\partial w^{{(1)}}_{{{i}{j}}}}}", float(example.x[j - 1])
            )
            chains[f"w1_{i}{j}"] = (f_L, f_out, f_w2, f_h, f_in)
        f_b1 = Factor(rf"\frac{{\partial z^{{(1)}}_{i}}}{{\partial b^{{(1)}}_{i}}}", 1.0)
        chains[f"b1_{i}"] = (f_L, f_out, f_w2, f_h, f_b1)
        f_w2_own = Factor(rf"\frac{{\partial z^{{(2)}}}}{{\partial w^{{(2)}}_{i}}}", float(fw.h[i - 1]))
        chains[f"w2_{i}"] = (f_L, f_out, f_w2_own)
    chains["b2"] = (f_L, f_out, Factor(r"\frac{\partial z^{(2)}}{\partial b^{(2)}}", 1.0))

    auto = autograd_gradients(net, example, hidden, output)
    values = net.as_dict()
    grads = []
    for name in PARAMS:
        chain = float(np.prod([f.value for f in chains[name]]))
        grads.append(ParamGrad(name, values[name], chains[name], auto[name], values[name] - lr * chain))
    new_net = TinyNet(**{g.name: g.new_value for g in grads})
    return BackpropTrace(
        net=net, example=example, hidden_activation=hidden, output_activation=output, lr=float(lr),
        forward=fw, dL_dyhat=dL_dyhat, dyhat_dz2=dyhat_dz2, dh_dz1=dh_dz1, grads=tuple(grads),
        new_net=new_net, new_loss=forward(new_net, example, hidden, output).loss,
    )
