"""Evaluate figures: the records they draw, checked against known values."""

import numpy as np
import pytest

from mlcore.evaluate.biasvar import RegressionDecomposition
from mlcore.evaluate.study import Band
from mlcore.plots import evaluate as ep
from mlcore.train import EpochRecord


def _history(train, val):
    return [EpochRecord(i + 1, t, v, 0.0, 0.0, 0.0) for i, (t, v) in enumerate(zip(train, val))]


def test_process_record_counts_and_shares():
    rec = ep.process_record(300, 100, 100, test_looks=2)
    assert rec.rows == (300, 100, 100) and rec.shares == pytest.approx((0.6, 0.2, 0.2)) and rec.test_looks == 2
    labels = {k: k for k in ("train", "val", "test", "step_train", "step_tune", "step_test")}
    labels["looks"] = "looked {n}x"
    fig = ep.process_diagram(ep.process_record(10, 5, 0), labels)
    texts = [a.text for a in fig.layout.annotations if a.text]
    assert "<b>train</b><br>10" in texts and "step_tune" in texts and not any("test" in t for t in texts)
    texts = [a.text for a in ep.process_diagram(rec, labels).layout.annotations if a.text]
    assert "<b>test</b><br>100" in texts and "looked 2x" in texts


def test_diagnosed_curves_mark_the_best_epoch():
    hist = _history([1.0, 0.8, 0.6], [1.1, 0.7, 0.9])
    rec = ep.diagnosed_record(hist, 2)
    assert rec.best_val == 0.7 and rec.epochs.tolist() == [1, 2, 3]
    fig = ep.diagnosed_curves(rec, {"train": "t", "val": "v", "best": "b", "epoch": "e", "loss": "l"})
    star = [t for t in fig.data if t.name == "b"][0]
    assert list(star.x) == [2] and list(star.y) == [0.7]


def test_folds_record_mean_and_std():
    rec = ep.folds_record([0.8, 0.9, 1.0])
    assert rec.folds == (1, 2, 3) and rec.mean == pytest.approx(0.9) and rec.std == pytest.approx(np.std([0.8, 0.9, 1.0]))
    fig = ep.folds_strip(rec, {"metric": "acc", "fold": "Fold", "mean": "mean"})
    assert list(fig.data[0].y) == [0.8, 0.9, 1.0]


def test_sweep_record_picks_the_best_validation_value():
    train = Band([1, 2, 4], np.array([0.5, 0.3, 0.1]), np.zeros(3))
    val = Band([1, 2, 4], np.array([0.6, 0.4, 0.5]), np.array([0.1, 0.0, 0.2]))
    assert ep.sweep_record(train, val).best_x == 2
    assert ep.sweep_record(train, val, higher_is_better=True).best_x == 1
    fig = ep.sweep_figure(ep.sweep_record(train, val), {"train": "t", "val": "v", "x": "w", "y": "l", "best": "b"},
                          log_x=True)
    assert list(fig.layout.xaxis.tickvals) == [1, 2, 4] and fig.layout.xaxis.type == "log"
    band = fig.data[2]  # validation band: mean + std forwards, mean - std backwards
    assert list(band.y) == pytest.approx([0.7, 0.4, 0.7, 0.3, 0.4, 0.5])


def test_biasvar_record_reads_each_part_and_unknown_noise_is_missing():
    decs = [RegressionDecomposition(1.0, 0.6, 0.3, 0.1), RegressionDecomposition(0.9, 0.5, 0.4, None)]
    rec = ep.biasvar_record([2, 8], decs, ("bias2", "variance", "noise"))
    assert rec.parts["bias2"].tolist() == [0.6, 0.5]
    assert rec.parts["noise"][0] == 0.1 and np.isnan(rec.parts["noise"][1])


def test_regularisation_record_final_gaps():
    rec = ep.regularisation_record(["none", "l2"], [_history([0.5, 0.2], [0.6, 0.5]), _history([0.5, 0.3], [0.6, 0.4])])
    assert rec.final_gap == pytest.approx((0.3, 0.1))
    labels = {"none": "None", "l2": "L2", "train": "t", "val": "v", "epoch": "e", "loss": "l", "gap": "gap"}
    fig = ep.regularisation_figure(rec, labels)
    assert len(fig.data) == 4 and "gap 0.300" in fig.layout.annotations[0].text
