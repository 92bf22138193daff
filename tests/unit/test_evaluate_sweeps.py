"""Sweeps: capacities, nested learning-curve subsets, and a stopped sweep keeping its points."""

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from mlcore.config import LayerSpec, ModelConfig, Task, TrainConfig
from mlcore.errors import ConfigError
from mlcore.evaluate import regularise, sweeps
from mlcore.evaluate.study import Point, point_groups, run_inline, score_member
from mlcore.jobs import JobController, WorkerPool
from mlcore.train import TrainArrays


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return TrainArrays(X[:70], y[:70], X[70:], y[70:], Task.BINARY, 2)


def test_capacity_sets_width_or_depth():
    cfg = ModelConfig(hidden=(LayerSpec(8, "tanh"), LayerSpec(4, "relu")))
    assert sweeps.with_capacity(cfg, "width", 3).hidden == (LayerSpec(3, "tanh"), LayerSpec(3, "relu"))
    assert sweeps.with_capacity(cfg, "depth", 3).hidden == (LayerSpec(8, "tanh"),) * 3
    with pytest.raises(ConfigError):
        sweeps.with_capacity(cfg, "height", 3)


@pytest.mark.parametrize("task", [Task.BINARY, Task.REGRESSION])
def test_learning_curve_subsets_are_nested(task):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=200) if task is Task.BINARY else rng.normal(size=200)
    subsets = sweeps.nested_subsets(y, (0.5, 0.1, 1.0, 0.25), task, seed=4)
    assert [len(s) for s in subsets] == [20, 50, 100, 200]
    for small, big in zip(subsets, subsets[1:]):
        assert set(small) <= set(big)
    assert sorted(subsets[-1].tolist()) == list(range(200))
    if task is Task.BINARY:  # stratified prefixes keep the class share
        share = y.mean()
        for s in subsets:
            assert abs(y[s].mean() - share) <= 1.5 / len(s) + 0.02


def test_learning_curve_job_trains_on_the_subsets(arrays):
    job = sweeps.learning_curve_job(arrays, ModelConfig(hidden=(LayerSpec(3),)), TrainConfig(epochs=2),
                                    fractions=(0.5, 1.0))
    assert [p.members[0].arrays.X_train.shape[0] for p in job.points] == [35, 70]
    assert job.meta["rows"] == (35, 70)
    run_inline(job)
    assert [r.key for r in job.results] == [0.5, 1.0]


def test_capacity_sweep_gives_one_band_point_per_value(arrays):
    job = run_inline(sweeps.capacity_job(arrays, ModelConfig(hidden=(LayerSpec(3),)), TrainConfig(epochs=2),
                                         "width", (4, 1, 2), n_seeds=2))
    bands = sweeps.sweep_bands(job.results)
    assert bands["val_loss"].x == [1, 2, 4]
    assert all(len(v) == 2 for v in bands["val_loss"].values)
    assert np.all(bands["val_loss"].std >= 0)
    # seeds differ: the two width-4 models start from different weights
    s0, s1 = job.results[2].scores
    assert s0.val_loss != s1.val_loss


def test_stopping_a_sweep_keeps_the_finished_points(arrays):
    job = sweeps.capacity_job(arrays, ModelConfig(hidden=(LayerSpec(3),)), TrainConfig(epochs=300),
                              "width", (1, 2, 3, 4, 5, 6, 7, 8), n_seeds=2)
    job.chunk_seconds = 0.05
    pool = WorkerPool(n_workers=1, executor=ThreadPoolExecutor(1))
    try:
        ctrl = JobController(pool, job)
        ctrl.start()
        deadline = time.monotonic() + 120
        while not job.results and time.monotonic() < deadline:
            time.sleep(0.01)
        ctrl.stop()
        snap = ctrl.wait(60)
        kept = list(job.results)
        assert snap.mode == "stopped"
        assert 1 <= len(kept) < 8
        assert job.groups == [(0, 5), (5, 8)]  # 8 points x 2 seeds: groups of <= 5 points, <= 15 members
        assert len(kept) in {b for _a, b in job.groups}  # whole finished groups
        assert 0 < snap.progress < 1
        time.sleep(0.2)
        assert job.results == kept  # nothing more after the stop
        ctrl.start()  # going on finishes the rest, the kept points unchanged
        snap = ctrl.wait(120)
        assert snap.mode == "finished"
        assert [r.key for r in job.results] == [1, 2, 3, 4, 5, 6, 7, 8]
        assert job.results[:len(kept)] == kept
    finally:
        pool.shutdown()


def test_regularisation_variants_change_one_thing_each():
    model_cfg = ModelConfig(dropout=0.2, l2=0.01)
    cfgs = regularise.variant_configs(model_cfg, TrainConfig(patience=5), l2=0.001, dropout=0.4, patience=7)
    none_m, none_t = cfgs["none"]
    assert (none_m.dropout, none_m.l2, none_t.patience) == (0.0, 0.0, None)
    assert cfgs["l2"][0].l2 == 0.001 and cfgs["l2"][0].dropout == 0.0
    assert cfgs["dropout"][0].dropout == 0.4 and cfgs["dropout"][0].l2 == 0.0
    assert cfgs["early_stopping"][1].patience == 7 and cfgs["early_stopping"][0] == none_m
    assert {t.seed for _m, t in cfgs.values()} == {0}


def test_point_groups_are_consecutive_and_bounded():
    def pts(*sizes):
        return [Point(i, tuple(range(n))) for i, n in enumerate(sizes)]
    assert point_groups(pts(1, 1, 1, 1, 1, 1, 1, 1, 1, 1)) == [(0, 5), (5, 10)]
    assert point_groups(pts(3, 3, 3, 3, 3, 3, 3)) == [(0, 5), (5, 7)]
    assert point_groups(pts(4, 4, 4, 4, 4)) == [(0, 3), (3, 5)]  # <= 15 members
    assert point_groups(pts(20, 20, 20)) == [(0, 1), (1, 2), (2, 3)]  # bias-variance: a point alone
    assert point_groups(pts(5, 5, 5), max_points=4, max_members=12) == [(0, 2), (2, 3)]
    assert point_groups([]) == []


def test_a_sweep_trained_in_point_groups_scores_each_member_as_its_single_fit(arrays):
    """The page's batched sweep: several points per chunked batched call, each member's final
    weights (so its scores) exactly those of its own ``train.fit``."""
    from mlcore.train import fit

    job = sweeps.capacity_job(arrays, ModelConfig(hidden=(LayerSpec(3, "relu"), LayerSpec(3, "relu"))),
                              TrainConfig(epochs=12, batch_size=16), "width", (2, 5, 8, 16), n_seeds=2)
    job.chunk_seconds = 0.0  # one epoch per chunk: every chunk resumes the previous one
    assert job.groups == [(0, 4)]
    run_inline(job)
    assert [r.key for r in job.results] == [2, 5, 8, 16]
    for point, result in zip(job.points, job.results):
        for member, got in zip(point.members, result.scores):
            want = score_member(member, fit(member.arrays, member.model_cfg, member.train_cfg), None)
            assert (got.train_loss, got.val_loss, got.val_metric) == (want.train_loss, want.val_loss, want.val_metric)
            np.testing.assert_array_equal(got.val_pred, want.val_pred)
            assert [h.val_loss for h in got.history] == pytest.approx([h.val_loss for h in want.history], abs=1e-6)
