"""Validation metrics against values computed by hand."""

import numpy as np
import pytest

from mlcore.config import Task
from mlcore.evaluate import ClassificationReport, evaluate, predicted_classes


def test_classification_report_known_answer():
    y = np.array([0, 0, 1, 1, 2, 2])
    probs = np.array([[.9, .1, 0], [.2, .7, .1], [.1, .8, .1], [.3, .6, .1], [0, .1, .9], [.5, .2, .3]])
    report = evaluate(Task.MULTICLASS, y, probs, ["a", "b", "c"])
    assert isinstance(report, ClassificationReport)
    # predictions: 0, 1, 1, 1, 2, 0 -> 4 of 6 right
    assert report.accuracy == pytest.approx(4 / 6)
    np.testing.assert_array_equal(report.confusion, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    a, b, c = report.per_class
    assert (a.label, a.precision, a.recall, a.support) == ("a", 0.5, 0.5, 2)
    assert b.precision == pytest.approx(2 / 3) and b.recall == 1.0
    assert c.precision == 1.0 and c.recall == 0.5 and c.f1 == pytest.approx(2 / 3)


def test_binary_logit_probabilities_are_thresholded_at_one_half():
    np.testing.assert_array_equal(predicted_classes(np.array([0.2, 0.5, 0.9])), [0, 1, 1])
    np.testing.assert_array_equal(predicted_classes(np.array([[0.7, 0.3], [0.1, 0.9]])), [0, 1])


def test_regression_report_known_answer():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.0, 2.0, 3.0, 6.0])
    report = evaluate(Task.REGRESSION, y, pred)
    assert report.mae == pytest.approx(0.5)
    assert report.rmse == pytest.approx(1.0)  # sqrt(4 / 4)
    assert report.r2 == pytest.approx(1 - 4 / 5)  # SS_res = 4, SS_tot = 5
