"""The Explain page through AppTest on trained models: binary, multiclass, regression and digits, in
both languages; results marked out of date when the model changes."""

from __future__ import annotations

import pytest

from mlcore.config import BuiltinConfig, LayerSpec, ModelConfig, OptimConfig, SplitConfig, TrainConfig
from mlcore.data import prepare_builtin
from mlcore.i18n import t
from tests.app.conftest import exceptions

PAGE = "pages/explain.py"


def _trained_app(lang, data, epochs=2):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["data"] = data
    at.session_state["model_cfg"] = ModelConfig(hidden=(LayerSpec(16, "relu"),))
    at.session_state["train_cfg"] = TrainConfig(optim=OptimConfig(lr=0.02), epochs=epochs, batch_size=64)
    at.run()
    at.switch_page("pages/train.py").run()
    at.button(key="t_play").click().run()
    assert at.session_state["controller"].wait(120).state.epoch == epochs
    at.switch_page(PAGE).run()
    assert not at.exception, exceptions(at)
    at.session_state["explain_job_shap"].wait(60)
    at.run()
    assert not at.exception, exceptions(at)
    return at


JOB_TAB = {"shap": "shap", "cf": "cf", "dis": "disagreement", "sal": "saliency", "sal_cf": "saliency"}


def _open_tab(at, tab):
    """Open one of the page's tabs, as a click on it would (hidden tabs do not run)."""
    lang = at.session_state["lang"]
    at.session_state[f"x_tab_{lang}"] = t(f"explain.tab.{tab}", lang)
    at.run()
    assert not at.exception, exceptions(at)


def _run_job(at, name):
    _open_tab(at, JOB_TAB[name])
    at.button(key=f"explain_job_{name}_run").click().run()
    at.session_state[f"explain_job_{name}"].wait(120)
    at.run()
    assert not at.exception, exceptions(at)
    return at.session_state[f"explain_job_{name}"].job


def _texts(at):
    return " ".join([m.value for m in at.markdown] + [w.value for w in at.warning] + [s.value for s in at.success]
                    + [i.value for i in at.info] + [c.value for c in at.caption])


CASES = [("breast_cancer", "es"), ("iris", "en"), ("diabetes", "es"), ("digits", "en")]


@pytest.mark.parametrize(("name", "lang"), CASES, ids=[f"{n}-{lang}" for n, lang in CASES])
def test_explain_page_on_a_trained_model(name, lang):
    data = prepare_builtin(BuiltinConfig(name=name), SplitConfig())
    at = _trained_app(lang, data)
    shap = at.session_state["explain_job_shap"].job.result
    assert shap.method == "deeplift" and shap.additivity_error < 1e-4
    labels = [m.label for m in at.metric]
    assert t("explain.shap.additivity", lang) in labels
    assert t("explain.sur.fidelity.accuracy", lang) not in labels  # the surrogate's tab is hidden: not run
    text = _texts(at)
    if name == "diabetes":
        assert t("explain.output.value", lang, target=data.target_name) in text
    else:
        assert t("explain.method.deeplift", lang) in text
    assert t("err.unexpected", lang) not in [e.value for e in at.error]
    if name == "breast_cancer":  # the built-in classes in the page's language
        assert list(at.selectbox(key="x_shap_class").options) == ["maligno", "benigno"]
    # the rule surrogate shows its fidelity, measured on validation rows
    _open_tab(at, "surrogate")
    labels = [m.label for m in at.metric]
    fidelity = "r2" if name == "diabetes" else "accuracy"
    assert t(f"explain.sur.fidelity.{fidelity}", lang) in labels
    if name != "digits":  # (on digits the image counterfactual below stands for both)
        cf = _run_job(at, "cf").results["cf"]
        assert all(item.valid for item in cf.items)
        if name == "diabetes":  # the target range's boxes print (and read) the Spanish decimal comma
            low = at.text_input(key="x_cf_lo_0_text").value
            assert "," in low and "." not in low, low
            assert float(low.replace(",", ".")) == pytest.approx(at.session_state["x_cf_lo_0"], rel=1e-5)
        if not cf.found:
            assert cf.hint is not None
        dis = _run_job(at, "dis")
        assert set(dis.results) == {"shap", "permutation", "grad_input", "integrated", "surrogate"}
        if lang == "es":  # every tab's texts, tables and metrics with the Spanish decimal comma
            from tests.app.spanish import assert_no_decimal_point

            for tab in ("shap", "cf", "prototypes", "surrogate", "disagreement", "theory"):
                _open_tab(at, tab)
                assert_no_decimal_point(at, f"explain/{name}/{tab}")
    if name == "digits":
        maps = _run_job(at, "sal").results["maps"]
        assert maps.gradient.shape == (64,)
        cf38 = _run_job(at, "sal_cf").results["cf"]
        assert all(int(item.prediction) == 8 for item in cf38.items)
    else:
        _open_tab(at, "saliency")
        assert t("explain.sal.only_images", lang) in _texts(at)


def test_results_are_marked_out_of_date_when_the_model_changes():
    data = prepare_builtin(BuiltinConfig(name="moons", n_samples=200), SplitConfig())
    at = _trained_app("en", data, epochs=1)
    _run_job(at, "cf")
    assert t("explain.stale_model", "en") not in [w.value for w in at.warning]
    ctrl = at.session_state["controller"]
    ctrl.set_train_config(TrainConfig(optim=OptimConfig(lr=0.02), epochs=2, batch_size=64))
    ctrl.step()
    ctrl.wait(60)
    at.run()
    assert not at.exception, exceptions(at)
    assert t("explain.stale_model", "en") in [w.value for w in at.warning]
    # SHAP is cheap: it is recomputed for the current model on its own, once its tab is shown
    _open_tab(at, "shap")
    shap_ctrl = at.session_state["explain_job_shap"]
    shap_ctrl.wait(60)
    assert shap_ctrl.job.meta["fp"][3] == 2


def test_untrained_model_asks_for_training():
    data = prepare_builtin(BuiltinConfig(name="moons", n_samples=100), SplitConfig())
    from tests.app.conftest import make_app

    at = make_app("es")
    at.session_state["data"] = data
    at.switch_page(PAGE).run()
    assert not at.exception, exceptions(at)
    assert t("explain.need_training", "es") in [w.value for w in at.warning]


def test_one_hot_features_are_grouped_and_rules_name_categories():
    from tests.unit.explain_helpers import mixed_data

    data = mixed_data()
    at = _trained_app("en", data, epochs=3)
    assert at.toggle(key="x_shap_group").value is True
    names = list(at.selectbox(key="x_shap_dep").options)
    assert sorted(names) == ["age", "color", "income"]
    at.toggle(key="x_shap_group").set_value(False).run()
    assert not at.exception, exceptions(at)
    assert len(at.selectbox(key="x_shap_dep").options) == data.n_features  # one per one-hot column
    _open_tab(at, "surrogate")
    sur = at.session_state["_explain_sur"][1]
    assert {c.feature for r in sur.rules for c in r.conditions} <= {"age", "income", "color"}
    cf = _run_job(at, "cf").results["cf"]
    for item in cf.items:
        for feature, _, after in item.changes:
            if feature == "color":
                assert after in ("red", "green", "blue")


def test_adopted_weights_are_explained_without_training():
    """A model loaded from a file arrives through ``adopt_weights`` (epoch 0, no history)."""
    import numpy as np

    from tests.app.conftest import make_app

    data = prepare_builtin(BuiltinConfig(name="moons", n_samples=100), SplitConfig())
    at = make_app("en")
    at.session_state["data"] = data
    at.switch_page(PAGE).run()
    assert t("explain.need_training", "en") in [w.value for w in at.warning]
    ctrl = at.session_state["controller"]
    state = {k: np.asarray(v) * 1.5 for k, v in ctrl.snapshot().state.model_state.items()}
    ctrl.adopt_weights(state)
    at.run()
    assert not at.exception, exceptions(at)
    assert t("explain.need_training", "en") not in [w.value for w in at.warning]
    at.session_state["explain_job_shap"].wait(60)
    at.run()
    assert at.session_state["explain_job_shap"].job.result.additivity_error < 1e-4


def test_chosen_rows_survive_a_visit_to_another_page():
    data = prepare_builtin(BuiltinConfig(name="moons", n_samples=200), SplitConfig())
    at = _trained_app("en", data, epochs=1)
    at.number_input(key="x_shap_row").set_value(25).run()
    _open_tab(at, "cf")
    at.number_input(key="x_cf_row").set_value(7).run()
    at.switch_page("pages/train.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception, exceptions(at)
    assert at.number_input(key="x_cf_row").value == 7
    _open_tab(at, "shap")
    assert at.number_input(key="x_shap_row").value == 25


def test_counterfactual_ranges_come_back_after_another_tab():
    """The ranges editor (``st.data_editor``, which has no persist_state) starts from the last
    ranges the student set on this dataset; another dataset starts from the training ranges."""
    from mlcore.plots.style import plain_number

    data = prepare_builtin(BuiltinConfig(name="moons", n_samples=200), SplitConfig())
    at = _trained_app("en", data, epochs=1)
    _open_tab(at, "cf")
    table = at.dataframe(key="x_cf_ranges").value
    first = table.iloc[0, 0]
    token, ranges = at.session_state["_x_cf_ranges"]
    low, high = ranges[first]
    # what the editor shows is what the search will use: the training range, printed in full
    assert (low, high) == (float(data.raw_train[first].min()), float(data.raw_train[first].max()))
    assert (table.iloc[0, 1], table.iloc[0, 2]) == (plain_number(low, 6), plain_number(high, 6))
    _open_tab(at, "shap")
    # what the page keeps after the student narrowed the first feature's range in the editor
    at.session_state["_x_cf_ranges"] = (token, {**ranges, first: (low / 2, high / 2)})
    _open_tab(at, "cf")
    table = at.dataframe(key="x_cf_ranges").value
    assert (table.iloc[0, 1], table.iloc[0, 2]) == (plain_number(low / 2, 6), plain_number(high / 2, 6))
    assert at.session_state["_x_cf_ranges"][1][first] == (low / 2, high / 2)  # exactly, not the print
    at.run()  # while the editor is drawn its table stays put
    assert at.dataframe(key="x_cf_ranges").value.iloc[0, 2] == plain_number(high / 2, 6)
    at.session_state["_x_cf_ranges"] = (("another", "dataset"), {first: (0.0, 0.1)})
    _open_tab(at, "shap")
    _open_tab(at, "cf")
    table = at.dataframe(key="x_cf_ranges").value
    assert (table.iloc[0, 1], table.iloc[0, 2]) == (plain_number(low, 6), plain_number(high, 6))
    assert at.session_state["_x_cf_ranges"][1][first] == (low, high)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_counterfactual_ranges_read_the_language_s_decimal_mark_and_keep_a_bound_that_is_no_number(lang):
    """The editor's number cells read a typed "0,25" as 5: the bounds are text cells, read with
    the session's mark; a cell that is no number keeps its bound, with a message."""
    data = prepare_builtin(BuiltinConfig(name="moons", n_samples=200), SplitConfig())
    at = _trained_app(lang, data, epochs=1)
    _open_tab(at, "cf")
    table = at.dataframe(key="x_cf_ranges").value
    first, second = table.iloc[0, 0], table.iloc[1, 0]
    low_col, high_col = table.columns[1], table.columns[2]
    before = at.session_state["_x_cf_ranges"][1]
    mark = "," if lang == "es" else "."
    assert mark in table.iloc[0, 1] and ("." if lang == "es" else ",") not in table.iloc[0, 1]
    at.session_state["x_cf_ranges"] = {"edited_rows": {0: {low_col: f"-0{mark}25"}, 1: {high_col: "0,4x"}},
                                       "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, exceptions(at)
    ranges = at.session_state["_x_cf_ranges"][1]
    assert ranges[first] == (-0.25, before[first][1])
    assert ranges[second] == before[second]  # "0,4x" is no number: the previous bound stays
    assert [e.value for e in at.error] == [t("explain.cf.bad_range", lang, cells=f"{second}: «0,4x»")]


def test_spanish_csv_shows_original_values_plain_numbers_and_a_row_per_feature(recwarn):
    """The QA's file (edad;ingresos_€;región;compró, incomes with two decimals in the tens of
    thousands): prototypes are the file's rows, thresholds and values read without exponents, the
    disagreement table has one row per feature (3), none empty, and captum does not warn."""
    import re

    import numpy as np
    import pandas as pd

    from mlcore.config import ColumnChoice, Task
    from mlcore.data.prepare import prepare

    rng = np.random.default_rng(0)
    n = 150
    income = np.round(rng.uniform(10000, 70000, n), 2)
    age = rng.integers(18, 70, n)
    df = pd.DataFrame({"edad": age, "ingresos_€": income, "región": rng.choice(["norte", "sur", "este"], n),
                       "compró": np.where(income + 300 * (age - 40) > 40000, "sí", "no")})
    data = prepare(df, ColumnChoice(target="compró", features=("edad", "ingresos_€", "región"), task=Task.BINARY),
                   SplitConfig(seed=0), name="compras")
    at = _trained_app("es", data, epochs=3)
    _open_tab(at, "prototypes")
    kind = t("explain.proto.kind", "es")
    tables = [d.value for d in at.dataframe if kind in d.value.columns]
    assert tables
    original = set(map(tuple, df[["edad", "ingresos_€", "región"]].itertuples(index=False)))
    for table in tables:
        for row in table[["edad", "ingresos_€", "región"]].itertuples(index=False):
            assert tuple(row) in original  # 10307.21, not 10307.2094
    _open_tab(at, "surrogate")
    rules = [line for m in at.markdown if m.value.startswith("- **Si**") for line in m.value.splitlines()]
    assert rules and not any(re.search(r"e[+-]\d", line) for line in rules)
    thresholds = [thr for line in rules for thr in re.findall(r"`ingresos_€ [≤>] ([^`]+)`", line)]
    assert thresholds and all(re.fullmatch(r"\d{5}", thr) for thr in thresholds)  # 32877, not 3,288e+04
    for line in rules:  # one threshold per direction: x > a y x > b reads x > max(a, b)
        assert line.count("`ingresos_€ >") <= 1 and line.count("`ingresos_€ ≤") <= 1
    dis = _run_job(at, "dis")
    assert set(dis.results) == {"shap", "permutation", "grad_input", "integrated", "surrogate"}
    shap_col = t("explain.dis.method.shap", "es")
    top = [d.value for d in at.dataframe if shap_col in d.value.columns]
    assert len(top) == 1 and list(top[0].index) == ["#1", "#2", "#3"]
    assert sorted(top[0][shap_col]) == ["edad", "ingresos_€", "región"]
    assert not [w for w in recwarn if "require gradients" in str(w.message)]


def test_a_result_from_another_dataset_is_not_drawn_on_the_new_features():
    """The QA's steps: Discrepancies on one dataset, then another dataset trained: the old result's
    rankings named the old features by the new ones' positions (an IndexError, shown as the
    page's error box); now it is only said to be old, and Run computes it for the current data."""
    iris = prepare_builtin(BuiltinConfig(name="iris"), SplitConfig())
    at = _trained_app("es", iris, epochs=1)
    old = _run_job(at, "dis")
    assert old.meta["names"] == tuple(iris.feature_names)
    moons = prepare_builtin(BuiltinConfig(name="moons", n_samples=200), SplitConfig())
    at.session_state["data"] = moons
    at.switch_page("pages/train.py").run()
    at.button(key="t_play").click().run()
    assert at.session_state["controller"].wait(120).state.epoch == 1
    at.switch_page(PAGE).run()
    _open_tab(at, "disagreement")
    assert not at.exception, exceptions(at)
    assert t("explain.stale_data", "es") in [w.value for w in at.warning]
    assert not [e for e in at.error if "fallado" in e.value]
    shap_col = t("explain.dis.method.shap", "es")
    assert not [d for d in at.dataframe if shap_col in d.value.columns]
    new = _run_job(at, "dis")
    assert new.meta["names"] == ("x1", "x2")
    top = [d.value for d in at.dataframe if shap_col in d.value.columns]
    assert len(top) == 1 and sorted(top[0][shap_col]) == ["x1", "x2"]
    assert t("explain.stale_data", "es") not in [w.value for w in at.warning]


def test_low_fidelity_at_the_deepest_tree_does_not_ask_for_more_depth():
    from ui.explain import MAX_SURROGATE_DEPTH, fidelity_note

    assert fidelity_note(0.95, "accuracy", 1) == "explain.sur.good_fidelity"
    assert fidelity_note(0.85, "accuracy", MAX_SURROGATE_DEPTH - 1) == "explain.sur.low_fidelity"  # try deeper
    assert fidelity_note(0.85, "accuracy", MAX_SURROGATE_DEPTH) == "explain.sur.low_fidelity_max"  # cannot
    assert fidelity_note(0.85, "r2", 2) == "explain.sur.good_fidelity"
    assert "prueba más profundidad" not in t("explain.sur.low_fidelity_max", "es")
    # and the page draws the deepest tree's verdict without error
    data = prepare_builtin(BuiltinConfig(name="circles", n_samples=200), SplitConfig())
    at = _trained_app("es", data, epochs=3)
    _open_tab(at, "surrogate")
    at.slider(key="x_sur_depth").set_value(MAX_SURROGATE_DEPTH).run()
    assert not at.exception, exceptions(at)
    assert t("explain.sur.low_fidelity", "es") not in [w.value for w in at.warning]
