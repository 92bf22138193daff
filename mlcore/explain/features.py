"""How the model's input columns map back to the user's features (original units, one-hot groups).

``FeatureLayout`` reads a :class:`mlcore.dataset.PreparedData`: for each raw feature, which model
columns hold it, the standard scaler's mean and scale (``original = model * scale + mean``), the
one-hot categories of categorical features, whether the values are whole numbers, and the range
seen in training. Explanations use it to group one-hot columns, to show values in the user's units
and to keep counterfactual rows valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["RawFeature", "FeatureLayout", "feature_layout"]


@dataclass(frozen=True)
class RawFeature:
    """One user feature: ``columns`` are its indices among the model's inputs."""

    name: str
    kind: str  # "numeric" | "categorical"
    columns: tuple[int, ...]
    mean: float = 0.0  # numeric: original = model * scale + mean
    scale: float = 1.0
    integer: bool = False  # numeric values are all whole numbers in training
    low: float = 0.0  # training range in original units (numeric)
    high: float = 0.0
    categories: tuple[str, ...] = field(default_factory=tuple)  # categorical: label of each column

    @property
    def is_categorical(self) -> bool:
        return self.kind == "categorical"


@dataclass(frozen=True)
class FeatureLayout:
    features: tuple[RawFeature, ...]
    n_columns: int
    column_names: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def has_groups(self) -> bool:
        return any(f.is_categorical for f in self.features)

    def groups(self) -> list[tuple[str, tuple[int, ...]]]:
        return [(f.name, f.columns) for f in self.features]

    def by_name(self, name: str) -> RawFeature:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    # -- model space <-> original units ------------------------------------------------------
    def to_original(self, X: np.ndarray) -> pd.DataFrame:
        """Rows of model inputs as a table of raw values (numbers in original units, category labels)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        out: dict[str, list] = {}
        for f in self.features:
            if f.is_categorical:
                block = X[:, list(f.columns)]
                out[f.name] = [f.categories[int(i)] for i in block.argmax(axis=1)]
            else:
                values = X[:, f.columns[0]] * f.scale + f.mean
                out[f.name] = np.round(values) if f.integer else values
        return pd.DataFrame(out)

    def numeric_to_model(self, f: RawFeature, value: float) -> float:
        return (float(value) - f.mean) / f.scale

    def column_features(self) -> list[str]:
        """For each model column, the name of the raw feature it belongs to."""
        owner = [""] * self.n_columns
        for f in self.features:
            for c in f.columns:
                owner[c] = f.name
        return owner

    def group_values(self, values: np.ndarray) -> np.ndarray:
        """Sum per-column values (..., n_columns) within each raw feature -> (..., n_features)."""
        values = np.asarray(values)
        return np.stack([values[..., list(f.columns)].sum(axis=-1) for f in self.features], axis=-1)


def _is_integer(values: np.ndarray) -> bool:
    values = values[np.isfinite(values)]
    return bool(len(values)) and bool(np.all(values == np.round(values)))


def feature_layout(data) -> FeatureLayout:
    """The layout of ``data`` (a :class:`mlcore.dataset.PreparedData`)."""
    names = list(data.feature_names)
    raw = data.raw_train
    pre = data.preprocessor
    feats: list[RawFeature] = []
    if pre is None:
        for i, name in enumerate(names):
            col = np.asarray(raw[name], dtype=np.float64) if name in raw else data.X_train[:, i].astype(np.float64)
            feats.append(RawFeature(name, "numeric", (i,), integer=_is_integer(col),
                                    low=float(np.nanmin(col)), high=float(np.nanmax(col))))
        return FeatureLayout(tuple(feats), len(names), tuple(names))

    transformers = {name: (trans, cols) for name, trans, cols in pre.transformers_ if name in ("num", "cat")}
    index = {n: i for i, n in enumerate(names)}
    by_raw: dict[str, RawFeature] = {}
    if "num" in transformers:
        trans, cols = transformers["num"]
        scaler = trans.named_steps.get("scale") if hasattr(trans, "named_steps") else None
        for j, col in enumerate(cols):
            values = np.asarray(pd.to_numeric(raw[col], errors="coerce"), dtype=np.float64)
            mean = float(scaler.mean_[j]) if scaler is not None and scaler.with_mean else 0.0
            scale = float(scaler.scale_[j]) if scaler is not None and scaler.with_std else 1.0
            by_raw[col] = RawFeature(col, "numeric", (index[col],), mean=mean, scale=scale or 1.0,
                                     integer=_is_integer(values), low=float(np.nanmin(values)),
                                     high=float(np.nanmax(values)))
    if "cat" in transformers:
        trans, cols = transformers["cat"]
        encoder = trans.named_steps["onehot"]
        out_names = list(trans.get_feature_names_out(cols))
        pos = 0
        infrequent = getattr(encoder, "infrequent_categories_", [None] * len(cols))
        for col, cats, rare in zip(cols, encoder.categories_, infrequent):
            width = len(cats) - (len(rare) - 1 if rare is not None else 0)
            block = out_names[pos:pos + width]
            pos += width
            labels = tuple(n[len(str(col)) + 1:] if n.startswith(f"{col}_") else n for n in block)
            by_raw[col] = RawFeature(col, "categorical", tuple(index[n] for n in block), categories=labels)
    feats = [by_raw[c] for c in data.raw_feature_names if c in by_raw]
    feats.sort(key=lambda f: f.columns[0])
    return FeatureLayout(tuple(feats), len(names), tuple(names))
