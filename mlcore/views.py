"""Grids over the input space for the live views (decision boundary, neuron maps, 1-D fit).

The grid is laid out in the RAW input units the student sees (x1, x2 or x), then passed through
the dataset's fitted preprocessing so the model receives what it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.dataset import PreparedData
from mlcore.jobs import ViewSpec


@dataclass(frozen=True)
class InputGrid:
    axes: tuple[np.ndarray, ...]  # 1 or 2 arrays of raw coordinates
    X: np.ndarray  # preprocessed points, row-major over the axes (x2 slowest)
    hidden_axes: tuple[np.ndarray, ...] = ()
    hidden_X: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in reversed(self.axes))

    def view_spec(self) -> ViewSpec:
        return ViewSpec(grid=self.X, hidden_grid=self.hidden_X)


def _axis(values: np.ndarray, n: int, pad: float = 0.15) -> np.ndarray:
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    span = hi - lo or 1.0
    return np.linspace(lo - pad * span, hi + pad * span, n)


def _points(data: PreparedData, axes: tuple[np.ndarray, ...]) -> np.ndarray:
    names = data.raw_feature_names
    if len(axes) == 1:
        frame = pd.DataFrame({names[0]: axes[0]})
    else:
        g1, g2 = np.meshgrid(axes[0], axes[1])
        frame = pd.DataFrame({names[0]: g1.ravel(), names[1]: g2.ravel()})
    return data.transform(frame)


def input_grid(data: PreparedData, resolution: int = 80, hidden_resolution: int = 28) -> InputGrid | None:
    """A grid for 2-D or 1-D numeric inputs; None when the input has more dimensions."""
    if not (data.is_2d or data.is_1d):
        return None
    raw = pd.concat([data.raw_train, data.raw_val, data.raw_test])
    columns = [np.asarray(raw[name], dtype=float) for name in data.raw_feature_names]
    n = resolution if data.is_2d else resolution * 4
    axes = tuple(_axis(c, n) for c in columns)
    hn = hidden_resolution if data.is_2d else hidden_resolution * 4
    hidden_axes = tuple(_axis(c, hn) for c in columns)
    return InputGrid(axes=axes, X=_points(data, axes), hidden_axes=hidden_axes,
                     hidden_X=_points(data, hidden_axes))
