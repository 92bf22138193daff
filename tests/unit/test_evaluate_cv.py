"""k-fold cross-validation: folds, and batched folds against separate fits."""

import numpy as np
import pytest

from mlcore import train
from mlcore.config import LayerSpec, ModelConfig, OptimConfig, Task, TrainConfig
from mlcore.errors import ConfigError
from mlcore.evaluate.cv import cross_validate
from mlcore.evaluate.folds import fold_members, kfold_indices
from mlcore.train import TrainArrays


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.3).astype(np.int64)
    return TrainArrays(X[:60], y[:60], X[60:], y[60:], Task.BINARY, 2)


def test_stratified_folds_partition_the_training_set_and_keep_class_ratios():
    y = np.array([0] * 30 + [1] * 15 + [2] * 15)
    folds = kfold_indices(y, 5, Task.MULTICLASS, seed=3)
    held_out = np.concatenate([va for _tr, va in folds])
    assert sorted(held_out.tolist()) == list(range(len(y)))  # each row held out exactly once
    for tr, va in folds:
        assert set(tr).isdisjoint(va) and len(tr) + len(va) == len(y)
        assert np.bincount(y[va], minlength=3).tolist() == [6, 3, 3]  # the 2:1:1 ratio in every fold


def test_regression_folds_partition_too():
    y = np.linspace(0, 1, 23)
    folds = kfold_indices(y, 4, Task.REGRESSION)
    assert sorted(np.concatenate([va for _t, va in folds]).tolist()) == list(range(23))
    assert sorted(len(va) for _t, va in folds) == [5, 6, 6, 6]


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lars"])
def test_batched_folds_give_the_scores_of_separate_fits(arrays, optimizer):
    model_cfg = ModelConfig(hidden=(LayerSpec(5, "tanh"),))
    train_cfg = TrainConfig(optim=OptimConfig(name=optimizer, lr=0.05), epochs=4, batch_size=16, seed=2)
    result = cross_validate(arrays, model_cfg, train_cfg, k=3, seed=1)
    assert result.k == 3 and len(result.fold_loss) == 3
    for i, member in enumerate(fold_members(arrays, model_cfg, train_cfg, 3, seed=1)):
        alone = train.fit(member.arrays, model_cfg, train_cfg)
        assert result.fold_loss[i] == pytest.approx(alone.history[-1].val_loss, abs=1e-5)
        assert result.fold_metric[i] == pytest.approx(alone.history[-1].val_metric, abs=1e-5)
    assert result.mean_metric == pytest.approx(np.mean(result.fold_metric))
    assert result.std_metric == pytest.approx(np.std(result.fold_metric))
    assert len(result.epoch_val_loss) == 4
    assert sum(result.fold_rows) == len(arrays.y_train)


def test_impossible_k_is_a_typed_error(arrays):
    with pytest.raises(ConfigError, match="between 2 and 10"):
        cross_validate(arrays, ModelConfig(), TrainConfig(epochs=1), k=11)
