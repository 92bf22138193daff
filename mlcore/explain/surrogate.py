"""A rule surrogate: a shallow scikit-learn decision tree fitted to the MODEL's predictions.

The tree learns what the network answers (not the true labels), on the training rows in original
units, so its splits read as rules like ``worst_radius ≤ 16.8 → malignant``. One-hot columns enter
as 0/1 indicators, and their splits read ``color = red`` / ``color ≠ red``. Its **fidelity** is
the agreement with the network on the validation rows it never saw (accuracy of the tree against
the network's classes, or R² against its predicted values): a surrogate with low fidelity
explains another model, not this one.

The rules are read from ``tree_`` (sklearn's ``export_text`` prints thresholds on the one-hot
columns as ``x <= 0.5``, which a class would read as a number). A path that splits the same
feature twice in the same direction is collapsed to its tighter condition (``x > a`` and
``x > b`` read ``x > max(a, b)``; ``x ≤ a`` and ``x ≤ b`` read ``x ≤ min(a, b)``), and once a
path says ``color = red`` its ``color ≠ …`` conditions say nothing more and are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Condition", "Rule", "Surrogate", "collapse_conditions", "fit_surrogate", "surrogate_design"]


@dataclass(frozen=True)
class Condition:
    feature: str
    op: str  # "<=" | ">" | "==" | "!="
    value: object  # threshold (numeric) or category label


@dataclass(frozen=True)
class Rule:
    conditions: tuple[Condition, ...]
    prediction: float  # class index or value
    samples: int  # training rows in this leaf
    purity: float  # share of the leaf's rows with its class (classification), 1 - rel. spread (regression)


@dataclass
class Surrogate:
    tree: object
    rules: list[Rule]
    fidelity: float  # on held-out rows
    fidelity_train: float
    metric: str  # "accuracy" | "r2"
    depth: int
    importances: np.ndarray  # per raw feature (grouped), sums to 1
    feature_names: list[str]


def surrogate_design(layout, X: np.ndarray) -> tuple[np.ndarray, list[tuple[str, str | None]]]:
    """Columns in original units (numeric) and 0/1 indicators (one per category).

    Returns the matrix and, per column, (feature, category or None)."""
    X = np.asarray(X, dtype=np.float64)
    cols, meta = [], []
    for f in layout.features:
        if f.is_categorical:
            for c, label in zip(f.columns, f.categories):
                cols.append((X[:, c] > 0.5).astype(np.float64))
                meta.append((f.name, label))
        else:
            cols.append(X[:, f.columns[0]] * f.scale + f.mean)
            meta.append((f.name, None))
    return np.stack(cols, axis=1), meta


def collapse_conditions(conds) -> tuple[Condition, ...]:
    """The same rule without redundant conditions, in the order the path first tests each
    (feature, direction): the tightest ``<=`` (smallest) and ``>`` (largest) threshold per
    feature; a feature's ``!=`` conditions are dropped when the rule also has its ``==``."""
    tight: dict[tuple[str, str], Condition] = {}
    order: list[tuple[str, str]] = []
    equal = {c.feature for c in conds if c.op == "=="}
    for c in conds:
        if c.op == "!=" and c.feature in equal:
            continue
        key = (c.feature, c.op) if c.op in ("<=", ">") else (c.feature, c.op, c.value)
        if key not in tight:
            tight[key] = c
            order.append(key)
        elif c.op == "<=" and c.value < tight[key].value or c.op == ">" and c.value > tight[key].value:
            tight[key] = c
    return tuple(tight[k] for k in order)


def _rules(tree, meta, classification: bool) -> list[Rule]:
    t = tree.tree_
    rules: list[Rule] = []

    def walk(node, conds):
        if t.children_left[node] == -1:
            value = t.value[node][0]
            n = int(t.n_node_samples[node])
            if classification:
                pred = float(tree.classes_[int(np.argmax(value))])
                purity = float(np.max(value) / max(value.sum(), 1e-12))
            else:
                pred = float(value[0])
                purity = 1.0
            rules.append(Rule(collapse_conditions(conds), pred, n, purity))
            return
        name, label = meta[t.feature[node]]
        thr = float(t.threshold[node])
        if label is None:
            left, right = Condition(name, "<=", thr), Condition(name, ">", thr)
        else:
            left, right = Condition(name, "!=", label), Condition(name, "==", label)
        walk(t.children_left[node], conds + [left])
        walk(t.children_right[node], conds + [right])

    walk(0, [])
    return sorted(rules, key=lambda r: -r.samples)


def fit_surrogate(layout, X_train, pred_train, X_val, pred_val, classification: bool, max_depth: int = 3,
                  seed: int = 0) -> Surrogate:
    """Fit the tree to the model's predictions ``pred_train`` (classes or values); fidelity on val."""
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    A_train, meta = surrogate_design(layout, X_train)
    A_val, _ = surrogate_design(layout, X_val)
    if classification:
        tree = DecisionTreeClassifier(max_depth=max_depth, random_state=seed, min_samples_leaf=3)
        tree.fit(A_train, pred_train)
        score = accuracy_score
    else:
        tree = DecisionTreeRegressor(max_depth=max_depth, random_state=seed, min_samples_leaf=3)
        tree.fit(A_train, pred_train)
        score = r2_score
    fid = float(score(pred_val, tree.predict(A_val))) if len(A_val) else float("nan")
    fid_train = float(score(pred_train, tree.predict(A_train)))
    per_col = tree.feature_importances_
    names = layout.names
    grouped = np.zeros(len(names))
    for imp, (name, _) in zip(per_col, meta):
        grouped[names.index(name)] += imp
    return Surrogate(tree, _rules(tree, meta, classification), fid, fid_train,
                     "accuracy" if classification else "r2", int(tree.get_depth()), grouped, names)
