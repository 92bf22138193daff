"""ROC and precision-recall curves with their areas (scikit-learn), one-vs-rest for multiclass,
and the residuals of a regression, as small records the plots draw and the tests check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import metrics


@dataclass(frozen=True)
class Curve:
    label: str  # the positive class
    x: np.ndarray  # ROC: false positive rate; PR: recall
    y: np.ndarray  # ROC: true positive rate; PR: precision
    auc: float  # ROC AUC, or average precision for PR
    prevalence: float  # share of positives (the PR chance level)


def _probabilities(pred: np.ndarray) -> np.ndarray:
    pred = np.asarray(pred, dtype=float)
    if pred.ndim == 1 or pred.shape[1] == 1:
        p = pred.reshape(-1)
        return np.stack([1 - p, p], axis=1)
    return pred


def _positives(y_true, pred, labels):
    """(label, is_positive, score) per curve: class 1 only for binary, every class otherwise."""
    y_true = np.asarray(y_true).astype(np.int64)
    prob = _probabilities(pred)
    k = prob.shape[1]
    names = list(labels) if labels and len(labels) >= k else [str(i) for i in range(k)]
    classes = [1] if k == 2 else list(range(k))
    return [(names[c], y_true == c, prob[:, c]) for c in classes]


def roc_curves(y_true, pred, labels=None) -> list[Curve]:
    out = []
    for name, pos, score in _positives(y_true, pred, labels):
        if pos.all() or not pos.any():
            continue  # one class only in y_true: no curve
        fpr, tpr, _ = metrics.roc_curve(pos, score)
        out.append(Curve(name, fpr, tpr, float(metrics.roc_auc_score(pos, score)), float(pos.mean())))
    return out


def pr_curves(y_true, pred, labels=None) -> list[Curve]:
    out = []
    for name, pos, score in _positives(y_true, pred, labels):
        if not pos.any():
            continue
        precision, recall, _ = metrics.precision_recall_curve(pos, score)
        out.append(Curve(name, recall, precision, float(metrics.average_precision_score(pos, score)),
                         float(pos.mean())))
    return out


@dataclass(frozen=True)
class Residuals:
    y_true: np.ndarray
    y_pred: np.ndarray
    residual: np.ndarray  # y_true - y_pred


def residuals(y_true, pred) -> Residuals:
    y_true = np.asarray(y_true, dtype=float).reshape(-1)
    y_pred = np.asarray(pred, dtype=float).reshape(-1)
    return Residuals(y_true, y_pred, y_true - y_pred)
