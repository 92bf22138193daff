"""ROC / PR curves and residuals against hand-known answers."""

import numpy as np
import pytest

from mlcore.evaluate import curves


def test_binary_roc_of_a_perfect_and_a_reversed_score():
    y = np.array([0, 0, 1, 1])
    perfect = curves.roc_curves(y, np.array([0.1, 0.2, 0.8, 0.9]))
    assert len(perfect) == 1 and perfect[0].auc == 1.0 and perfect[0].label == "1"
    reversed_ = curves.roc_curves(y, np.array([[0.1, 0.9], [0.2, 0.8], [0.8, 0.2], [0.9, 0.1]]))
    assert reversed_[0].auc == 0.0


def test_hand_computed_auc_and_average_precision():
    y = np.array([0, 1, 0, 1])
    p = np.array([0.2, 0.4, 0.6, 0.8])  # pairs (pos, neg) ordered right: 3 of 4
    assert curves.roc_curves(y, p)[0].auc == pytest.approx(0.75)
    pr = curves.pr_curves(y, p)[0]
    assert pr.auc == pytest.approx((1.0 + 2 / 3) / 2)  # AP: precision 1 at recall 0.5, 2/3 at 1
    assert pr.prevalence == 0.5


def test_multiclass_is_one_vs_rest_with_class_names():
    y = np.array([0, 1, 2, 2])
    prob = np.eye(3)[[0, 1, 2, 2]] * 0.8 + 0.2 / 3
    rocs = curves.roc_curves(y, prob, ["a", "b", "c"])
    assert [c.label for c in rocs] == ["a", "b", "c"]
    assert all(c.auc == 1.0 for c in rocs)


def test_residuals_are_true_minus_predicted():
    r = curves.residuals([1.0, 2.0, 3.0], [1.5, 2.0, 2.0])
    assert r.residual.tolist() == [-0.5, 0.0, 1.0]
