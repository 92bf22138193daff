"""Preparing a table: task inference, target encoding, stratified seeded splits, preprocessing fitted
on the training split only (no leakage), per-column reports and typed errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcore.config import BuiltinConfig, ColumnChoice, SplitConfig, Task
from mlcore.data import (
    MAX_CATEGORIES,
    column_notes,
    default_choice,
    infer_task,
    max_classes,
    prepare,
    prepare_builtin,
    prepare_table,
    read_csv_bytes,
    split_indices,
)
from mlcore.errors import ConfigError, DataError
from mlcore.i18n import t

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "csv"
SPLIT = SplitConfig(val_frac=0.2, test_frac=0.2, seed=0)


def table(folder: str, name: str):
    return read_csv_bytes((FIXTURES / folder / name).read_bytes(), name)


def numeric_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "a": rng.normal(5.0, 2.0, n),  # different scales, so a leak would show in the statistics
        "b": rng.exponential(10.0, n),
        "c": rng.integers(0, 1000, n).astype(float),
    })
    df["y"] = np.where(df["a"] + 0.1 * df["b"] > 6.0, "alto", "bajo")
    return df


# --- task inference -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["a", "b", "a", "b"], Task.BINARY),
        (["a", "b", "c", "a"], Task.MULTICLASS),
        ([True, False, True, True], Task.BINARY),
        ([0, 1, 1, 0], Task.BINARY),
        ([0.0, 1.0, 2.0, 1.0], Task.MULTICLASS),  # whole numbers, few values -> classes
        (list(np.linspace(0, 1, 50)), Task.REGRESSION),
        (list(range(100)), Task.REGRESSION),  # whole numbers but many values
    ],
)
def test_infer_task(values, task):
    assert infer_task(pd.Series(values)) is task


def test_max_classes_rule():
    assert max_classes(10) == 2 and max_classes(150) == 30 and max_classes(10_000) == 50


# --- splits -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("split", [SplitConfig(0.2, 0.2, 0), SplitConfig(0.15, 0.1, 3),
                                   SplitConfig(0.3, 0.0, 1), SplitConfig(0.25, 0.3, 7)])
@pytest.mark.parametrize("counts", [(50, 50, 50), (120, 30, 9), (300, 40)])
def test_stratified_split_keeps_class_proportions_within_one_row(split, counts):
    y = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(0).shuffle(y)
    train, val, test, stratified = split_indices(len(y), split, y)
    assert stratified
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(len(y)))  # a partition
    overall = np.bincount(y) / len(y)
    for part in (train, val, test):
        if len(part) == 0:
            continue
        got = np.bincount(y[part], minlength=len(counts))
        assert np.all(np.abs(got - overall * len(part)) <= 1.0), (got, overall * len(part))


def test_split_is_seeded_and_sizes_follow_the_fractions():
    a = split_indices(100, SplitConfig(0.2, 0.1, 5), None)
    b = split_indices(100, SplitConfig(0.2, 0.1, 5), None)
    c = split_indices(100, SplitConfig(0.2, 0.1, 6), None)
    assert all(np.array_equal(x, y) for x, y in zip(a[:3], b[:3]))
    assert not np.array_equal(a[2], c[2])
    assert (len(a[0]), len(a[1]), len(a[2])) == (70, 20, 10)


def test_a_class_too_rare_to_stratify_falls_back_to_a_random_split_with_a_note():
    df = numeric_frame(60)
    df.loc[0, "y"] = "raro"  # a class with one row cannot be in every split
    data = prepare(df, ColumnChoice(target="y", features=("a", "b")), SPLIT)
    assert ("data.note.not_stratified", {}) in data.notes
    assert data.n_rows == 60 and data.class_names == ["alto", "bajo", "raro"]


# --- no leakage ---------------------------------------------------------------------------------------


def test_scaler_and_imputer_are_fitted_on_the_training_split_only():
    df = numeric_frame(300)
    df.loc[df.index[::7], "b"] = np.nan  # missing values, imputed with the training median
    data = prepare(df, ColumnChoice(target="y", features=("a", "b", "c")), SPLIT)
    train_raw = df.loc[data.raw_train.index, ["a", "b", "c"]].to_numpy()
    everything = df[["a", "b", "c"]].to_numpy()
    num = data.preprocessor.named_transformers_["num"]
    medians = np.nanmedian(train_raw, axis=0)
    np.testing.assert_allclose(num.named_steps["impute"].statistics_, medians)
    assert not np.allclose(medians, np.nanmedian(everything, axis=0))  # the whole table would differ
    filled = np.where(np.isnan(train_raw), medians, train_raw)
    scaler = num.named_steps["scale"]
    np.testing.assert_allclose(scaler.mean_, filled.mean(axis=0))
    np.testing.assert_allclose(scaler.scale_, filled.std(axis=0))  # population std (ddof=0)
    # training features are exactly standardised; validation/test use the training statistics
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0.0, atol=1e-5)
    val_raw = df.loc[data.raw_val.index, ["a", "b", "c"]].to_numpy()
    expected_val = (np.where(np.isnan(val_raw), medians, val_raw) - filled.mean(axis=0)) / filled.std(axis=0)
    np.testing.assert_allclose(data.X_val, expected_val, rtol=1e-5, atol=1e-5)


def test_mean_imputation_uses_the_training_mean():
    df = numeric_frame(100)
    df.loc[df.index[::5], "a"] = np.nan
    choice = ColumnChoice(target="y", features=("a", "b"), impute_numeric="mean", scale=False)
    data = prepare(df, choice, SPLIT)
    train_a = df.loc[data.raw_train.index, "a"].to_numpy()
    imputer = data.preprocessor.named_transformers_["num"].named_steps["impute"]
    assert imputer.statistics_[0] == pytest.approx(np.nanmean(train_a))
    assert "scale" not in data.preprocessor.named_transformers_["num"].named_steps
    rows = np.isnan(train_a)
    np.testing.assert_allclose(data.X_train[rows, 0], np.nanmean(train_a), rtol=1e-6)


def test_one_hot_categories_come_from_training_and_unknown_ones_encode_as_zeros():
    t = table("good", "categorical_heavy.csv")
    data = prepare_table(t, default_choice(t.df), SPLIT)
    encoder = data.preprocessor.named_transformers_["cat"].named_steps["onehot"]
    assert [list(c) for c in encoder.categories_][0] == sorted(set(data.raw_train["zona"]))
    row = data.raw_test.iloc[:1].copy()
    row["zona"] = "centro"  # never seen in training
    out = data.transform(row)
    zona_cols = [i for i, f in enumerate(data.feature_names) if f.startswith("zona_")]
    assert out.shape == (1, data.n_features) and np.all(out[0, zona_cols] == 0.0)


# --- target encoding ----------------------------------------------------------------------------------


def test_string_target_becomes_class_ids_with_labels():
    t = table("good", "string_target.csv")
    data = prepare_table(t, default_choice(t.df), SPLIT)
    assert data.task is Task.MULTICLASS and data.class_names == ["conejo", "gato", "perro"]
    labels = np.array(data.class_names)[data.y_train]
    assert list(labels) == t.df.loc[data.raw_train.index, "especie"].tolist()
    assert data.y_train.dtype == np.int64


def test_numeric_class_labels_sort_numerically():
    df = pd.DataFrame({"x": np.arange(60.0), "y": [10, 2, 1] * 20})
    data = prepare(df, ColumnChoice(target="y", features=("x",)), SPLIT)
    assert data.class_names == ["1", "2", "10"]


def test_task_override():
    t = table("good", "bom_crlf.csv")  # target lluvia in {0, 1}: inferred binary
    auto = prepare_table(t, default_choice(t.df), SPLIT)
    assert auto.task is Task.BINARY
    forced = prepare_table(t, dataclasses.replace(default_choice(t.df), task=Task.REGRESSION), SPLIT)
    assert forced.task is Task.REGRESSION and forced.y_train.dtype == np.float32
    assert forced.class_names is None
    # "classification" (either class task) resolves to binary/multiclass by the number of classes
    forced2 = prepare_table(t, dataclasses.replace(default_choice(t.df), task=Task.MULTICLASS), SPLIT)
    assert forced2.task is Task.BINARY


def test_rows_without_target_are_dropped_with_a_note():
    t = table("good", "na_heavy.csv")
    data = prepare_table(t, default_choice(t.df), SPLIT)
    assert data.task is Task.REGRESSION
    assert ("data.note.target_missing", {"target": "objetivo", "count": 3}) in data.notes
    assert data.n_rows == len(t.df) - 3
    assert np.isfinite(data.X_train).all() and np.isfinite(data.X_test).all()


# --- reports ------------------------------------------------------------------------------------------


def test_column_reports_say_what_was_done():
    t = table("good", "na_heavy.csv")
    data = prepare_table(t, default_choice(t.df), SPLIT)
    rep = {c.name: c for c in data.columns}
    assert [c.name for c in data.columns] == ["altura", "peso", "color", "objetivo"]
    assert rep["altura"].action == "data.action.impute_median_scaled" and rep["altura"].scaled
    assert rep["altura"].missing == int(t.df.loc[t.df["objetivo"].notna(), "altura"].isna().sum())
    assert rep["color"].kind == "categorical" and rep["color"].action == "data.action.onehot"
    assert rep["color"].onehot_width == 4  # azul, rojo, verde + the "NA" category
    color = [f for f in data.feature_names if f.startswith("color_")]
    assert color == ["color_NA", "color_azul", "color_rojo", "color_verde"]
    assert rep["objetivo"].kind == "target" and rep["objetivo"].action == "data.action.target_regression"
    assert data.notes[0][0] == "data.note.empty_rows"  # reading notes come first


def test_excluded_columns_are_reported():
    t = table("good", "id_constant.csv")
    data = prepare_table(t, default_choice(t.df), SPLIT)
    rep = {c.name: c for c in data.columns}
    assert not rep["id"].used and rep["id"].action == "data.action.excluded_id"
    assert not rep["constante"].used and rep["constante"].action == "data.action.excluded_constant"
    assert data.feature_names == ["medida"]


def test_spanish_excel_file_prepares_end_to_end():
    t = table("good", "spanish_excel.csv")
    data = prepare_table(t, default_choice(t.df), SPLIT)
    assert data.name == "spanish_excel" and data.class_names == ["no", "sí"]
    assert data.n_features == 3 + 4 + 3  # Año, Precio, Superficie + 4 cities + 3 categories
    assert data.notes[:2] == [("data.note.decimal_comma_thousands", {}),
                              ("data.note.encoding", {"encoding": "Windows-1252"})]
    src = data.source
    assert src["kind"] == "csv" and src["filename"] == "spanish_excel.csv" and src["digest"] == t.digest
    assert src["target"] == "Vendido" and src["split_seed"] == 0 and src["date_parts"] is False


def test_date_parts_or_a_note():
    t = table("good", "dates.csv")
    dropped = prepare_table(t, default_choice(t.df), SPLIT)
    assert dropped.feature_names == ["temperatura"]
    assert ("data.note.date_dropped", {"column": "fecha"}) in dropped.notes
    parts = prepare_table(t, dataclasses.replace(default_choice(t.df), date_parts=True),
                          SplitConfig(0.2, 0.2, 0))
    assert parts.raw_feature_names == ["fecha_year", "fecha_month", "fecha_day", "fecha_weekday",
                                       "temperatura"]
    row = parts.raw_train.iloc[0]
    day = t.df.loc[parts.raw_train.index[0], "fecha"]
    assert (row["fecha_year"], row["fecha_month"], row["fecha_day"], row["fecha_weekday"]) == \
        (day.year, day.month, day.day, day.weekday())
    assert {c.name: c.action for c in parts.columns}["fecha"] == "data.action.date_parts"


def test_drop_rows_instead_of_imputing():
    df = numeric_frame(100)
    df.loc[df.index[:10], "a"] = np.nan
    data = prepare(df, ColumnChoice(target="y", features=("a", "b"), impute_numeric="drop"), SPLIT)
    assert data.n_rows == 90 and ("data.note.rows_dropped", {"count": 10}) in data.notes
    assert {c.name: c.action for c in data.columns}["a"] == "data.action.drop_rows_scaled"


@pytest.mark.parametrize("scale", [True, False])
def test_number_actions_say_whether_the_column_was_standardised(scale):
    df = numeric_frame(100)
    df.loc[df.index[:5], "b"] = np.nan
    stamp = pd.Series(pd.date_range("2024-01-01", periods=100, freq="D"))
    df["fecha"] = stamp
    choice = ColumnChoice(target="y", features=("a", "b", "fecha"), scale=scale, date_parts=True)
    data = prepare(df, choice, SPLIT)
    rep = {c.name: c for c in data.columns}
    suffix = "_scaled" if scale else ""
    assert rep["a"].action == f"data.action.number{suffix}" and rep["a"].scaled is scale
    assert rep["b"].action == f"data.action.impute_median{suffix}" and rep["b"].scaled is scale
    assert rep["fecha_year"].action == f"data.action.number{suffix}"
    # and the report tells the truth: standardised columns have training mean 0 and sd 1
    a = data.X_train[:, data.feature_names.index("a")]
    if scale:
        assert abs(a.mean()) < 1e-5 and abs(a.std() - 1.0) < 1e-4
    else:
        np.testing.assert_allclose(a, df.loc[data.raw_train.index, "a"], rtol=1e-6)
    words = (("es", "sin cambios", "estandarizado"), ("en", "kept as is", "standardised"))
    for lang, unchanged, standardised in words:
        text = t(rep["a"].action, lang)
        assert (standardised in text) is scale and (unchanged in text) is not scale
        assert (standardised in t(rep["b"].action, lang)) is scale


def _people(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "nombre": pd.Series([f"Persona {i:03d}" for i in range(n)], dtype="str"),
        "zona": pd.Series([f"z{i % 30:02d}" for i in range(n)], dtype="str"),  # 30 values, 4 rows each
        "edad": rng.integers(18, 80, n),
        "fila": np.arange(n),  # consecutive whole numbers: a row number
        "compró": rng.choice(["sí", "no"], n),
    })


def test_an_identifier_chosen_as_a_feature_gets_a_note_with_the_merged_categories():
    df = _people()
    assert "nombre" not in default_choice(df).features  # left out by default ...
    data = prepare(df, ColumnChoice(target="compró", features=("edad", "nombre")), SPLIT)  # ... but chosen
    rep = {c.name: c for c in data.columns}["nombre"]
    n_train = len(data.raw_train)
    assert n_train == 72  # 120 rows, 20% test, 20% validation
    assert rep.kind == "id" and rep.action == "data.action.onehot" and rep.onehot_width == MAX_CATEGORIES
    # 19 of the 72 training names keep a column; the other 53 share the "infrequent" one
    assert column_notes(rep) == [
        ("data.note.id_feature", {"unique": 120, "rows": 120}),
        ("data.note.infrequent", {"merged": n_train - (MAX_CATEGORIES - 1), "distinct": n_train,
                                  "cap": MAX_CATEGORIES, "feature": "nombre_infrequent_sklearn"}),
    ]
    assert "nombre_infrequent_sklearn" in data.feature_names
    assert sum(f.startswith("nombre_") for f in data.feature_names) == MAX_CATEGORIES
    es = t("data.note.infrequent", "es", **column_notes(rep)[1][1])
    assert "53 de sus 72" in es and "20" in es
    assert "120 valores distintos en 120 filas" in t("data.note.id_feature", "es", unique=120, rows=120)


def test_a_many_valued_category_notes_the_merge_and_its_missing_values_but_is_no_identifier():
    df = _people()
    df.loc[df.index[:3], "zona"] = None
    data = prepare(df, ColumnChoice(target="compró", features=("edad", "zona")), SPLIT)
    rep = {c.name: c for c in data.columns}["zona"]
    seen = data.raw_train["zona"].fillna("NA").nunique()  # "NA" is a category of its own
    assert rep.kind == "categorical" and seen > MAX_CATEGORIES
    assert column_notes(rep) == [
        ("data.note.infrequent", {"merged": seen - (MAX_CATEGORIES - 1), "distinct": seen,
                                  "cap": MAX_CATEGORIES, "feature": "zona_infrequent_sklearn"}),
        ("data.note.missing_category", {"count": 3}),
    ]


def test_a_row_number_chosen_as_a_feature_gets_the_identifier_note_and_few_categories_none():
    df = _people()
    df["region"] = pd.Series(["norte", "sur", "este"] * 40, dtype="str")
    data = prepare(df, ColumnChoice(target="compró", features=("fila", "edad", "region")), SPLIT)
    rep = {c.name: c for c in data.columns}
    assert rep["fila"].kind == "id" and rep["fila"].action == "data.action.number_scaled"
    assert column_notes(rep["fila"]) == [("data.note.id_feature", {"unique": 120, "rows": 120})]
    assert column_notes(rep["edad"]) == [] and column_notes(rep["region"]) == []
    assert rep["region"].onehot_width == 3


def test_numbers_forced_to_categories_are_one_hot_encoded():
    df = pd.DataFrame({"zona": [1, 2, 3] * 20, "x": np.arange(60.0), "y": [0, 1] * 30})
    data = prepare(df, ColumnChoice(target="y", features=("zona", "x"), categorical=("zona",)), SPLIT)
    assert data.feature_names == ["x", "zona_1", "zona_2", "zona_3"]
    assert {c.name: c.action for c in data.columns}["zona"] == "data.action.onehot_forced"


def test_without_scaling_numbers_pass_through():
    df = numeric_frame(50)
    data = prepare(df, ColumnChoice(target="y", features=("a",), scale=False), SPLIT)
    np.testing.assert_allclose(data.X_train[:, 0], df.loc[data.raw_train.index, "a"], rtol=1e-6)


def test_no_test_split():
    data = prepare(numeric_frame(50), ColumnChoice(target="y", features=("a", "b")), SplitConfig(0.2, 0.0, 0))
    assert data.X_test.shape == (0, 2) and data.y_test.shape == (0,) and len(data.raw_test) == 0
    assert len(data.y_train) + len(data.y_val) == 50


# --- errors -------------------------------------------------------------------------------------------


def test_single_class_target():
    t = table("bad", "single_class.csv")
    with pytest.raises(DataError, match=r"The target 'clase' has a single class \('si'\)") as info:
        prepare_table(t, ColumnChoice(target="clase", features=("a", "b")), SPLIT)
    assert info.value.key == "err.data.single_class"


def test_too_many_classes_for_the_rows():
    t = table("bad", "too_many_classes.csv")
    expected = r"'nombre' has 30 classes for only 30 rows \(sensible maximum: 6\)"
    with pytest.raises(DataError, match=expected) as info:
        prepare_table(t, ColumnChoice(target="nombre", features=("a", "b")), SPLIT)
    assert info.value.key == "err.data.too_many_classes"


def test_forcing_classification_on_a_continuous_target_is_refused():
    df = numeric_frame(100)
    with pytest.raises(DataError) as info:
        prepare(df, ColumnChoice(target="a", features=("b",), task=Task.MULTICLASS), SPLIT)
    assert info.value.key == "err.data.too_many_classes"


def test_no_usable_feature():
    t = table("bad", "no_features.csv")
    choice = default_choice(t.df)
    assert choice.target == "y" and choice.features == ()  # id and constant are excluded by default
    with pytest.raises(DataError, match=r"No usable input feature is left to predict 'y'") as info:
        prepare_table(t, choice, SPLIT)
    assert info.value.key == "err.data.no_features"


def test_regression_on_text_is_refused():
    t = table("good", "string_target.csv")
    expected = r"Regression needs a numeric target, but 'especie' holds text"
    with pytest.raises(DataError, match=expected) as info:
        prepare_table(t, dataclasses.replace(default_choice(t.df), task=Task.REGRESSION), SPLIT)
    assert info.value.key == "err.data.regression_needs_numbers"


def test_unknown_column_and_bad_imputation():
    df = numeric_frame(30)
    with pytest.raises(DataError, match=r"Column 'zz' is not in the table"):
        prepare(df, ColumnChoice(target="zz", features=("a",)), SPLIT)
    with pytest.raises(ConfigError, match=r"Unknown imputation 'mode'"):
        prepare(df, ColumnChoice(target="y", features=("a",), impute_numeric="mode"), SPLIT)


def test_too_few_rows():
    with pytest.raises(DataError, match=r"6 rows are left and at least 10") as info:
        prepare(numeric_frame(6), ColumnChoice(target="y", features=("a",)), SPLIT)
    assert info.value.key == "err.data.too_few_rows"


def test_builtin_prepare_is_unchanged_by_a_share_link_round_trip():
    data = prepare_builtin(BuiltinConfig(name="wine"), SPLIT)
    assert data.source["kind"] == "builtin" and "features" not in data.source  # rebuilt from the config alone
