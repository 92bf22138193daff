"""Where explanations disagree: feature rankings from five techniques and their rank correlations.

The techniques (each gives one importance per raw feature, one-hot columns summed in groups):

- SHAP: mean |SHAP value| over the explained rows (``mlcore.explain.shap_values``);
- permutation importance: scikit-learn's ``permutation_importance`` on the validation rows, the
  drop in accuracy (or R²) against the true labels when one column is shuffled;
- gradient × input and integrated gradients (captum), mean |attribution| from the training mean;
- the rule surrogate's impurity-based importances (``mlcore.explain.surrogate``).

The Spearman rank correlation (``scipy.stats.spearmanr``) between each pair says whether two
techniques order the features alike (1), unrelatedly (0) or oppositely (-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["METHODS", "Rankings", "permutation_scores", "rank_correlations", "weakest_pair", "mean_abs"]

METHODS = ("shap", "permutation", "grad_input", "integrated", "surrogate")


@dataclass
class Rankings:
    features: list[str]
    scores: dict[str, np.ndarray]  # method -> importance per feature (>= 0 except permutation)
    corr: np.ndarray  # (m, m) Spearman, methods in ``methods`` order
    methods: list[str]

    def order(self, method: str) -> list[str]:
        s = self.scores[method]
        return [self.features[i] for i in np.argsort(-s, kind="stable")]


class _Predictor:
    """What ``permutation_importance`` needs from an estimator: ``predict``."""

    def __init__(self, model, task, n_outputs):
        self.model, self.task, self.n_outputs = model, task, n_outputs

    def fit(self, X, y):  # pragma: no cover - never refitted
        return self

    def predict(self, X):
        from mlcore.train import predict

        out = predict(self.model, np.asarray(X, dtype=np.float32), self.task)
        return out if out.ndim == 1 else out.argmax(axis=1)


def permutation_scores(model, task, n_outputs, X_val, y_val, layout, n_repeats: int = 5, seed: int = 0):
    """scikit-learn permutation importance per model column, summed within each raw feature."""
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import accuracy_score, r2_score

    from mlcore.config import Task

    metric = r2_score if Task(task) is Task.REGRESSION else accuracy_score

    def scorer(est, X, y):
        return metric(y, est.predict(X))

    res = permutation_importance(_Predictor(model, task, n_outputs), np.asarray(X_val, dtype=np.float32),
                                 np.asarray(y_val), scoring=scorer, n_repeats=n_repeats, random_state=seed)
    return layout.group_values(res.importances_mean)


def mean_abs(values: np.ndarray, layout) -> np.ndarray:
    """Mean over rows of |value| after grouping columns (n, d) -> (n_features,)."""
    return np.abs(layout.group_values(np.asarray(values))).mean(axis=0)


def rank_correlations(scores: dict[str, np.ndarray], methods=METHODS) -> np.ndarray:
    from scipy.stats import spearmanr

    methods = [m for m in methods if m in scores]
    k = len(methods)
    corr = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            a, b = scores[methods[i]], scores[methods[j]]
            if np.ptp(a) == 0 or np.ptp(b) == 0 or len(a) < 2:
                r = np.nan
            else:
                r = float(spearmanr(a, b).statistic)
            corr[i, j] = corr[j, i] = r
    return corr


def weakest_pair(rankings: Rankings) -> tuple[str, str, float] | None:
    corr = rankings.corr
    best = None
    for i in range(len(rankings.methods)):
        for j in range(i + 1, len(rankings.methods)):
            if np.isfinite(corr[i, j]) and (best is None or corr[i, j] < best[2]):
                best = (rankings.methods[i], rankings.methods[j], float(corr[i, j]))
    return best
