"""Counterfactuals, integrated gradients, the rule surrogate, prototypes, the disagreement panel and
the explanation jobs, against known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mlcore.config import LayerSpec, ModelConfig, Task
from mlcore.explain.counterfactuals import Constraint, Target, default_constraints, find_counterfactuals
from mlcore.explain.features import feature_layout
from mlcore.model import MLP, layer_outputs
from tests.unit.explain_helpers import mixed_data, mixed_model, quick_fit


@pytest.fixture(scope="module")
def mixed():
    data = mixed_data()
    return data, feature_layout(data), mixed_model(data)


def _pred(model, X):
    with torch.no_grad():
        z = model(torch.as_tensor(np.asarray(X, dtype=np.float32)))
    return (z[:, 0] > 0).long().numpy() if z.shape[1] == 1 else z.argmax(1).numpy()


def _check_valid_rows(layout, X, x0, constraints):
    for f in layout.features:
        cols = list(f.columns)
        c = constraints[f.name]
        if not c.mutable:
            np.testing.assert_allclose(X[:, cols], np.tile(x0[cols], (len(X), 1)), atol=1e-9)
        if f.is_categorical:
            assert np.all(np.isin(X[:, cols], (0.0, 1.0))) and np.all(X[:, cols].sum(1) == 1)
        elif c.mutable:
            orig = X[:, cols[0]] * f.scale + f.mean
            assert np.all(orig >= c.low - 1e-6) and np.all(orig <= c.high + 1e-6)
            if f.integer:
                np.testing.assert_allclose(orig, np.round(orig), atol=1e-6)


def test_counterfactuals_flip_the_prediction_and_respect_the_constraints(mixed):
    data, layout, model = mixed
    with torch.no_grad():
        logit = model(torch.as_tensor(data.X_val))[:, 0].numpy()
    negative = np.flatnonzero(logit < 0)
    x0 = data.X_val[int(negative[np.argsort(-logit[negative])[len(negative) // 4]])]  # "no", not the surest
    constraints = default_constraints(layout)
    constraints["income"] = Constraint(False)
    age = layout.by_name("age")
    constraints["age"] = Constraint(True, age.low, age.high - 5)
    res = find_counterfactuals(model, layout, x0, Target(cls=1), Task.BINARY, 1, constraints,
                               stds=data.X_train.std(0), k=3)
    assert res.found and len(res.items) >= 2 and res.hint is None
    X = np.stack([c.x for c in res.items])
    assert np.all(_pred(model, X) == 1)
    assert all(c.valid and c.sparsity == len(c.changes) >= 1 for c in res.items)
    _check_valid_rows(layout, X, x0.astype(np.float64), constraints)
    assert all(name != "income" for c in res.items for name, _, _ in c.changes)
    assert len({tuple(np.round(c.x, 6)) for c in res.items}) == len(res.items)  # diverse: all different


def test_no_counterfactual_says_which_constraint_to_relax(mixed):
    data, layout, model = mixed
    preds = _pred(model, data.X_val)
    x0 = data.X_val[int(np.flatnonzero(preds == 0)[0])]
    frozen = {f.name: Constraint(False) for f in layout.features}
    res = find_counterfactuals(model, layout, x0, Target(cls=1), Task.BINARY, 1, frozen, k=3)
    assert not res.found and res.hint == "explain.cf.hint.frozen"


def test_regression_counterfactual_lands_in_the_range():
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(200, 3)).astype(np.float32)
    yr = (2 * Xr[:, 0] - Xr[:, 1]).astype(np.float32)
    model = quick_fit(MLP(ModelConfig(hidden=(LayerSpec(16, "relu"),)), 3, 1, seed=0), Xr, yr, Task.REGRESSION)
    from mlcore.explain.features import FeatureLayout, RawFeature

    layout = FeatureLayout(tuple(RawFeature(f"x{j}", "numeric", (j,), low=-3.0, high=3.0) for j in range(3)),
                           3, ("x0", "x1", "x2"))
    res = find_counterfactuals(model, layout, Xr[0], Target(low=2.5, high=3.5), Task.REGRESSION, 1, k=3)
    assert res.found
    for c in res.items:
        with torch.no_grad():
            value = float(model(torch.as_tensor(c.x[None, :], dtype=torch.float32))[0, 0])
        assert 2.5 <= value <= 3.5 and c.valid


def test_integrated_gradients_completeness():
    pytest.importorskip("captum")
    from mlcore.explain.saliency import integrated_gradients, saliency_maps

    model = MLP(ModelConfig(hidden=(LayerSpec(12, "tanh"), LayerSpec(8, "gelu"))), 5, 3, seed=2).eval()
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 5)).astype(np.float32)
    base = np.zeros(5, dtype=np.float32)
    attr, delta = integrated_gradients(model, X, 2, base)
    with torch.no_grad():
        gap = (model(torch.as_tensor(X))[:, 2] - model(torch.as_tensor(base[None, :]))[0, 2]).numpy()
    np.testing.assert_allclose(attr.sum(1), gap, atol=1e-3 * max(1.0, np.abs(gap).max()))
    maps = saliency_maps(model, X[0], 1, base, nt_samples=8)
    assert maps.gradient.shape == maps.smoothgrad.shape == maps.integrated.shape == (5,)
    assert np.all(maps.gradient >= 0) and abs(maps.ig_delta) < 1e-2


def test_surrogate_fidelity_is_measured_on_held_out_rows(mixed):
    from mlcore.explain.surrogate import fit_surrogate

    data, layout, model = mixed
    p_train, p_val = _pred(model, data.X_train), _pred(model, data.X_val)
    sur = fit_surrogate(layout, data.X_train, p_train, data.X_val, p_val, True, max_depth=3)
    from mlcore.explain.surrogate import surrogate_design

    A_val, _ = surrogate_design(layout, data.X_val)
    assert sur.fidelity == pytest.approx(float(np.mean(sur.tree.predict(A_val) == p_val)))
    assert sur.depth <= 3 and sum(r.samples for r in sur.rules) == len(data.X_train)
    assert np.isclose(sur.importances.sum(), 1.0)
    # rules are in original units: an age threshold falls inside the training ages (18..69)
    ages = [c.value for r in sur.rules for c in r.conditions if c.feature == "age"]
    assert all(18 <= a <= 70 for a in ages)
    colors = [c for r in sur.rules for c in r.conditions if c.feature == "color"]
    assert all(c.op in ("==", "!=") and c.value in ("red", "green", "blue") for c in colors)


def test_prototypes_belong_to_their_class():
    from mlcore.explain.prototypes import prototypes

    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [5, 5], [0, 6]], dtype=float)
    labels = np.repeat(np.arange(3), 30)
    H = centers[labels] + rng.normal(0, 0.5, size=(90, 2))
    H[5] = [2.5, 2.5]  # an outlier of class 0: its criticism
    out = prototypes(H, labels, k=2, n_criticisms=1)
    assert [p.cls for p in out] == [0, 1, 2]
    for p in out:
        assert np.all(labels[p.prototype_rows] == p.cls) and np.all(labels[p.criticism_rows] == p.cls)
        assert np.isclose(p.prototype_cover.sum(), 1.0)
    assert out[0].criticism_rows[0] == 5
    # the first prototype is the medoid: the row with the least total distance to its class
    D = np.linalg.norm(H[:30, None] - H[None, :30], axis=-1)
    assert out[0].prototype_rows[0] == int(np.argmin(D.sum(1)))


def test_prototypes_in_the_last_hidden_layer_of_a_model(mixed):
    from mlcore.explain.prototypes import prototypes

    data, _, model = mixed
    hidden = layer_outputs(model, data.X_train)[-1]
    out = prototypes(hidden, data.y_train, k=3)
    for p in out:
        assert np.all(data.y_train[p.prototype_rows] == p.cls)


def test_rank_correlations_of_known_rankings():
    from mlcore.explain.disagreement import Rankings, rank_correlations, weakest_pair

    scores = {"shap": np.array([3.0, 2.0, 1.0, 0.5]), "permutation": np.array([0.3, 0.2, 0.1, 0.05]),
              "surrogate": np.array([0.0, 0.1, 0.2, 0.7])}
    corr = rank_correlations(scores)
    np.testing.assert_allclose(corr, [[1, 1, -1], [1, 1, -1], [-1, -1, 1]])
    r = Rankings(["a", "b", "c", "d"], scores, corr, ["shap", "permutation", "surrogate"])
    assert r.order("surrogate") == ["d", "c", "b", "a"]
    assert weakest_pair(r)[2] == -1.0


def test_explanation_jobs_run_inline(mixed):
    from mlcore.explain import jobs as ej
    from mlcore.explain.shap_values import output_specs
    from mlcore.jobs import run_inline

    data, layout, model = mixed
    job = run_inline(ej.ShapJob(model, data.X_val[:8], data.X_train[:30], output_specs(Task.BINARY, 1, 2, "logit")))
    assert job.done() and job.result.method == "deeplift" and job.progress() == 1.0
    silu = nn.Sequential(nn.Linear(data.n_features, 4), nn.SiLU(), nn.Linear(4, 1)).eval()
    job = run_inline(ej.ShapJob(silu, data.X_val[:4], data.X_train[:10], output_specs(Task.BINARY, 1, 2, "logit")))
    assert job.result.method == "kernel" and job.result.notice[0] == "explain.shap.notice.unknown_module"
    assert job.result.additivity_error < 1e-4
    steps = ej.StepsJob([("sur", ej.surrogate_chunk, (model, Task.BINARY, layout, data.X_train, data.X_val, 2, 0))])
    run_inline(steps)
    assert steps.results["sur"].depth <= 2
