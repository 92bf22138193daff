"""Small typed records that describe a ``PreparedData`` for the Data page's figures.

Tests assert on these records; ``mlcore.plots.data`` draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlcore.config import Task
from mlcore.dataset import PreparedData

SPLITS = ("train", "val", "test")


def _split_arrays(data: PreparedData, what: str) -> dict[str, np.ndarray]:
    return {s: getattr(data, f"{what}_{s}") for s in SPLITS}


def _raw_frames(data: PreparedData):
    return (data.raw_train, data.raw_val, data.raw_test)


def split_counts(data: PreparedData) -> dict[str, int]:
    return {s: int(len(y)) for s, y in _split_arrays(data, "y").items()}


@dataclass(frozen=True)
class ClassBalance:
    class_names: list[str]
    counts: dict[str, list[int]]  # split -> rows per class (index = class id)

    def proportions(self, split: str) -> list[float]:
        total = sum(self.counts[split])
        return [c / total if total else 0.0 for c in self.counts[split]]


def class_balance(data: PreparedData) -> ClassBalance:
    """Rows per class in each split (classification only)."""
    if data.task is Task.REGRESSION:
        raise ValueError("class_balance needs a classification dataset")
    k = data.n_classes
    names = list(data.class_names) if data.class_names else [str(i) for i in range(k)]
    counts = {s: np.bincount(y.astype(np.int64), minlength=k).tolist()
              for s, y in _split_arrays(data, "y").items()}
    return ClassBalance(names, counts)


@dataclass(frozen=True)
class TargetHistogram:
    edges: np.ndarray  # bins + 1 edges shared by every split
    counts: dict[str, np.ndarray]  # split -> rows per bin


def target_histogram(data: PreparedData, bins: int = 30) -> TargetHistogram:
    """Histogram of a regression target with the same bins for every split."""
    ys = _split_arrays(data, "y")
    values = np.concatenate([np.asarray(y, dtype=np.float64) for y in ys.values()])
    edges = np.histogram_bin_edges(values, bins=bins)
    return TargetHistogram(edges, {s: np.histogram(np.asarray(y, dtype=np.float64), bins=edges)[0]
                                   for s, y in ys.items()})


@dataclass(frozen=True)
class View2D:
    """Points to draw in the plane: ``method`` is "raw" (the two input columns), "xy" (one input
    against the target) or "pca" (first two principal components of the preprocessed inputs,
    fitted on the training split)."""

    method: str
    x: np.ndarray
    y: np.ndarray
    color: np.ndarray  # class ids (classification) or target values (regression)
    split: np.ndarray  # "train" | "val" | "test" per point
    x_label: str
    y_label: str
    class_names: list[str] | None
    explained: tuple[float, float] | None = None  # PCA explained variance ratios


def view_2d(data: PreparedData, max_points: int = 3000, seed: int = 0) -> View2D:
    splits = np.concatenate([np.full(len(y), s) for s, y in _split_arrays(data, "y").items()])
    target = np.concatenate(list(_split_arrays(data, "y").values()))
    explained = None
    if data.is_2d:
        method = "raw"
        raw = np.concatenate([f.to_numpy(dtype=np.float64) for f in _raw_frames(data)])
        x, y = raw[:, 0], raw[:, 1]
        x_label, y_label = data.raw_feature_names
    elif data.n_features == 1:
        method = "xy"
        if data.is_1d:
            x = np.concatenate([f.to_numpy(dtype=np.float64)[:, 0] for f in _raw_frames(data)])
            x_label = data.raw_feature_names[0]
        else:
            x = np.concatenate([X[:, 0] for X in _split_arrays(data, "X").values()]).astype(np.float64)
            x_label = data.feature_names[0]
        y, y_label = target.astype(np.float64), data.target_name
    else:
        from sklearn.decomposition import PCA

        method = "pca"
        pca = PCA(n_components=2, random_state=0).fit(data.X_train)
        pts = np.concatenate([pca.transform(X) if len(X) else np.zeros((0, 2))
                              for X in _split_arrays(data, "X").values()])
        x, y = pts[:, 0], pts[:, 1]
        explained = (float(pca.explained_variance_ratio_[0]), float(pca.explained_variance_ratio_[1]))
        x_label, y_label = "PC1", "PC2"
    if len(x) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(x), size=max_points, replace=False))
        x, y, target, splits = x[keep], y[keep], target[keep], splits[keep]
    return View2D(method, x, y, target, splits, x_label, y_label,
                  list(data.class_names) if data.class_names else None, explained)


def image_samples(data: PreparedData, n: int = 40) -> tuple[np.ndarray, list[str]]:
    """The first ``n`` training images (raw pixel values) and their labels, for image datasets."""
    if data.image_shape is None:
        raise ValueError("image_samples needs a dataset with image_shape")
    h, w = data.image_shape
    pixels = data.raw_train.to_numpy(dtype=np.float64)[:n]
    labels = [data.class_names[int(c)] if data.class_names else str(c) for c in data.y_train[:n]]
    return pixels.reshape(len(pixels), h, w), labels
