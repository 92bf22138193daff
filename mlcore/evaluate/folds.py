"""k-fold splits of the training set (stratified for classification) as batched-training members.

The folds come from scikit-learn (``StratifiedKFold`` / ``KFold``, shuffled with the given seed);
each fold becomes one :class:`mlcore.batched.Member` whose training rows are the other k-1 folds
and whose validation rows are the held-out fold. ``k == 1`` means the plain holdout split: one
member with the dataset's own validation set.
"""

from __future__ import annotations

import numpy as np

from mlcore.batched import Member
from mlcore.config import ModelConfig, Task, TrainConfig
from mlcore.errors import ConfigError

MIN_K, MAX_K = 2, 10


def kfold_indices(y: np.ndarray, k: int, task: Task | str, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train_rows, val_rows) pairs that partition ``range(len(y))``; stratified for
    classification. Raises ``ConfigError`` when k is out of range or a class has fewer than k rows."""
    from sklearn.model_selection import KFold, StratifiedKFold

    task = Task(task)
    if not MIN_K <= int(k) <= MAX_K:
        raise ConfigError("err.eval.k_range", value=k, low=MIN_K, high=MAX_K)
    y = np.asarray(y)
    if len(y) < 2 * k:
        raise ConfigError("err.eval.k_rows", k=k, rows=len(y))
    if task.is_classification:
        counts = np.bincount(y.astype(np.int64))
        smallest = int(counts[counts > 0].min())
        if smallest < k:
            raise ConfigError("err.eval.k_class", k=k, smallest=smallest)
        splitter = StratifiedKFold(n_splits=int(k), shuffle=True, random_state=int(seed))
        return [(tr, va) for tr, va in splitter.split(np.zeros(len(y)), y)]
    splitter = KFold(n_splits=int(k), shuffle=True, random_state=int(seed))
    return [(tr, va) for tr, va in splitter.split(np.zeros(len(y)))]


def fold_members(arrays, model_cfg: ModelConfig, train_cfg: TrainConfig, k: int, seed: int = 0) -> list[Member]:
    """One :class:`Member` per fold of ``arrays``' TRAINING rows (the validation split is not used;
    the held-out fold is each member's validation set). ``k == 1``: ``[Member(arrays, ...)]``."""
    from mlcore.train import TrainArrays

    if int(k) == 1:
        return [Member(arrays, model_cfg, train_cfg)]
    members = []
    for tr, va in kfold_indices(arrays.y_train, k, arrays.task, seed):
        fold = TrainArrays(arrays.X_train[tr], arrays.y_train[tr], arrays.X_train[va], arrays.y_train[va],
                           arrays.task, arrays.n_classes)
        members.append(Member(fold, model_cfg, train_cfg))
    return members
