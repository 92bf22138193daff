"""Frozen dataclasses for every user choice.

Each config validates itself in ``__post_init__`` and raises ``ConfigError`` with a catalogue key
and the bad value, so the UI can say in either language what is wrong and how to fix it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from enum import Enum

from mlcore.errors import ConfigError


class Task(str, Enum):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.REGRESSION


@dataclass(frozen=True)
class SplitConfig:
    """Train/validation/test fractions (test may be 0), seeded, stratified for classification."""

    val_frac: float = 0.2
    test_frac: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("val_frac", "test_frac"):
            value = getattr(self, name)
            if not 0.0 <= value < 0.9:
                raise ConfigError("err.config.frac_range", name=name, value=value)
        if self.val_frac <= 0.0:
            raise ConfigError("err.config.val_zero", value=self.val_frac)
        if self.val_frac + self.test_frac >= 0.9:
            raise ConfigError("err.config.frac_sum", total=round(self.val_frac + self.test_frac, 3))

    @property
    def train_frac(self) -> float:
        return 1.0 - self.val_frac - self.test_frac


@dataclass(frozen=True)
class BuiltinConfig:
    """A built-in dataset: ``name`` from ``mlcore.data.BUILTINS``; size/noise/classes where they apply."""

    name: str = "moons"
    n_samples: int = 500
    noise: float = 0.2
    n_classes: int = 3
    seed: int = 0


@dataclass(frozen=True)
class ColumnChoice:
    """Which columns of a table are the target and the features, and the task (None = infer)."""

    target: str
    features: tuple[str, ...] = field(default_factory=tuple)
    task: Task | None = None
    categorical: tuple[str, ...] = field(default_factory=tuple)  # forced categorical
    scale: bool = True
    impute_numeric: str = "median"  # "median" | "mean" | "drop"
    date_parts: bool = False  # date columns -> year, month, day, weekday features (else dropped)


# --------------------------------------------------------------------------------------------
# Model, optimizer and training choices (owner: model/training core).
# --------------------------------------------------------------------------------------------

ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", "identity")
INITS = ("default", "xavier", "kaiming", "zeros")
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw", "lars")
BINARY_HEADS = ("logit", "softmax")
REGRESSION_LOSSES = ("mse", "mae", "huber")

MAX_UNITS = 512
MAX_HIDDEN_LAYERS = 8
MAX_EPOCHS = 5000


def _as_int(obj, name: str, key: str, **params) -> int:
    """Return ``obj.<name>`` as a plain int (numpy ints accepted and converted), else raise."""
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(key, value=value, **params)
    value = int(value)
    object.__setattr__(obj, name, value)
    return value


def _check_range(key: str, name: str, value, low, high, *, low_open=False, high_open=False) -> None:
    """Raise ``ConfigError(key)`` unless ``low (<|<=) value (<|<=) high`` (and value is finite)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(key, name=name, value=value, low=low, high=high) from None
    ok = v == v and (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        raise ConfigError(key, name=name, value=value, low=low, high=high)


@dataclass(frozen=True)
class LayerSpec:
    """One hidden layer: how many neurons and which activation function."""

    units: int = 8
    activation: str = "relu"

    def __post_init__(self) -> None:
        if not 1 <= _as_int(self, "units", "err.model.units", high=MAX_UNITS) <= MAX_UNITS:
            raise ConfigError("err.model.units", value=self.units, high=MAX_UNITS)
        if self.activation not in ACTIVATIONS:
            raise ConfigError("err.model.activation", value=self.activation, allowed=", ".join(ACTIVATIONS))


@dataclass(frozen=True)
class ModelConfig:
    """The architecture of the MLP and its regularisation.

    ``l2`` is an explicit penalty ``l2 * sum(W**2)`` added to the loss (weights only, not biases),
    separate from the optimizer's ``weight_decay``; ``l1`` likewise with ``sum(|W|)``.
    """

    hidden: tuple[LayerSpec, ...] = (LayerSpec(8, "relu"), LayerSpec(8, "relu"))
    init: str = "default"
    dropout: float = 0.0
    l2: float = 0.0
    l1: float = 0.0
    binary_head: str = "logit"  # "logit" (1 output + BCEWithLogits) | "softmax" (2 outputs + CE)
    loss: str | None = None  # None = task default; regression may choose "mse" | "mae" | "huber"

    def __post_init__(self) -> None:
        if isinstance(self.hidden, list):  # accept lists but store a hashable tuple
            object.__setattr__(self, "hidden", tuple(self.hidden))
        if not isinstance(self.hidden, tuple) or not all(isinstance(h, LayerSpec) for h in self.hidden):
            raise ConfigError("err.model.hidden_type", value=type(self.hidden).__name__)
        if len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise ConfigError("err.model.depth", value=len(self.hidden), high=MAX_HIDDEN_LAYERS)
        if self.init not in INITS:
            raise ConfigError("err.model.init", value=self.init, allowed=", ".join(INITS))
        _check_range("err.model.dropout", "dropout", self.dropout, 0.0, 0.9)
        _check_range("err.model.penalty", "l2", self.l2, 0.0, 1.0)
        _check_range("err.model.penalty", "l1", self.l1, 0.0, 1.0)
        if self.binary_head not in BINARY_HEADS:
            raise ConfigError("err.model.binary_head", value=self.binary_head, allowed=", ".join(BINARY_HEADS))
        if self.loss is not None and self.loss not in REGRESSION_LOSSES:
            raise ConfigError("err.model.loss", value=self.loss, allowed=", ".join(REGRESSION_LOSSES))

    @property
    def depth(self) -> int:
        """Number of hidden layers."""
        return len(self.hidden)


@dataclass(frozen=True)
class OptimConfig:
    """Optimizer name and its hyperparameters (each optimizer uses only some of them, see
    ``mlcore.optim.OPTIMIZER_INFO[name].hyperparameters``)."""

    name: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    nesterov: bool = False
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    alpha: float = 0.99  # RMSprop smoothing
    trust_coef: float = 0.001  # LARS eta

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise ConfigError("err.optim.name", value=self.name, allowed=", ".join(OPTIMIZERS))
        _check_range("err.optim.lr", "lr", self.lr, 0.0, 10.0, low_open=True)
        _check_range("err.optim.range", "momentum", self.momentum, 0.0, 1.0, high_open=True)
        _check_range("err.optim.range", "beta1", self.beta1, 0.0, 1.0, high_open=True)
        _check_range("err.optim.range", "beta2", self.beta2, 0.0, 1.0, high_open=True)
        _check_range("err.optim.range", "alpha", self.alpha, 0.0, 1.0, high_open=True)
        _check_range("err.optim.range", "eps", self.eps, 0.0, 1.0, low_open=True)
        _check_range("err.optim.range", "weight_decay", self.weight_decay, 0.0, 1.0)
        _check_range("err.optim.range", "trust_coef", self.trust_coef, 0.0, 1.0, low_open=True)
        if self.nesterov and self.name == "momentum" and self.momentum <= 0.0:
            raise ConfigError("err.optim.nesterov", momentum=self.momentum)


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimizer, mini-batch size, epochs, seed and early stopping."""

    optim: OptimConfig = OptimConfig()
    batch_size: int = 32
    epochs: int = 100
    seed: int = 0
    patience: int | None = None  # early stopping on validation loss; None = off

    def __post_init__(self) -> None:
        if not isinstance(self.optim, OptimConfig):
            raise ConfigError("err.train.optim_type", value=type(self.optim).__name__)
        if _as_int(self, "batch_size", "err.train.batch_size") < 1:
            raise ConfigError("err.train.batch_size", value=self.batch_size)
        if not 1 <= _as_int(self, "epochs", "err.train.epochs", high=MAX_EPOCHS) <= MAX_EPOCHS:
            raise ConfigError("err.train.epochs", value=self.epochs, high=MAX_EPOCHS)
        if _as_int(self, "seed", "err.train.seed") < 0:
            raise ConfigError("err.train.seed", value=self.seed)
        if self.patience is not None and _as_int(self, "patience", "err.train.patience") < 1:
            raise ConfigError("err.train.patience", value=self.patience)
