"""Frozen dataclasses for every user choice.

Each config validates itself in ``__post_init__`` and raises ``ConfigError`` with a catalogue key
and the bad value, so the UI can say in either language what is wrong and how to fix it.
"""

from __future__ import annotations

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
