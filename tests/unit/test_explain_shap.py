"""SHAP values: exact for a linear model, additive for every activation and head, a fallback with a
notice for a module the fast path does not know, one-hot groups that add up, and agreement with
shap.DeepExplainer on a small model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from mlcore.config import ACTIVATIONS, LayerSpec, ModelConfig, Task
from mlcore.explain.features import feature_layout
from mlcore.explain.shap_values import (ADDITIVITY_TOL, OutputSpec, deeplift_shap, explain_shap,
                                        model_outputs, output_specs)
from mlcore.model import MLP
from tests.unit.explain_helpers import mixed_data, mixed_model

RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 6))
B = RNG.normal(size=(20, 6))


@pytest.mark.parametrize(("dtype", "tol"), [(np.float32, 1e-6), (np.float64, 1e-12)])
def test_linear_model_shap_is_w_times_x_minus_mean(dtype, tol):
    torch.manual_seed(0)
    lin = nn.Sequential(nn.Linear(6, 1))
    w = lin[0].weight.detach().double().numpy()[0]
    values = deeplift_shap(lin, X.astype(dtype), B.astype(dtype), (OutputSpec("value"),))
    expected = w * (X - B.mean(axis=0))
    assert values.dtype == dtype
    np.testing.assert_allclose(values[:, 0, :], expected, rtol=0, atol=tol)


HEADS = [  # (task, n_outputs, n_classes, kind)
    (Task.BINARY, 1, 2, "logit"), (Task.BINARY, 1, 2, "probability"), (Task.BINARY, 2, 2, "logit"),
    (Task.BINARY, 2, 2, "probability"), (Task.MULTICLASS, 3, 3, "logit"), (Task.MULTICLASS, 3, 3, "probability"),
    (Task.REGRESSION, 1, 1, "value"),
]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(("task", "n_out", "n_classes", "kind"), HEADS, ids=[f"{t.value}-{n}-{k}" for t, n, _, k in HEADS])
def test_additivity_for_every_activation_and_head(activation, task, n_out, n_classes, kind):
    model = MLP(ModelConfig(hidden=(LayerSpec(10, activation), LayerSpec(7, activation))), 6, n_out, seed=3)
    specs = output_specs(task, n_out, n_classes, kind)
    res = explain_shap(model, X.astype(np.float32), B.astype(np.float32), specs)
    assert res.method == "deeplift" and res.notice is None
    total = res.values.sum(axis=-1)
    np.testing.assert_allclose(total, res.outputs - res.base[None, :], atol=ADDITIVITY_TOL)
    assert res.additivity_error <= ADDITIVITY_TOL
    assert res.values.shape == (len(X), len(specs), 6)


def test_binary_probabilities_of_the_two_classes_are_opposite():
    model = MLP(ModelConfig(hidden=(LayerSpec(8, "relu"),)), 6, 1, seed=1)
    res = explain_shap(model, X.astype(np.float32), B.astype(np.float32),
                       output_specs(Task.BINARY, 1, 2, "probability"))
    np.testing.assert_allclose(res.values[:, 0], -res.values[:, 1], atol=1e-6)


def test_unknown_activation_gets_the_fallback_and_a_notice():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.SiLU(), nn.Linear(6, 1)).eval()
    Xs, Bs = X[:4, :4].astype(np.float32), B[:8, :4].astype(np.float32)
    res = explain_shap(model, Xs, Bs, (OutputSpec("value"),))
    assert res.method == "kernel"
    assert res.notice == ("explain.shap.notice.unknown_module", {"module": "SiLU"})
    # never wrong numbers: exact Shapley values (2**4 coalitions) add up to f(x) - E f
    assert res.additivity_error < 1e-5
    # and, for this 4-feature model, they are the exact Shapley values of the background game
    f = lambda rows: model_outputs(model, rows, (OutputSpec("value"),))[:, 0]  # noqa: E731
    x = Xs[0]
    from itertools import combinations
    from math import factorial

    def v(S):
        rows = Bs.copy()
        rows[:, list(S)] = x[list(S)]
        return f(rows).mean()

    n = 4
    exact = np.zeros(n)
    for j in range(n):
        others = [k for k in range(n) if k != j]
        for size in range(n):
            for S in combinations(others, size):
                weight = factorial(size) * factorial(n - size - 1) / factorial(n)
                exact[j] += weight * (v(S + (j,)) - v(S))
    np.testing.assert_allclose(res.values[0, 0], exact, atol=1e-4)


def test_failed_additivity_switches_to_the_fallback(monkeypatch):
    from mlcore.explain import shap_values as sv

    model = MLP(ModelConfig(hidden=(LayerSpec(5, "relu"),)), 6, 1, seed=0)
    monkeypatch.setattr(sv, "deeplift_shap", lambda *a, **k: np.zeros((4, 1, 6), dtype=np.float32) + 1.0)
    res = sv.explain_shap(model, X[:4].astype(np.float32), B[:10].astype(np.float32), (OutputSpec("value"),),
                          nsamples=64)
    assert res.method == "kernel" and res.notice[0] == "explain.shap.notice.additivity"
    assert res.additivity_error < 1e-4


def test_grouped_one_hot_values_equal_the_sum_of_their_columns():
    data = mixed_data()
    layout = feature_layout(data)
    assert [f.name for f in layout.features] == ["age", "income", "color"]
    color = layout.by_name("color")
    assert color.is_categorical and len(color.columns) == 3
    assert layout.by_name("age").integer and not layout.by_name("income").integer
    model = mixed_model(data)
    res = explain_shap(model, data.X_val[:10], data.X_train[:50], output_specs(data.task, 1, 2, "logit"))
    grouped = res.grouped(layout)
    np.testing.assert_allclose(grouped[..., 2], res.values[..., list(color.columns)].sum(axis=-1), atol=1e-7)
    np.testing.assert_allclose(grouped.sum(-1), res.values.sum(-1), atol=1e-5)


def test_original_units_round_trip():
    data = mixed_data()
    layout = feature_layout(data)
    table = layout.to_original(data.X_val[:5])
    np.testing.assert_allclose(table["age"].to_numpy(), data.raw_val["age"].to_numpy()[:5], atol=1e-3)
    np.testing.assert_allclose(table["income"].to_numpy(), data.raw_val["income"].to_numpy()[:5], atol=1e-3)
    assert list(table["color"]) == list(data.raw_val["color"][:5])


def test_equal_to_shap_deep_explainer():
    shap = pytest.importorskip("shap")
    model = MLP(ModelConfig(hidden=(LayerSpec(16, "elu"),)), 6, 2, seed=5)
    Xf, Bf = X.astype(np.float32), B.astype(np.float32)
    ours = deeplift_shap(model, Xf, Bf, output_specs(Task.BINARY, 2, 2, "logit"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = shap.DeepExplainer(model, torch.as_tensor(Bf)).shap_values(torch.as_tensor(Xf))
    np.testing.assert_allclose(ours, np.transpose(np.asarray(ref), (0, 2, 1)), atol=1e-4)


def test_dropout_and_a_reused_activation_instance_stay_exact():
    """Dropout is skipped (eval mode); one activation module used twice is still handled, because
    the pass applies each module as a function (hook-based explainers get this wrong silently)."""
    act = nn.Tanh()
    model = nn.Sequential(nn.Linear(6, 8), act, nn.Dropout(0.5), nn.Linear(8, 8), act, nn.Linear(8, 1)).eval()
    res = explain_shap(model, X.astype(np.float64), B.astype(np.float64), (OutputSpec("value"),))
    assert res.method == "deeplift" and res.additivity_error < 1e-12
