"""The search space: which hyperparameters a study varies, and their ranges.

Every hyperparameter is either *on* (the sampler chooses it within its range) or *off* (``None``:
the session's current Build and Train value is used). Ranges are validated here, with the same
kind of typed errors as :mod:`mlcore.config`, and every sampled configuration goes through
``ModelConfig``/``TrainConfig`` validation, so a trial never trains an invalid network.

One ``units`` value is shared by every hidden layer: a space whose parameters depend on the number
of layers (``units_0 .. units_k``) is *dynamic*, and CMA-ES, QMC, GP and Grid then fall back to
random sampling for the conditional parameters. A fixed space keeps the samplers comparable.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from mlcore.config import ACTIVATIONS, MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_UNITS, OPTIMIZERS, LayerSpec, ModelConfig, TrainConfig
from mlcore.errors import ConfigError

BATCH_SIZES = (8, 16, 32, 64, 128, 256)
PARAMS = ("lr", "n_layers", "units", "activation", "optimizer", "batch_size", "weight_decay", "dropout", "epochs")
CATEGORICAL = ("activation", "optimizer", "batch_size")


@dataclass(frozen=True)
class SearchSpace:
    """``None`` = off (the session's value). Numeric ranges are ``(low, high)``; lists are choices.

    ``lr`` and ``weight_decay`` are searched on a log scale (their useful values span decades).
    """

    lr: tuple[float, float] | None = (1e-4, 1e-1)
    n_layers: tuple[int, int] | None = (1, 3)
    units: tuple[int, int] | None = (4, 64)
    activation: tuple[str, ...] | None = None
    optimizer: tuple[str, ...] | None = None
    batch_size: tuple[int, ...] | None = None
    weight_decay: tuple[float, float] | None = None
    dropout: tuple[float, float] | None = None
    epochs: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        self._range("lr", 1e-6, 10.0, log=True)
        self._range("n_layers", 0, MAX_HIDDEN_LAYERS, integer=True)
        self._range("units", 1, MAX_UNITS, integer=True)
        self._range("weight_decay", 1e-8, 1.0, log=True)
        self._range("dropout", 0.0, 0.9)
        self._range("epochs", 1, MAX_EPOCHS, integer=True)
        self._choices("activation", ACTIVATIONS)
        self._choices("optimizer", OPTIMIZERS)
        self._choices("batch_size", BATCH_SIZES)

    def _range(self, name, low, high, log=False, integer=False) -> None:
        value = getattr(self, name)
        if value is None:
            return
        try:
            a, b = (float(v) for v in value)
        except (TypeError, ValueError):
            raise ConfigError("err.tune.range", name=name, low=low, high=high, value=value) from None
        if not (low <= a <= b <= high) or (log and a <= 0) or not (math.isfinite(a) and math.isfinite(b)):
            raise ConfigError("err.tune.range", name=name, low=low, high=high, value=value)
        object.__setattr__(self, name, (int(a), int(b)) if integer else (a, b))

    def _choices(self, name, allowed) -> None:
        value = getattr(self, name)
        if value is None:
            return
        if len(value) == 0 or any(v not in allowed for v in value):
            raise ConfigError("err.tune.choices", name=name, allowed=", ".join(map(str, allowed)))
        object.__setattr__(self, name, tuple(dict.fromkeys(int(v) if name == "batch_size" else v for v in value)))

    # ---- queries -------------------------------------------------------------------------
    def active(self) -> tuple[str, ...]:
        """Names of the hyperparameters that are on, in ``PARAMS`` order."""
        return tuple(name for name in PARAMS if getattr(self, name) is not None)

    def has_categorical(self) -> bool:
        return any(getattr(self, name) is not None and len(getattr(self, name)) > 1 for name in CATEGORICAL)

    def max_epochs(self, base: TrainConfig) -> int:
        return int(self.epochs[1]) if self.epochs is not None else int(base.epochs)

    def to_dict(self) -> dict:
        return {k: (list(v) if v is not None else None) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> SearchSpace:
        return cls(**{k: (tuple(v) if v is not None else None) for k, v in data.items() if k in PARAMS})

    def grid(self, points: int = 3) -> dict[str, list]:
        """A discretised version for ``GridSampler``: ``points`` values per numeric range (log
        spaced for ``lr``/``weight_decay``, rounded and deduplicated for integers), all choices."""
        out: dict[str, list] = {}
        for name in self.active():
            value = getattr(self, name)
            if name in CATEGORICAL:
                out[name] = list(value)
            elif name in ("lr", "weight_decay"):
                out[name] = [float(v) for v in np.clip(np.geomspace(value[0], value[1], points), value[0], value[1])]
            elif name == "dropout":
                out[name] = [float(v) for v in np.linspace(value[0], value[1], points)]
            else:
                out[name] = sorted({int(round(v)) for v in np.linspace(value[0], value[1], points)})
        return out

    def grid_size(self, points: int = 3) -> int:
        return int(np.prod([len(v) for v in self.grid(points).values()])) if self.active() else 1


def suggest(trial, space: SearchSpace, model_cfg: ModelConfig, train_cfg: TrainConfig) -> tuple[ModelConfig, TrainConfig]:
    """The trial's configuration: sampled values for what is on, ``model_cfg``/``train_cfg`` for
    the rest. Early stopping is switched off in trials: the number of epochs is part of the
    search, and every trial reports every epoch to the pruner."""
    s = space
    lr = trial.suggest_float("lr", *s.lr, log=True) if s.lr else train_cfg.optim.lr
    depth = trial.suggest_int("n_layers", *s.n_layers) if s.n_layers else model_cfg.depth
    units = trial.suggest_int("units", *s.units) if s.units else None
    activation = trial.suggest_categorical("activation", list(s.activation)) if s.activation else None
    optimizer = trial.suggest_categorical("optimizer", list(s.optimizer)) if s.optimizer else train_cfg.optim.name
    batch = trial.suggest_categorical("batch_size", list(s.batch_size)) if s.batch_size else train_cfg.batch_size
    wd = trial.suggest_float("weight_decay", *s.weight_decay, log=True) if s.weight_decay else train_cfg.optim.weight_decay
    dropout = trial.suggest_float("dropout", *s.dropout) if s.dropout else model_cfg.dropout
    epochs = trial.suggest_int("epochs", *s.epochs) if s.epochs else train_cfg.epochs
    return configs_for(model_cfg, train_cfg, depth=depth, units=units, activation=activation, lr=lr,
                       optimizer=optimizer, batch_size=batch, weight_decay=wd, dropout=dropout, epochs=epochs)


def configs_for(model_cfg: ModelConfig, train_cfg: TrainConfig, *, depth: int, units: int | None,
                activation: str | None, lr: float, optimizer: str, batch_size: int, weight_decay: float,
                dropout: float, epochs: int) -> tuple[ModelConfig, TrainConfig]:
    """Validated configs from the session's ones and the chosen values (layers beyond the current
    depth copy the last layer; ``units``/``activation`` None keep each layer's own)."""
    base = list(model_cfg.hidden) or [LayerSpec()]
    layers = []
    for i in range(int(depth)):
        layer = base[min(i, len(base) - 1)]
        layers.append(LayerSpec(int(units) if units is not None else layer.units, activation or layer.activation))
    mcfg = replace(model_cfg, hidden=tuple(layers), dropout=float(dropout))
    optim = replace(train_cfg.optim, name=optimizer, lr=float(lr), weight_decay=float(weight_decay))
    tcfg = replace(train_cfg, optim=optim, batch_size=int(batch_size), epochs=int(epochs), patience=None)
    return mcfg, tcfg


def configs_from_params(params: dict, space: SearchSpace, model_cfg: ModelConfig, train_cfg: TrainConfig
                        ) -> tuple[ModelConfig, TrainConfig]:
    """The configuration of a finished trial (``trial.params``), e.g. to retrain the best one."""
    from optuna.trial import FixedTrial

    return suggest(FixedTrial(params), space, model_cfg, train_cfg)
