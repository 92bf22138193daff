"""Prototypes and criticisms (Kim et al. 2016): what the network thinks each class looks like.

Rows are compared in the network's own representation, the output of the last hidden layer.
For each class (for regression: each third of the target's range), the prototypes are ``k``
medoids of that class's training rows, chosen greedily (the BUILD step of k-medoids, Kaufman &
Rousseeuw): each new one lowers most the total distance from the class's rows to their nearest
prototype. Criticisms are the rows of the class farthest from every prototype: the cases the
prototypes represent worst. scikit-learn has no k-medoids (it lives in scikit-learn-extra), and
the greedy step is a few lines of numpy on pairwise distances.

Prototypes and criticisms are training examples, so :func:`training_rows` shows them as the rows
the student gave (``PreparedData.raw_train``, in the same order as ``X_train``), not rebuilt from
the standardised matrix: the inverse transform of float32 values reads 10307,21 as 10307.2094.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ClassPrototypes", "prototypes", "regression_groups", "training_rows"]

MAX_ROWS_PER_CLASS = 400


@dataclass
class ClassPrototypes:
    cls: int  # class index (or target third for regression)
    prototype_rows: np.ndarray  # indices into the rows given
    criticism_rows: np.ndarray
    prototype_cover: np.ndarray  # share of the class's rows nearest to each prototype
    criticism_distance: np.ndarray  # distance to the nearest prototype (in units of the median)


def regression_groups(y: np.ndarray) -> np.ndarray:
    """0, 1, 2 for the low, middle and high third of ``y``."""
    q = np.quantile(y, [1 / 3, 2 / 3])
    return np.digitize(y, q).astype(np.int64)


def _greedy_medoids(D: np.ndarray, k: int) -> list[int]:
    chosen: list[int] = []
    nearest = np.full(len(D), np.inf)
    for _ in range(min(k, len(D))):
        totals = np.minimum(nearest[None, :], D).sum(axis=1)
        totals[chosen] = np.inf
        best = int(np.argmin(totals))
        chosen.append(best)
        nearest = np.minimum(nearest, D[best])
    return chosen


def prototypes(hidden: np.ndarray, labels: np.ndarray, k: int = 3, n_criticisms: int = 2,
               seed: int = 0) -> list[ClassPrototypes]:
    """Per class in ``labels``: ``k`` prototypes and ``n_criticisms`` criticisms (row indices)."""
    hidden = np.asarray(hidden, dtype=np.float64)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    out: list[ClassPrototypes] = []
    for cls in np.unique(labels):
        rows = np.flatnonzero(labels == cls)
        if len(rows) > MAX_ROWS_PER_CLASS:
            rows = np.sort(rng.choice(rows, MAX_ROWS_PER_CLASS, replace=False))
        H = hidden[rows]
        sq = (H * H).sum(axis=1)
        D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * H @ H.T, 0.0))
        medoids = _greedy_medoids(D, k)
        dist = D[medoids]  # (k, n)
        nearest = dist.min(axis=0)
        owner = dist.argmin(axis=0)
        cover = np.bincount(owner, minlength=len(medoids)) / len(rows)
        scale = float(np.median(nearest[nearest > 0])) if np.any(nearest > 0) else 1.0
        order = [i for i in np.argsort(-nearest) if i not in medoids][:n_criticisms]
        out.append(ClassPrototypes(int(cls), rows[medoids], rows[np.asarray(order, dtype=int)], cover,
                                   nearest[np.asarray(order, dtype=int)] / scale))
    return out


def training_rows(data, layout, rows) -> pd.DataFrame:
    """Training rows ``rows`` (indices into ``data.X_train``) as the original table has them, one
    column per raw feature; rebuilt from the model's inputs only when the raw rows are not kept."""
    rows = np.asarray(rows, dtype=np.int64)
    raw = getattr(data, "raw_train", None)
    names = layout.names
    if raw is not None and len(raw) == len(data.X_train) and all(n in raw.columns for n in names):
        return raw.iloc[rows][names].reset_index(drop=True)
    return layout.to_original(data.X_train[rows])
