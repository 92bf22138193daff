"""``PreparedData``: the dataset every later page uses, already split and preprocessed.

This is the contract between the data layer (``mlcore.data``) and the model, training,
evaluation and course modules. Arrays are ready for torch: features ``float32``; targets
``int64`` class indices for classification, ``float32`` of shape (n,) for regression.
The fitted scikit-learn preprocessor was fitted on the training split only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcore.config import Task


@dataclass
class ColumnReport:
    """What preprocessing did to one column (shown on the Data page)."""

    name: str
    kind: str  # "numeric" | "categorical" | "date" | "constant" | "id" | "target"
    missing: int
    action: str  # catalogue key describing the action, e.g. "data.action.impute_median"
    used: bool
    onehot_width: int = 0
    scaled: bool = False
    note_key: str | None = None
    note_params: dict[str, Any] = field(default_factory=dict)
    more_notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # further (key, params) notes


@dataclass
class PreparedData:
    name: str
    task: Task
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]  # after preprocessing (one-hot expanded)
    raw_feature_names: list[str]  # columns the user chose
    class_names: list[str] | None  # labels for display, index = class id
    raw_train: pd.DataFrame  # raw feature values of each split (for plots in input units)
    raw_val: pd.DataFrame
    raw_test: pd.DataFrame
    preprocessor: Any  # fitted sklearn ColumnTransformer (or None for already-numeric toys)
    target_name: str = "y"
    image_shape: tuple[int, int] | None = None  # (8, 8) for digits
    columns: list[ColumnReport] = field(default_factory=list)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (key, params) notices
    source: dict[str, Any] = field(default_factory=dict)  # how to rebuild it (for share links)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes (1 for regression)."""
        if self.task is Task.REGRESSION:
            return 1
        return len(self.class_names) if self.class_names else int(self.y_train.max()) + 1

    @property
    def is_2d(self) -> bool:
        """True when the raw input is two numeric columns (decision boundaries can be drawn)."""
        return len(self.raw_feature_names) == 2 and self.n_features == 2

    @property
    def is_1d(self) -> bool:
        return len(self.raw_feature_names) == 1 and self.n_features == 1

    @property
    def n_rows(self) -> int:
        return len(self.y_train) + len(self.y_val) + len(self.y_test)

    def transform(self, raw: pd.DataFrame) -> np.ndarray:
        """Apply the fitted preprocessing to raw rows (for grids over the input plane)."""
        if self.preprocessor is None:
            return np.asarray(raw[self.raw_feature_names], dtype=np.float32)
        return np.asarray(self.preprocessor.transform(raw[self.raw_feature_names]), dtype=np.float32)
