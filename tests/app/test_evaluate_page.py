"""Evaluate page through AppTest, in both languages: a 3-fold cross-validation, a 3-point
capacity sweep, diagnosis of a trained run and test looks, with no exception."""

import pytest

from mlcore.config import BuiltinConfig, LayerSpec, ModelConfig, OptimConfig, SplitConfig, TrainConfig
from mlcore.data import prepare_builtin
from tests.app.conftest import exceptions, table_texts


@pytest.fixture(scope="module")
def moons():
    return prepare_builtin(BuiltinConfig(name="moons", n_samples=120), SplitConfig())


def _evaluate_app(lang, data):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["data"] = data
    at.session_state["model_cfg"] = ModelConfig(hidden=(LayerSpec(4),))
    at.session_state["train_cfg"] = TrainConfig(optim=OptimConfig(lr=0.05), epochs=3, batch_size=32)
    at.run()
    at.switch_page("pages/evaluate.py")
    at.run()
    assert not at.exception, exceptions(at)
    return at


def _run_job(at, kind):
    """Press the tab's Start, wait for the job to finish, rerun: its controller."""
    at.button(key=f"eval_job_{kind}_start").click().run()
    ctrl = at.session_state[f"eval_job_{kind}"]
    assert ctrl.wait(120).mode == "finished"
    at.run()
    assert not at.exception, exceptions(at)
    return ctrl


def _open_tab(at, tab):
    """Open one of the page's tabs, as a click on it would (hidden tabs do not run)."""
    from mlcore.i18n import t

    lang = at.session_state["lang"]
    at.session_state[f"e_tab_{lang}"] = t(f"eval.tab.{tab}", lang)
    at.run()
    assert not at.exception, exceptions(at)


def _progress_texts(at) -> list[str]:
    return [el.proto.text for el in at.get("progress")]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_three_fold_cv_and_three_point_sweep(lang, moons):
    at = _evaluate_app(lang, moons)
    _open_tab(at, "cv")
    at.slider(key="e_cv_k").set_value(3).run()
    ctrl = _run_job(at, "cv")
    cv = ctrl.job.results[0]
    assert len(cv.scores) == 3
    mean_label = "Exactitud (accuracy) media ± desviación" if lang == "es" else "Mean Accuracy ± std"
    assert mean_label in [m.label for m in at.metric]
    # the progress counts the folds the student chose (the k folds are one point of the study)
    finished = "Terminado: 3 de 3 particiones" if lang == "es" else "Finished: 3 of 3 folds"
    assert _progress_texts(at) == [finished]

    _open_tab(at, "capacity")
    assert mean_label not in [m.label for m in at.metric]  # the cross-validation tab is hidden now
    at.multiselect(key="e_cap_values_width").set_value([2, 4, 8]).run()
    at.slider(key="e_cap_seeds").set_value(1).run()
    sweep = _run_job(at, "capacity")
    assert [r.key for r in sweep.job.results] == [2, 4, 8]
    assert _progress_texts(at) == ["Terminado: 3 de 3 valores" if lang == "es" else "Finished: 3 of 3 values"]
    assert "e_cap_fig" in at.session_state["_eval_figs"]  # the sweep figure was drawn

    # the results (and the open tab) stay when the user switches page and comes back
    _open_tab(at, "cv")
    at.switch_page("pages/train.py").run()
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception, exceptions(at)
    assert at.session_state["eval_job_cv"] is ctrl and mean_label in [m.label for m in at.metric]
    assert at.slider(key="e_cv_k").value == 3
    _open_tab(at, "capacity")  # and so do the settings of a tab that was closed meanwhile
    assert at.multiselect(key="e_cap_values_width").value == [2, 4, 8] and at.slider(key="e_cap_seeds").value == 1
    _open_tab(at, "cv")

    # a configuration change marks both results out of date
    at.session_state["train_cfg"] = TrainConfig(optim=OptimConfig(lr=0.01), epochs=3, batch_size=32)
    at.run()
    stale = "otro conjunto de datos" if lang == "es" else "another dataset"
    assert sum(stale in w.value for w in at.warning) == 1
    _open_tab(at, "capacity")
    assert sum(stale in w.value for w in at.warning) == 1


def test_diagnosis_and_test_looks_after_training(moons):
    at = _evaluate_app("en", moons)
    ctrl = at.session_state["controller"]
    ctrl.step()
    ctrl.wait(60)
    _open_tab(at, "diagnosis")
    assert any("Too few epochs" in s.value for s in at.info)
    # a recorded run whose validation loss turns up is diagnosed as overfitting, best epoch marked
    import numpy as np

    from mlcore.runs import RunRecord
    from mlcore.train import EpochRecord

    e = np.arange(1, 81)
    train_l, val_l = 0.05 + np.exp(-e / 10), 0.25 + np.exp(-e / 10) + 0.0004 * np.clip(e - 30, 0, None) ** 2
    history = tuple(EpochRecord(int(i), float(t), float(v), 0.9, 0.8, 0.0) for i, t, v in zip(e, train_l, val_l))
    at.session_state["runs"] = [RunRecord(7, "#7 overfit", "moons", ModelConfig(), TrainConfig(), history, "done")]
    at.run()
    at.selectbox(key="e_diag_run").set_value("run7").run()
    assert not at.exception, exceptions(at)
    assert any("Overfitting (high variance)." in s.value for s in at.error)
    assert any("at epoch 3" in s.value for s in at.error)  # the best epoch (about 30-34) is named
    assert at.session_state["_eval_figs"]["diag"][1].layout.yaxis.type != "log"  # only a blow-up needs one
    verdicts = at.dataframe[0].value
    assert len(verdicts) == 2
    _open_tab(at, "process")
    at.button(key="e_test_show").click().run()
    assert at.session_state["eval_test_looks"] == 1
    assert not any("looked at the test set" in w.value for w in at.warning)
    at.button(key="e_test_show").click().run()
    assert at.session_state["eval_test_looks"] == 2
    assert any("looked at the test set 2 times" in w.value for w in at.warning)
    assert not at.exception, exceptions(at)


def test_a_run_whose_loss_blew_up_is_diagnosed_unstable_in_spanish(moons):
    import numpy as np

    from mlcore.runs import RunRecord
    from mlcore.train import EpochRecord

    at = _evaluate_app("es", moons)
    # Adam at lr 10 on moons, as measured: epoch 1 averages 651.6, then the loss sits at chance
    train_l = [651.6, 19.3, 10.6, 2.34, 1.54, 1.02, 1.38] + [0.78 + 0.03 * np.sin(i) for i in range(33)]
    val_l = [8.2, 7.0, 2.4, 2.5, 1.0] + [0.70 + 0.01 * np.cos(i) for i in range(35)]
    history = tuple(EpochRecord(i + 1, float(t), float(v), 0.5, 0.5, 0.0)
                    for i, (t, v) in enumerate(zip(train_l, val_l)))
    at.session_state["runs"] = [RunRecord(3, "#3 Adam α=10", "moons", ModelConfig(), TrainConfig(), history, "done")]
    _open_tab(at, "diagnosis")
    at.selectbox(key="e_diag_run").set_value("run3").run()
    assert not at.exception, exceptions(at)
    box = next(s.value for s in at.error if "Entrenamiento inestable." in s.value)
    assert "651,6" in box and "época 1" in box  # the peak, with the Spanish decimal comma
    assert "940 veces" in box and "e+" not in box  # 651.6 / ln 2, without an exponent
    # the curves on a log axis: on a linear one everything after the blow-up was one flat line
    assert at.session_state["_eval_figs"]["diag"][1].layout.yaxis.type == "log"
    assert not any("Buen ajuste" in s.value for s in at.success)
    reasons = " ".join(m.value for m in at.markdown)
    assert "superó 10 veces la de una predicción constante" in reasons
    assert "Baja la tasa de aprendizaje" in reasons


@pytest.mark.parametrize("lang", ["es", "en"])
def test_bias_variance_on_a_known_toy_and_regression_metrics(lang):
    sin = prepare_builtin(BuiltinConfig(name="sin", n_samples=80, noise=0.2), SplitConfig())
    at = _evaluate_app(lang, sin)
    _open_tab(at, "biasvar")
    at.multiselect(key="e_bv_widths").set_value([2, 4]).run()
    at.slider(key="e_bv_m").set_value(3).run()
    at.number_input(key="e_bv_epochs").set_value(2).run()
    job = _run_job(at, "biasvar")
    assert job.job.meta["source"] == "draws" and job.job.meta["toy"] == ("sin", 0.2)
    figs = at.session_state["_eval_figs"]
    assert "bv_fig" in figs and "bv_fit" in figs  # decomposition and the M fitted curves
    assert len(figs["bv_decs"][1]) == 2 and figs["bv_decs"][1][0].noise == pytest.approx(0.04)
    ctrl = at.session_state["controller"]
    ctrl.step()
    ctrl.wait(60)
    _open_tab(at, "metrics")
    assert "R²" in [m.label for m in at.metric]


def test_stop_keeps_finished_points_and_continue_goes_on(moons):
    at = _evaluate_app("en", moons)
    _open_tab(at, "capacity")
    widths = [1, 2, 4, 8, 16, 32, 64, 128]  # two point groups (5 + 3 points): a Stop keeps whole groups
    at.multiselect(key="e_cap_values_width").set_value(widths).run()
    at.slider(key="e_cap_seeds").set_value(1).run()
    at.number_input(key="e_cap_epochs").set_value(300).run()
    at.button(key="eval_job_capacity_start").click().run()
    ctrl = at.session_state["eval_job_capacity"]
    at.button(key="eval_job_capacity_stop").click().run()
    assert ctrl.wait(60).mode == "stopped"  # the chunk in flight ends, no other starts
    at.run()
    kept = list(ctrl.job.results)
    assert len(kept) in (0, 5)
    assert at.button(key="eval_job_capacity_start").label == "Continue"
    assert not at.exception, exceptions(at)
    at.button(key="eval_job_capacity_start").click().run()
    assert at.session_state["eval_job_capacity"] is ctrl  # the same job went on
    assert ctrl.wait(120).mode == "finished"
    assert [r.key for r in ctrl.job.results] == widths and ctrl.job.results[:len(kept)] == kept
    at.run()
    assert not at.exception, exceptions(at)
    assert at.button(key="eval_job_capacity_start").label == "Start"


def test_settings_in_a_hidden_tab_survive_a_tab_switch(moons):
    """Hidden tabs do not run, and their widgets keep their values (``persist_state="page"``)."""
    at = _evaluate_app("en", moons)
    _open_tab(at, "cv")
    at.slider(key="e_cv_k").set_value(3).run()
    _open_tab(at, "biasvar")
    at.slider(key="e_bv_m").set_value(4).run()
    _open_tab(at, "cv")
    assert at.slider(key="e_cv_k").value == 3
    _open_tab(at, "biasvar")
    assert at.slider(key="e_bv_m").value == 4
    assert not at.exception, exceptions(at)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_regularisation_figure_and_table_show_the_same_gaps(lang, moons):
    """A real small run: the gap in each subplot title is the table's gap for that variant (one
    record: the final losses in evaluation mode), and the progress counts the four variants."""
    import re

    at = _evaluate_app(lang, moons)
    _open_tab(at, "regularisation")
    at.select_slider(key="e_reg_do").set_value(0.5).run()
    at.number_input(key="e_reg_epochs").set_value(15).run()
    ctrl = _run_job(at, "regularisation")
    assert _progress_texts(at) == ["Terminado: 4 de 4 variantes" if lang == "es" else "Finished: 4 of 4 variants"]
    gap = "Distancia val − entr." if lang == "es" else "Gap val − train"
    table = at.dataframe[0].value
    fig = at.session_state["_eval_figs"]["reg_fig"][1]
    titled, title_texts = {}, {}
    for a in fig.layout.annotations:
        m = re.fullmatch(rf"(.+)<br>{re.escape(gap)} (-?[0-9]+)([.,])([0-9]+)", a.text or "")
        if m:
            assert m.group(3) == ("," if lang == "es" else ".")  # the session's decimal mark
            titled[m.group(1)] = float(f"{m.group(2)}.{m.group(4)}")
            title_texts[m.group(1)] = "".join(m.group(2, 3, 4))
    variant = "Variante" if lang == "es" else "Variant"
    tabled = dict(zip(table[variant], table[gap]))
    assert len(titled) == 4 and titled == tabled
    shown = table_texts(at.dataframe[0])  # and the table prints them as the titles do
    assert dict(zip(shown[variant], shown[gap])) == title_texts
    # and both are the final scores (eval mode, whole splits), not the curves' last points
    dropout = next(r.scores[0] for r in ctrl.job.results if r.key == "dropout")
    assert tabled["Dropout"] == round(dropout.val_loss - dropout.train_loss, 4)
    train_col = "Pérdida de entrenamiento" if lang == "es" else "Training loss"
    assert dict(zip(table[variant], table[train_col]))["Dropout"] == round(dropout.train_loss, 4)
    assert any(("sin dropout" if lang == "es" else "without dropout") in c.value for c in at.caption)
