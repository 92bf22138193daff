"""What the Explain page shows, against known answers: numbers without exponents, the original
rows as prototypes, surrogate rules without redundant conditions, the disagreement table's rows,
the Spanish example rule, and no captum warning about inputs without gradients."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcore.config import ColumnChoice, SplitConfig, Task
from mlcore.data.prepare import prepare
from mlcore.explain.features import feature_layout
from mlcore.plots.style import plain_number

I18N = Path(__file__).resolve().parents[2] / "mlcore" / "i18n"


@pytest.mark.parametrize(("value", "comma", "text"), [
    (24963.2, False, "24963"),  # was 2.496e+04
    (24963.2, True, "24963"),
    (32876.7, True, "32877"),
    (52990.0, True, "52990"),
    (999999.4, False, "999999"),
    (12.3456, False, "12.35"),
    (12.3456, True, "12,35"),
    (-0.5, True, "-0,5"),
    (0.000123456, False, "0.0001235"),
    (3.0, False, "3"),
    (np.float32(16.0), False, "16"),
    (-0.0, False, "0"),
    (0.99996, False, "1"),
    (7, True, "7"),
])
def test_plain_number_has_no_exponent_and_the_languages_decimal_mark(value, comma, text):
    assert plain_number(value, 4, decimal_comma=comma) == text


def _spanish_table(n=90, seed=0) -> pd.DataFrame:
    """The QA's file: age, income with two decimals (incomes in the tens of thousands), region, bought."""
    rng = np.random.default_rng(seed)
    income = np.round(rng.uniform(10000, 70000, n), 2)
    age = rng.integers(18, 70, n)
    region = rng.choice(["norte", "sur", "este"], n)
    bought = np.where(income + 300 * (age - 40) + rng.normal(0, 5000, n) > 40000, "sí", "no")
    return pd.DataFrame({"edad": age, "ingresos_€": income, "región": region, "compró": bought})


def test_prototype_rows_are_the_original_training_rows():
    from mlcore.explain.prototypes import prototypes, training_rows

    df = _spanish_table()
    data = prepare(df, ColumnChoice(target="compró", features=("edad", "ingresos_€", "región"), task=Task.BINARY),
                   SplitConfig(seed=0), name="compras")
    layout = feature_layout(data)
    out = prototypes(data.X_train, data.y_train, k=3, n_criticisms=2)
    for p in out:
        rows = np.concatenate([p.prototype_rows, p.criticism_rows])
        table = training_rows(data, layout, rows)
        assert list(table.columns) == ["edad", "ingresos_€", "región"]
        expected = df.loc[data.raw_train.index[rows], ["edad", "ingresos_€", "región"]].reset_index(drop=True)
        pd.testing.assert_frame_equal(table, expected, check_dtype=False)
        # two decimals, as in the file (the inverse transform gave 10307.2094 for 10307,21)
        incomes = table["ingresos_€"].to_numpy(dtype=np.float64)
        np.testing.assert_array_equal(incomes, np.round(incomes, 2))


def test_collapse_keeps_the_tighter_condition_per_feature_and_direction():
    from mlcore.explain.surrogate import Condition, collapse_conditions

    conds = [Condition("ingresos_€", ">", 32876.5), Condition("edad", "<=", 60.5),
             Condition("ingresos_€", ">", 52990.0), Condition("edad", "<=", 45.5),
             Condition("ingresos_€", "<=", 65000.0), Condition("región", "!=", "sur"),
             Condition("región", "==", "norte")]
    assert collapse_conditions(conds) == (Condition("ingresos_€", ">", 52990.0), Condition("edad", "<=", 45.5),
                                          Condition("ingresos_€", "<=", 65000.0), Condition("región", "==", "norte"))
    only_not = [Condition("región", "!=", "sur"), Condition("región", "!=", "este")]
    assert collapse_conditions(only_not) == tuple(only_not)


def test_rules_of_a_known_tree_path_are_collapsed():
    """x = 0..99, class 1 on [30, 60) and [80, 100): the tree splits x at 29.5, 59.5 and 79.5, and the
    path to the last leaf reads x > 29.5, x > 59.5, x > 79.5: the rule is just x > 79.5."""
    from sklearn.tree import DecisionTreeClassifier

    from mlcore.explain.surrogate import Condition, _rules

    x = np.arange(100, dtype=np.float64)[:, None]
    y = ((x[:, 0] >= 80) | ((x[:, 0] >= 30) & (x[:, 0] < 60))).astype(int)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)
    rules = {r.conditions: (r.prediction, r.samples) for r in _rules(tree, [("x", None)], True)}
    assert rules == {
        (Condition("x", "<=", 29.5),): (0.0, 30),
        (Condition("x", ">", 29.5), Condition("x", "<=", 59.5)): (1.0, 30),
        (Condition("x", ">", 59.5), Condition("x", "<=", 79.5)): (0.0, 20),
        (Condition("x", ">", 79.5),): (1.0, 20),
    }


def test_surrogate_rules_have_one_threshold_per_feature_and_direction():
    from mlcore.explain.surrogate import fit_surrogate, surrogate_design

    df = _spanish_table(n=300)
    data = prepare(df, ColumnChoice(target="compró", features=("edad", "ingresos_€", "región"), task=Task.BINARY),
                   SplitConfig(seed=0), name="compras")
    layout = feature_layout(data)
    sur = fit_surrogate(layout, data.X_train, data.y_train, data.X_val, data.y_val, True, max_depth=5)
    for r in sur.rules:
        keys = [(c.feature, c.op) for c in r.conditions if c.op in ("<=", ">")]
        assert len(keys) == len(set(keys))
    # the collapsed rules still partition the training rows as the tree's leaves do
    A, _ = surrogate_design(layout, data.X_train)
    frame = layout.to_original(data.X_train)
    ops = {"<=": np.less_equal, ">": np.greater, "==": np.equal, "!=": np.not_equal}
    hits = np.zeros(len(A), dtype=int)
    for r in sur.rules:
        mask = np.ones(len(A), dtype=bool)
        for c in r.conditions:
            col = A[:, layout.names.index(c.feature)] if c.op in ("<=", ">") else frame[c.feature].to_numpy()
            mask &= ops[c.op](col, c.value)
        assert mask.sum() == r.samples
        hits += mask
    assert np.all(hits == 1)


@pytest.mark.parametrize("n_features", [2, 3, 7])
def test_disagreement_table_has_a_row_per_feature_up_to_five(n_features):
    from mlcore.explain.disagreement import Rankings
    from ui.explain import top_table

    names = [f"f{i}" for i in range(n_features)]
    scores = {"shap": np.arange(n_features, dtype=float), "surrogate": -np.arange(n_features, dtype=float)}
    rank = Rankings(names, scores, np.eye(2), ["shap", "surrogate"])
    top = top_table(rank, ["SHAP", "Tree"], ["shap", "surrogate"])
    n = min(5, n_features)
    assert list(top.index) == [f"#{i}" for i in range(1, n + 1)]
    assert list(top["SHAP"]) == names[::-1][:n] and list(top["Tree"]) == names[:n]
    assert (top != "").all().all()


def test_spanish_rule_example_is_spanish_and_english_is_kept():
    es = json.loads((I18N / "es" / "explain.json").read_text(encoding="utf-8"))["explain.sur.intro"]
    en = json.loads((I18N / "en" / "explain.json").read_text(encoding="utf-8"))["explain.sur.intro"]
    assert "`estudios ≤ bachillerato → ingresos ≤ 50k`" in es
    assert "Education" not in es and "College" not in es
    assert "`Education ≤ College → ≤ 50k`" in en


def test_gradient_methods_do_not_warn_about_inputs_without_gradients():
    pytest.importorskip("captum")
    from mlcore.config import LayerSpec, ModelConfig
    from mlcore.explain.saliency import gradient_x_input, integrated_gradients, logit_model, saliency_maps
    from mlcore.model import MLP

    model = logit_model(MLP(ModelConfig(hidden=(LayerSpec(8, "relu"),)), 3, 1, seed=0).eval(), 1)
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    base = X.mean(axis=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with_base = gradient_x_input(model, X, 1, base)
        plain = gradient_x_input(model, X, 1)
        integrated_gradients(model, X, 1, base, n_steps=8)
        saliency_maps(model, X[0], 1, base, nt_samples=4, n_steps=8)
    assert not [w for w in caught if "require gradients" in str(w.message)], [str(w.message) for w in caught]
    # and the attributions are still gradient × input: for a linear model, w * (x - base)
    import torch

    lin = torch.nn.Linear(3, 2)
    w = lin.weight.detach().numpy()[1]
    np.testing.assert_allclose(gradient_x_input(lin, X, 1, base), w * (X - base), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gradient_x_input(lin, X, 1), w * X, rtol=1e-5, atol=1e-6)
    assert with_base.shape == plain.shape == (5, 3)
