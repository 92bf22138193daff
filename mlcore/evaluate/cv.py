"""k-fold cross-validation ("validación cruzada"): every fold of the training set is held out once.

:func:`cross_validate` is THE cross-validation of MLP Lab (the Tune page uses it as its
objective): the k folds (stratified for classification, ``mlcore.evaluate.folds``) are trained
together as one batched job (``mlcore.batched``), and the result gives each fold's score, their
mean ± standard deviation, and the per-epoch mean over folds of the validation curve.
:func:`cv_job` is the same work as a ``ChunkJob`` for the worker pool (progress bar, Stop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlcore.config import ModelConfig, TrainConfig
from mlcore.evaluate.folds import fold_members
from mlcore.evaluate.study import Point, PointResult, StudyJob, run_inline


@dataclass(frozen=True)
class CVResult:
    """Per-fold final validation scores (eval mode, the held-out fold) and their summary."""

    k: int
    fold_loss: np.ndarray  # (k,)
    fold_metric: np.ndarray  # (k,) accuracy or R²
    fold_train_loss: np.ndarray
    fold_train_metric: np.ndarray
    fold_rows: tuple[int, ...]  # held-out rows per fold
    statuses: tuple[str, ...]
    epoch_val_loss: np.ndarray  # (epochs,) mean over folds of val_loss per epoch (nan-mean)
    epoch_train_loss: np.ndarray
    epoch_val_std: np.ndarray

    @property
    def mean_metric(self) -> float:
        return float(np.nanmean(self.fold_metric))

    @property
    def std_metric(self) -> float:
        return float(np.nanstd(self.fold_metric))

    @property
    def mean_loss(self) -> float:
        return float(np.nanmean(self.fold_loss))

    @property
    def std_loss(self) -> float:
        return float(np.nanstd(self.fold_loss))

    @property
    def diverged_folds(self) -> list[int]:
        """1-based numbers of the folds whose training diverged."""
        return [i + 1 for i, s in enumerate(self.statuses) if s == "diverged"]


def _curve(histories: list[list], name: str) -> tuple[np.ndarray, np.ndarray]:
    longest = max((len(h) for h in histories), default=0)
    table = np.full((len(histories), longest), np.nan)
    for i, h in enumerate(histories):
        table[i, :len(h)] = [getattr(r, name) for r in h]
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(table, axis=0), np.nanstd(table, axis=0)


def summarise(result: PointResult) -> CVResult:
    scores = result.scores
    histories = [s.history for s in scores]
    val_mean, val_std = _curve(histories, "val_loss")
    train_mean, _ = _curve(histories, "train_loss")
    return CVResult(
        k=len(scores),
        fold_loss=result.values("val_loss"),
        fold_metric=result.values("val_metric"),
        fold_train_loss=result.values("train_loss"),
        fold_train_metric=result.values("train_metric"),
        fold_rows=tuple(len(s.val_pred) for s in scores),
        statuses=tuple(s.status for s in scores),
        epoch_val_loss=val_mean,
        epoch_train_loss=train_mean,
        epoch_val_std=val_std,
    )


def cv_job(arrays, model_cfg: ModelConfig, train_cfg: TrainConfig, k: int = 5, seed: int = 0,
           meta: dict | None = None) -> StudyJob:
    """The k folds of ``arrays``' training rows as ONE point of batched members."""
    members = fold_members(arrays, model_cfg, train_cfg, k, seed)
    return StudyJob("cv", [Point(int(k), tuple(members))], {"k": int(k), **(meta or {})})


def cv_result(job: StudyJob) -> CVResult | None:
    """The summary of a finished :func:`cv_job` (None while it runs or after a Stop)."""
    return summarise(job.results[0]) if job.results else None


def cross_validate(arrays, model_cfg: ModelConfig, train_cfg: TrainConfig, k: int = 5, seed: int = 0
                   ) -> CVResult:
    """k-fold cross-validation of one configuration on ``arrays``' training rows (stratified for
    classification; ``seed`` shuffles the folds). Raises ``ConfigError`` for an impossible k."""
    return cv_result(run_inline(cv_job(arrays, model_cfg, train_cfg, k, seed)))
