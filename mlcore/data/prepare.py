"""From a raw table to ``PreparedData``: target, features, split, then preprocessing.

The order matters and is the lesson's point about leakage: the rows are split first
(train/validation/test, stratified for classification, seeded), and only then is the
preprocessing fitted, **on the training split only**, and applied to all three splits.

Preprocessing is a scikit-learn ``ColumnTransformer``:

- numeric columns: ``SimpleImputer`` (median or mean of the training split) then, if scaling is
  on, ``StandardScaler`` (mean and standard deviation of the training split);
- categorical columns: missing values become their own category ``NA``, then
  ``OneHotEncoder(handle_unknown="ignore")`` (a category unseen in training encodes as all zeros;
  at most ``MAX_CATEGORIES`` columns per feature, rarer categories grouped as "infrequent").

Each used column gets a ``ColumnReport`` whose action says what was really done (a number is
"standardised" only when it was) and whose notes warn about choices that work against the
model: an identifier-like input (it carries no general signal, only row-by-row memorisation)
and categories merged into "infrequent" by the one-hot cap, with the real counts. A report's first
note is ``note_key`` / ``note_params``, any further ones are in ``more_notes``; ``column_notes``
lists them all.

Date columns become year, month, day and weekday numbers when ``ColumnChoice.date_parts`` is on,
otherwise they are left out with a note. The 2-D and 1-D toys skip preprocessing altogether
(``preprocessor=None``): their inputs are already small numbers, and keeping them in input units
lets the course pages draw decision boundaries and weights in the units the student sees.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlcore.config import BuiltinConfig, ColumnChoice, SplitConfig, Task
from mlcore.data.builtins import check_builtin, load_builtin_table
from mlcore.data.columns import column_kind, infer_task, is_date, is_numeric, max_classes
from mlcore.data.csvfile import CsvTable
from mlcore.dataset import ColumnReport, PreparedData
from mlcore.errors import ConfigError, DataError

MIN_ROWS = 10
MAX_CATEGORIES = 20
IMPUTE_CHOICES = ("median", "mean", "drop")
DATE_PARTS = ("year", "month", "day", "weekday")


# --- target ---------------------------------------------------------------------------------------


def _label(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _encode_target(y: pd.Series, task: Task, target: str,
                   n_rows: int) -> tuple[np.ndarray, list[str] | None, Task]:
    """Class ids (int64) and labels for classification, float32 values for regression."""
    if task is Task.REGRESSION:
        if not is_numeric(y):
            example = str(y.dropna().iloc[0]) if y.notna().any() else ""
            raise DataError("err.data.regression_needs_numbers", target=target, example=example)
        values = y.to_numpy(dtype=np.float64)
        if np.unique(values).size < 2:
            raise DataError("err.data.constant_target", target=target, value=_label(values[0]))
        return values.astype(np.float32), None, Task.REGRESSION
    if isinstance(y.dtype, pd.CategoricalDtype):
        present = set(y.dropna().unique())
        levels = [c for c in y.cat.categories if c in present]
    else:
        levels = sorted(y.dropna().unique().tolist(),
                        key=lambda v: (not isinstance(v, (int, float, np.number)), v))
    labels = [_label(v) for v in levels]
    if len(levels) < 2:
        raise DataError("err.data.single_class", target=target, value=labels[0] if labels else "")
    limit = max_classes(n_rows)
    if len(levels) > limit:
        raise DataError("err.data.too_many_classes", target=target, n_classes=len(levels), n_rows=n_rows,
                        max_classes=limit)
    codes = {v: i for i, v in enumerate(levels)}
    ids = np.array([codes[v] for v in y.tolist()], dtype=np.int64)
    return ids, labels, (Task.BINARY if len(levels) == 2 else Task.MULTICLASS)


# --- split ----------------------------------------------------------------------------------------


def split_indices(n: int, split: SplitConfig,
                  stratify: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Train/val/test row positions (each sorted) and whether the split is stratified.

    Two seeded ``train_test_split`` calls: test off the whole table, then validation off the rest.
    Falls back to a plain random split when a class is too rare to appear in every split.
    """
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)

    def cut(rows: np.ndarray, size: float, labels: np.ndarray | None):
        return train_test_split(rows, test_size=size, random_state=split.seed, shuffle=True,
                                stratify=None if labels is None else labels[rows])

    for labels in ([stratify, None] if stratify is not None else [None]):
        try:
            if split.test_frac > 0:
                rest, test = cut(idx, split.test_frac, labels)
            else:
                rest, test = idx, idx[:0]
            train, val = cut(rest, split.val_frac / (1.0 - split.test_frac), labels)
        except ValueError:
            continue
        return np.sort(train), np.sort(val), np.sort(test), labels is not None
    raise DataError("err.data.too_few_rows", n_rows=n, min_rows=MIN_ROWS)


# --- features -------------------------------------------------------------------------------------


def _date_parts(s: pd.Series, name: str) -> pd.DataFrame:
    return pd.DataFrame({
        f"{name}_year": s.dt.year, f"{name}_month": s.dt.month, f"{name}_day": s.dt.day,
        f"{name}_weekday": s.dt.weekday,
    }, index=s.index).astype("float64")


def _build_preprocessor(numeric: list[str], categorical: list[str], impute: str, scale: bool):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts = []
    if numeric:
        steps = [("impute", SimpleImputer(strategy="mean" if impute == "mean" else "median"))]
        if scale:
            steps.append(("scale", StandardScaler()))
        parts.append(("num", Pipeline(steps), numeric))
    if categorical:
        parts.append(("cat", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="NA")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False,
                                     max_categories=MAX_CATEGORIES)),
        ]), categorical))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


# --- column reports -------------------------------------------------------------------------------

def _number_action(has_missing: bool, impute: str, scaled: bool) -> str:
    """The action key for a numeric input: how its gaps were handled (if it had any) and whether
    it was standardised."""
    if not has_missing:
        return "data.action.number_scaled" if scaled else "data.action.number"
    return {
        ("median", False): "data.action.impute_median", ("median", True): "data.action.impute_median_scaled",
        ("mean", False): "data.action.impute_mean", ("mean", True): "data.action.impute_mean_scaled",
        ("drop", False): "data.action.drop_rows", ("drop", True): "data.action.drop_rows_scaled",
    }[(impute, scaled)]


def _set_notes(report: ColumnReport, notes: list[tuple[str, dict[str, Any]]]) -> None:
    if not notes:
        return
    (report.note_key, report.note_params), report.more_notes = notes[0], list(notes[1:])


def column_notes(report: ColumnReport) -> list[tuple[str, dict[str, Any]]]:
    """Every (catalogue key, params) note of a column report, in the order to show them."""
    if not report.note_key:
        return []
    return [(report.note_key, report.note_params), *report.more_notes]


# --- entry points ---------------------------------------------------------------------------------


def prepare(
    df: pd.DataFrame,
    choice: ColumnChoice,
    split: SplitConfig,
    *,
    name: str = "data",
    image_shape: tuple[int, int] | None = None,
    source: dict[str, Any] | None = None,
) -> PreparedData:
    """Choose target and features, split, and preprocess (fitted on the training split only).

    ``choice.task``: None infers it from the target; ``Task.REGRESSION`` forces regression;
    ``Task.BINARY``/``Task.MULTICLASS`` force classification (binary or multiclass then follows
    from the number of classes). ``choice.features`` must name at least one column.
    """
    return _prepare(df, choice, split, name=name, image_shape=image_shape, source=source, passthrough=False)


def prepare_builtin(cfg: BuiltinConfig, split: SplitConfig) -> PreparedData:
    """Load a built-in dataset and prepare it (toys in input units, real data standardised)."""
    spec = check_builtin(cfg)
    table = load_builtin_table(cfg)
    choice = ColumnChoice(target=table.target, features=tuple(table.features), task=table.task)
    source = {"kind": "builtin", "name": cfg.name, "n_samples": int(cfg.n_samples), "noise": float(cfg.noise),
              "n_classes": int(cfg.n_classes), "seed": int(cfg.seed)}
    return _prepare(table.df, choice, split, name=cfg.name, image_shape=table.image_shape, source=source,
                    passthrough=spec.is_toy)


def prepare_table(table: CsvTable, choice: ColumnChoice, split: SplitConfig) -> PreparedData:
    """``prepare`` for an uploaded file: the reading notes (encoding, decimal comma, sampling...)
    come first in ``notes``, and ``source`` records the file name and digest."""
    stem = table.filename.rsplit(".", 1)[0] or table.filename
    data = prepare(table.df, choice, split, name=stem,
                   source={"kind": "csv", "filename": table.filename, "digest": table.digest})
    data.notes = [*table.notes, *data.notes]
    return data


def rebuild(source: dict[str, Any]) -> PreparedData:
    """Rebuild a built-in dataset from ``PreparedData.source`` (share links). Uploaded files cannot
    be rebuilt without the file: ``DataError("err.data.source_upload")``."""
    if source.get("kind") != "builtin":
        raise DataError("err.data.source_upload", filename=source.get("filename", "?"))
    cfg = BuiltinConfig(name=source["name"], n_samples=int(source["n_samples"]), noise=float(source["noise"]),
                        n_classes=int(source["n_classes"]), seed=int(source["seed"]))
    split = SplitConfig(val_frac=float(source["val_frac"]), test_frac=float(source["test_frac"]),
                        seed=int(source["split_seed"]))
    return prepare_builtin(cfg, split)


def _prepare(df, choice, split, *, name, image_shape, source, passthrough) -> PreparedData:
    if not isinstance(choice, ColumnChoice):
        raise ConfigError("err.data.choice_type", value=type(choice).__name__)
    if choice.impute_numeric not in IMPUTE_CHOICES:
        raise ConfigError("err.data.impute", value=choice.impute_numeric, allowed=", ".join(IMPUTE_CHOICES))
    target = choice.target
    missing_cols = [c for c in (target, *choice.features) if c not in df.columns]
    if missing_cols:
        raise DataError("err.data.unknown_column", column=missing_cols[0],
                        columns=", ".join(str(c) for c in list(df.columns)[:12]))
    features = list(dict.fromkeys(f for f in choice.features if f != target))
    if not features:
        raise DataError("err.data.no_features", target=target)
    notes: list[tuple[str, dict[str, Any]]] = []
    reports: dict[str, ColumnReport] = {}

    work = df[[*features, target]].copy()
    no_target = work[target].isna().to_numpy()
    if no_target.any():
        work = work.loc[~no_target]
        notes.append(("data.note.target_missing", {"target": target, "count": int(no_target.sum())}))

    # Feature kinds: numeric, categorical (text or forced), dates (expanded or dropped).
    numeric: list[str] = []
    categorical: list[str] = []
    date_cols: dict[str, list[str]] = {}
    for col in features:
        s = work[col]
        kind = column_kind(s, col)
        if is_date(s):
            if choice.date_parts:
                parts = _date_parts(s, col)
                work = pd.concat([work.drop(columns=col), parts], axis=1)
                date_cols[col] = list(parts.columns)
                numeric.extend(parts.columns)
            else:
                notes.append(("data.note.date_dropped", {"column": col}))
                reports[col] = ColumnReport(col, "date", int(s.isna().sum()), "data.action.date_dropped",
                                            used=False)
            continue
        if is_numeric(s) and col not in choice.categorical:
            numeric.append(col)
        else:
            if is_numeric(s):  # forced categorical: whole numbers as "3", not "3.0"
                work[col] = s.map(lambda v: None if pd.isna(v) else _label(v)).astype("str")
            elif not (pd.api.types.is_string_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)):
                work[col] = s.map(lambda v: None if pd.isna(v) else str(v)).astype("str")
            categorical.append(col)
        reports[col] = ColumnReport(col, kind if kind in ("constant", "id") else
                                    ("numeric" if col in numeric else "categorical"),
                                    int(s.isna().sum()), "", used=True)
    if not numeric and not categorical:
        raise DataError("err.data.no_features", target=target)
    # Inputs in the order the user listed them, a date's parts where the date was.
    raw_features = [part for col in features for part in date_cols.get(col, [col])
                    if part in numeric or part in categorical]

    if choice.impute_numeric == "drop" and numeric:
        incomplete = work[numeric].isna().any(axis=1).to_numpy()
        if incomplete.any():
            work = work.loc[~incomplete]
            notes.append(("data.note.rows_dropped", {"count": int(incomplete.sum())}))
    n = len(work)
    if n < MIN_ROWS:
        raise DataError("err.data.too_few_rows", n_rows=n, min_rows=MIN_ROWS)

    task = choice.task if choice.task is not None else infer_task(work[target])
    y_all, class_names, task = _encode_target(work[target], task, target, n)

    train, val, test, stratified = split_indices(n, split, y_all if task.is_classification else None)
    if task.is_classification and not stratified:
        notes.append(("data.note.not_stratified", {}))
    raw = work[raw_features]
    raw_train, raw_val, raw_test = raw.iloc[train], raw.iloc[val], raw.iloc[test]

    if passthrough:
        if categorical or raw.isna().any().any():
            raise DataError("err.data.no_features", target=target)  # toys are numeric and complete
        preprocessor = None
        feature_names = list(raw_features)

        def transform(frame: pd.DataFrame) -> np.ndarray:
            return frame.to_numpy(dtype=np.float32)
    else:
        preprocessor = _build_preprocessor(numeric, categorical, choice.impute_numeric, choice.scale)
        preprocessor.fit(raw_train)
        feature_names = [str(f) for f in preprocessor.get_feature_names_out()]

        def transform(frame: pd.DataFrame) -> np.ndarray:
            if len(frame) == 0:  # an empty test split (test_frac = 0)
                return np.zeros((0, len(feature_names)), dtype=np.float32)
            return np.asarray(preprocessor.transform(frame), dtype=np.float32)

    # What happened to each column (in the table's order).
    widths: dict[str, int] = {}
    merged: dict[str, tuple[int, int]] = {}  # column -> (values merged as infrequent, training values)
    if preprocessor is not None and categorical:
        encoder = preprocessor.named_transformers_["cat"].named_steps["onehot"]
        infrequent = getattr(encoder, "infrequent_categories_", [None] * len(categorical))
        for col, cats, rare in zip(categorical, encoder.categories_, infrequent):
            widths[col] = len(cats) - (len(rare) - 1 if rare is not None else 0)
            if rare is not None and len(rare):
                merged[col] = (len(rare), len(cats))
    scaled = bool(choice.scale and not passthrough)
    for col in features:
        rep = reports.get(col)
        if col in date_cols:
            reports[col] = ColumnReport(col, "date", int(df[col].isna().sum()), "data.action.date_parts",
                                        used=True, note_key="data.note.date_parts_cols",
                                        note_params={"columns": ", ".join(date_cols[col])})
            for part in date_cols[col]:
                n_missing = int(work[part].isna().sum())
                reports[part] = ColumnReport(part, "numeric", n_missing,
                                             _number_action(bool(n_missing), choice.impute_numeric, scaled),
                                             used=True, scaled=scaled)
            continue
        if rep is None or not rep.used:
            continue
        col_notes: list[tuple[str, dict[str, Any]]] = []
        if rep.kind == "id":  # chosen although it looks like an identifier
            col_notes.append(("data.note.id_feature", {"unique": int(df[col].nunique(dropna=True)),
                                                       "rows": int(df[col].notna().sum())}))
        if col in numeric:
            rep.action = _number_action(bool(rep.missing), choice.impute_numeric, scaled)
            rep.scaled = scaled
        else:
            rep.action = "data.action.onehot_forced" if col in choice.categorical and is_numeric(df[col]) \
                else "data.action.onehot"
            rep.onehot_width = widths.get(col, 0)
            if col in merged:
                n_merged, n_values = merged[col]
                col_notes.append(("data.note.infrequent", {
                    "merged": n_merged, "distinct": n_values, "cap": MAX_CATEGORIES,
                    "feature": f"{col}_infrequent_sklearn"}))
            if rep.missing:
                col_notes.append(("data.note.missing_category", {"count": rep.missing}))
        _set_notes(rep, col_notes)
    target_action = ("data.action.target_regression" if task is Task.REGRESSION
                     else "data.action.target_classes")
    ordered: list[ColumnReport] = []
    for col in df.columns:
        if col == target:
            ordered.append(ColumnReport(col, "target", int(df[col].isna().sum()), target_action, used=True,
                                        note_key="data.note.n_classes" if class_names else None,
                                        note_params={"n": len(class_names)} if class_names else {}))
        elif col in reports:
            ordered.append(reports[col])
            ordered.extend(reports[p] for p in date_cols.get(col, []))
        else:
            kind = column_kind(df[col], str(col))
            action = {"constant": "data.action.excluded_constant", "id": "data.action.excluded_id"}.get(
                kind, "data.action.not_chosen")
            ordered.append(ColumnReport(str(col), kind, int(df[col].isna().sum()), action, used=False))

    y_dtype = np.float32 if task is Task.REGRESSION else np.int64
    full_source = dict(source or {})
    full_source.setdefault("kind", "table")
    if full_source["kind"] != "builtin":  # a built-in is rebuilt from its config alone
        full_source.update({
            "target": str(target), "features": [str(f) for f in features],
            "task": choice.task.value if choice.task else None, "categorical": list(choice.categorical),
            "scale": bool(choice.scale), "impute_numeric": choice.impute_numeric,
            "date_parts": bool(choice.date_parts),
        })
    full_source.update({"val_frac": float(split.val_frac), "test_frac": float(split.test_frac),
                        "split_seed": int(split.seed)})
    return PreparedData(
        name=name, task=task,
        X_train=transform(raw_train), y_train=y_all[train].astype(y_dtype),
        X_val=transform(raw_val), y_val=y_all[val].astype(y_dtype),
        X_test=transform(raw_test), y_test=y_all[test].astype(y_dtype),
        feature_names=feature_names, raw_feature_names=list(raw_features), class_names=class_names,
        raw_train=raw_train, raw_val=raw_val, raw_test=raw_test, preprocessor=preprocessor,
        target_name=str(target), image_shape=image_shape, columns=ordered, notes=notes, source=full_source,
    )
