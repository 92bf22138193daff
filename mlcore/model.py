"""The model: a multilayer perceptron (MLP) built from a ``ModelConfig``.

In the course's words: a neuron computes ``y = a(sum_i w_i x_i + b)``; a *layer* is a set of ``m``
neurons, written as one weight matrix ``W`` (m x n) and a bias vector ``b`` (m); a network is ``q``
stacked layers. Here each hidden layer is ``Linear -> Activation -> (Dropout)`` and the network
ends with an output ``Linear`` that returns raw scores (*logits*): the sigmoid or softmax that turns
them into probabilities is applied by the loss during training and by :func:`mlcore.train.predict`.

Every activation is its own ``nn.Module`` instance (never a functional call, never one instance
reused in two places), because SHAP's DeepExplainer and captum hook modules one by one.

This module is a plain PyTorch model: the loss, the optimizer and the metrics live in
:mod:`mlcore.system` (Lightning's "systems vs models" split).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mlcore.config import ModelConfig, Task
from mlcore.errors import ConfigError

__all__ = [
    "MLP",
    "LayerParams",
    "make_activation",
    "output_size",
    "param_table",
    "count_params",
    "layer_outputs",
    "loss_name",
]

# Display names a learner recognises (used by the repr and the parameter table).
ACTIVATION_LABELS = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "identity": "Identity",
}

# ``nonlinearity`` argument of torch's Kaiming init for each activation (He et al. 2015 is derived
# for ReLU-like units; for the others we use torch's recommended gain).
_KAIMING_NONLINEARITY = {
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "elu": "relu",
    "gelu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "identity": "linear",
}
_LEAKY_SLOPE = 0.01


def make_activation(name: str) -> nn.Module:
    """A NEW activation module for ``name`` (one of ``mlcore.config.ACTIVATIONS``)."""
    factories = {
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(_LEAKY_SLOPE),
        "elu": nn.ELU,
        "gelu": nn.GELU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "identity": nn.Identity,
    }
    if name not in factories:
        raise ConfigError("err.model.activation", value=name, allowed=", ".join(factories))
    return factories[name]()


def output_size(task: Task, n_classes: int, binary_head: str = "logit") -> int:
    """Number of output neurons: 1 for regression and for a binary "logit" head (sigmoid of one
    score), 2 for a binary "softmax" head, ``n_classes`` for multiclass."""
    task = Task(task)
    if task is Task.REGRESSION:
        return 1
    if task is Task.BINARY:
        return 1 if binary_head == "logit" else 2
    if n_classes < 2:
        raise ConfigError("err.model.n_classes", value=n_classes)
    return int(n_classes)


def loss_name(task: Task, model_cfg: ModelConfig, n_outputs: int) -> str:
    """The loss that fits this task and output head: ``"ce"`` (cross-entropy: multiclass, binary
    "softmax" head), ``"bce"`` (binary "logit" head), or for regression ``model_cfg.loss`` or
    ``"mse"``. Applied by :class:`mlcore.system.MLPSystem`."""
    task = Task(task)
    if task is Task.REGRESSION:
        return model_cfg.loss or "mse"
    return "bce" if n_outputs == 1 else "ce"


class MLP(nn.Module):
    """A multilayer perceptron: ``n_inputs -> hidden layers -> n_outputs``.

    ``self.net`` is an ``nn.Sequential``; ``self.linears`` lists its ``Linear`` layers in order and
    ``self.activation_positions`` the index in ``net`` of each hidden layer's activation.
    Passing ``seed`` draws the initial weights from that seed without touching the caller's RNG.
    """

    def __init__(self, config: ModelConfig, n_inputs: int, n_outputs: int, seed: int | None = None) -> None:
        super().__init__()
        if int(n_inputs) < 1:
            raise ConfigError("err.model.n_inputs", value=n_inputs)
        if int(n_outputs) < 1:
            raise ConfigError("err.model.n_outputs", value=n_outputs)
        self.config = config
        self.n_inputs = int(n_inputs)
        self.n_outputs = int(n_outputs)
        self.activation_positions: list[int] = []
        if seed is None:
            self._build_and_init()
        else:
            with torch.random.fork_rng(devices=[]):
                # the CPU generator only: torch.manual_seed would also queue a (costly) CUDA seed
                torch.default_generator.manual_seed(int(seed))
                self._build_and_init()

    def _build_and_init(self) -> None:
        self.net = self._build()  # nn.Linear draws PyTorch's default init here
        if self.config.init != "default":
            self.reset_parameters()

    def _build(self) -> nn.Sequential:
        layers: list[nn.Module] = []
        width = self.n_inputs
        for spec in self.config.hidden:
            layers.append(nn.Linear(width, spec.units))
            layers.append(make_activation(spec.activation))
            self.activation_positions.append(len(layers) - 1)
            if self.config.dropout > 0:
                layers.append(nn.Dropout(self.config.dropout))
            width = spec.units
        layers.append(nn.Linear(width, self.n_outputs))
        return nn.Sequential(*layers)

    @property
    def linears(self) -> list[nn.Linear]:
        return [m for m in self.net if isinstance(m, nn.Linear)]

    def reset_parameters(self) -> None:
        """(Re)draw the weights with the configured scheme.

        - ``default``: PyTorch's ``nn.Linear`` default (uniform in +-1/sqrt(n_in) for weights and biases).
        - ``xavier`` (Glorot): uniform in +-sqrt(6/(n_in+n_out)) for weights, zero biases.
        - ``kaiming`` (He): normal with std ``gain/sqrt(n_in)`` for the activation that follows
          (gain sqrt(2) for ReLU), zero biases.
        - ``zeros``: every weight and bias is 0, so all neurons of a layer compute the same
          thing and receive the same gradient: they never become different (the symmetry problem).
        """
        scheme = self.config.init
        acts = [spec.activation for spec in self.config.hidden] + ["identity"]
        for linear, act in zip(self.linears, acts):
            if scheme == "default":
                linear.reset_parameters()
            elif scheme == "xavier":
                nn.init.xavier_uniform_(linear.weight)
                nn.init.zeros_(linear.bias)
            elif scheme == "kaiming":
                nonlin = _KAIMING_NONLINEARITY[act]
                nn.init.kaiming_normal_(linear.weight, a=_LEAKY_SLOPE, mode="fan_in", nonlinearity=nonlin)
                nn.init.zeros_(linear.bias)
            else:  # zeros
                nn.init.zeros_(linear.weight)
                nn.init.zeros_(linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @property
    def n_params(self) -> int:
        return count_params(self)

    def architecture(self) -> str:
        """``"2 → 16 (relu) → 16 (relu) → 2"``."""
        parts = [str(self.n_inputs)]
        parts += [f"{s.units} ({s.activation})" for s in self.config.hidden]
        parts.append(str(self.n_outputs))
        return " → ".join(parts)

    def __repr__(self) -> str:  # a repr a learner can read
        lines = [f"MLP {self.architecture()}  ·  {self.n_params} parameters"]
        for row in param_table(self):
            act = f" + {ACTIVATION_LABELS[row.activation]}" if row.activation else ""
            lines.append(
                f"  {row.name:<9} Linear({row.n_in} → {row.n_out}){act:<13}"
                f" W {row.n_out}×{row.n_in} + b {row.n_out} = {row.total}"
            )
        if self.config.dropout > 0:
            lines.append(f"  dropout p={self.config.dropout} after each hidden activation")
        return "\n".join(lines)


@dataclass(frozen=True)
class LayerParams:
    """Parameters of one ``Linear`` layer: ``W`` is ``n_out × n_in`` and ``b`` has ``n_out``."""

    index: int  # 1-based position among the Linear layers
    name: str  # "hidden 1", ..., "output"
    n_in: int
    n_out: int
    activation: str | None  # None for the output layer (raw scores)

    @property
    def weights(self) -> int:
        return self.n_in * self.n_out

    @property
    def biases(self) -> int:
        return self.n_out

    @property
    def total(self) -> int:
        return self.weights + self.biases

    @property
    def formula(self) -> str:
        """``"W: 16×2 + b: 16 = 48"`` (rows = neurons, columns = inputs, as in the course)."""
        return f"W: {self.n_out}×{self.n_in} + b: {self.n_out} = {self.total}"


def param_table(model: MLP) -> list[LayerParams]:
    """One row per ``Linear`` layer, in order, with its weight and bias counts."""
    rows: list[LayerParams] = []
    linears = model.linears
    for i, linear in enumerate(linears):
        last = i == len(linears) - 1
        rows.append(
            LayerParams(
                index=i + 1,
                name="output" if last else f"hidden {i + 1}",
                n_in=linear.in_features,
                n_out=linear.out_features,
                activation=None if last else model.config.hidden[i].activation,
            )
        )
    return rows


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def expected_param_count(n_inputs: int, hidden_units: list[int] | tuple[int, ...], n_outputs: int) -> int:
    """``sum(n_in*n_out + n_out)`` over consecutive layer widths (no model needed)."""
    widths = [int(n_inputs), *map(int, hidden_units), int(n_outputs)]
    return int(sum(a * b + b for a, b in zip(widths[:-1], widths[1:])))


@torch.no_grad()
def layer_outputs(model: MLP, X: np.ndarray | torch.Tensor) -> list[np.ndarray]:
    """Post-activation outputs of each hidden layer for inputs ``X`` (n, n_inputs).

    Returns one ``(n, units)`` float32 array per hidden layer. Dropout is skipped whatever the
    model's mode, so this shows what the trained network computes.
    """
    x = torch.as_tensor(np.asarray(X, dtype=np.float32)) if not isinstance(X, torch.Tensor) else X.float()
    if x.ndim != 2 or x.shape[1] != model.n_inputs:
        raise ConfigError("err.model.input_shape", value=tuple(x.shape), expected=model.n_inputs)
    keep = set(model.activation_positions)
    outputs: list[np.ndarray] = []
    for pos, module in enumerate(model.net):
        if isinstance(module, nn.Dropout):
            continue
        x = module(x)
        if pos in keep:
            outputs.append(x.detach().cpu().numpy().copy())
    return outputs

