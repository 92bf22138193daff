"""Validation metrics with scikit-learn, as small typed reports the pages and plots render.

Predictions come from ``mlcore.train.predict``: class probabilities of shape (n, k) for
classification (a single column or a 1-D array is read as P(class 1) for a binary logit head),
values of shape (n,) for regression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import metrics

from mlcore.config import Task


@dataclass(frozen=True)
class ClassMetrics:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassificationReport:
    accuracy: float
    per_class: tuple[ClassMetrics, ...]
    confusion: np.ndarray  # rows = true class, columns = predicted class
    labels: tuple[str, ...]


@dataclass(frozen=True)
class RegressionReport:
    r2: float
    mae: float
    rmse: float
    y_true: np.ndarray
    y_pred: np.ndarray


def predicted_classes(pred: np.ndarray) -> np.ndarray:
    """Class ids from probabilities (n, k), or from P(class 1) given as (n,) or (n, 1)."""
    pred = np.asarray(pred)
    if pred.ndim == 1 or pred.shape[1] == 1:
        return (pred.reshape(-1) >= 0.5).astype(np.int64)
    return pred.argmax(axis=1).astype(np.int64)


def classification_report(y_true: np.ndarray, pred: np.ndarray, class_names: list[str] | None = None
                          ) -> ClassificationReport:
    y_true = np.asarray(y_true).astype(np.int64)
    y_hat = predicted_classes(pred)
    n_classes = max(int(y_true.max(initial=0)), int(y_hat.max(initial=0))) + 1
    if class_names:
        n_classes = max(n_classes, len(class_names))
    ids = list(range(n_classes))
    labels = tuple(class_names[:n_classes]) if class_names and len(class_names) >= n_classes else tuple(
        str(i) for i in ids)
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_hat, labels=ids, zero_division=0)
    per_class = tuple(ClassMetrics(labels[i], float(precision[i]), float(recall[i]), float(f1[i]),
                                   int(support[i])) for i in ids)
    return ClassificationReport(
        accuracy=float(metrics.accuracy_score(y_true, y_hat)),
        per_class=per_class,
        confusion=metrics.confusion_matrix(y_true, y_hat, labels=ids),
        labels=labels,
    )


def regression_report(y_true: np.ndarray, pred: np.ndarray) -> RegressionReport:
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    return RegressionReport(
        r2=float(metrics.r2_score(y_true, y_pred)),
        mae=float(metrics.mean_absolute_error(y_true, y_pred)),
        rmse=float(np.sqrt(metrics.mean_squared_error(y_true, y_pred))),
        y_true=y_true,
        y_pred=y_pred,
    )


def evaluate(task: Task, y_true: np.ndarray, pred: np.ndarray, class_names: list[str] | None = None
             ) -> ClassificationReport | RegressionReport:
    if task is Task.REGRESSION:
        return regression_report(y_true, pred)
    return classification_report(y_true, pred, class_names)
