"""Tune page through AppTest: a 3-trial study in both languages, its table and plots, the study
list, and "use the best" making the best trial the session's current model."""

import pytest

from mlcore.config import BuiltinConfig, OptimConfig, SplitConfig, TrainConfig
from mlcore.data import prepare_builtin
from mlcore.tune.storage import StudyStore
from mlcore.i18n import t as t_
from tests.app.conftest import APP, exceptions, table_texts


@pytest.fixture(scope="module")
def moons():
    return prepare_builtin(BuiltinConfig(name="moons", n_samples=100), SplitConfig())


def _tune_app(lang, data, epochs, tmp_path, monkeypatch):
    """The Tune page in ``lang`` on ``data``, its studies in a fresh data directory (no PostgreSQL)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MLPLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MLPLAB_STORAGE_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["data"] = data
    at.session_state["train_cfg"] = TrainConfig(optim=OptimConfig(lr=0.05), epochs=epochs, batch_size=32)
    at.run()
    at.switch_page("pages/tune.py").run()
    return at


def _open_tab(at, tab):
    """Open one of the page's tabs, as a click on it would (the study list and the comparison
    run only while open)."""
    from mlcore.i18n import t

    lang = at.session_state["lang"]
    at.session_state[f"tu_tab_{lang}"] = t(f"tune.tab.{tab}", lang)
    at.run()
    assert not at.exception, exceptions(at)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_three_trial_study_runs_lists_plots_and_gives_its_best(lang, moons, tmp_path, monkeypatch):
    at = _tune_app(lang, moons, 3, tmp_path, monkeypatch)
    assert not at.exception, exceptions(at)
    at.number_input(key="tu_trials").set_value(3)
    at.number_input(key="tu_k").set_value(2)
    at.text_input(key="tu_name").set_value("moons-app")
    at.button(key="tu_start").click().run()
    assert not at.exception, exceptions(at)
    snap = at.session_state["tune_job"].wait(120)
    assert snap.mode == "finished", snap.error
    at.run()
    assert not at.exception, exceptions(at)
    study = snap.job.study
    assert len(study.trials) == 3 and study.study_name == "moons-app"
    best = "Mejor valor" if lang == "es" else "Best value"
    shown = f"{study.best_value:.4f}"
    shown = shown.replace(".", ",") if lang == "es" else shown  # the session's decimal mark
    assert any(m.label == best and m.value == shown for m in at.metric)
    # the trials table prints its numbers in the session's language too (the column stays numeric)
    from mlcore.plots.style import plain_number

    table = at.dataframe[0]
    values, texts = table.value, table_texts(table)
    value_col, lr_col = t_("tune.col.value", lang), t_("tune.col.param.lr", lang)
    row = list(values[t_("tune.col.number", lang)]).index(study.best_trial.number)
    assert values[value_col].dtype.kind == "f"
    assert texts[value_col][row] == plain_number(round(study.best_value, 4), 4, decimal_comma=lang == "es")
    wrong = "." if lang == "es" else ","
    assert not [x for x in texts[lr_col] if wrong in str(x)] and any(("," if lang == "es" else ".") in str(x)
                                                                    for x in texts[lr_col])
    assert (tmp_path / "studies" / "moons-app.journal").exists()
    pruned = [t for t in study.trials if t.state.name == "PRUNED" and t.value is not None]
    assert (t_("tune.pruned_value", lang) in [c.value for c in at.caption]) == bool(pruned)

    # the study list shows it (only while its tab is open); its plots render; "use the best"
    # adopts the retrained model
    assert not at.get("plotly_chart") and "tu_pick" not in [w.key for w in at.selectbox]
    _open_tab(at, "studies")
    assert at.selectbox(key="tu_pick").value == "moons-app"
    for kind in ("history", "intermediate", "timeline"):
        at.segmented_control(key="tu_plot").set_value(kind).run()
        assert not at.exception, exceptions(at)
        spec = _figure_spec(at, "tu_fig")
        # Optuna's own English labels, translated after the figure is built
        assert not {"Best Value", "Objective Value", "Intermediate Value", "Trial0", "<extra>COMPLETE</extra>"} & _texts(spec)
        if kind == "history":
            assert ("Mejor valor" if lang == "es" else "Best value") in _texts(spec)
        if kind == "timeline" and lang == "es":
            assert "<extra>completo</extra>" in _texts(spec)
    if lang == "es":  # the study list's texts, tables and metrics with the Spanish decimal comma
        from tests.app.spanish import assert_no_decimal_point

        assert_no_decimal_point(at, "tune/studies")
    at.button(key="tu_use_best").click().run()
    rt = at.session_state["tune_retrain"]
    _open_tab(at, "run")  # the retraining is adopted with the study list closed too
    assert rt.wait(120).mode == "finished"
    at.run()
    assert not at.exception, exceptions(at)
    assert at.session_state["_tune_adopted"] is True
    m, t = at.session_state["model_cfg"], at.session_state["train_cfg"]
    assert m.depth == study.best_params["n_layers"] and t.optim.lr == pytest.approx(study.best_params["lr"])
    ctrl, adopted = at.session_state["controller"], study.best_trial.number
    assert ctrl.model_cfg == m
    # the controller took the retrained run: its weights, its epochs and curves, its validation
    # predictions (the Train and Evaluate pages show it; Reset goes back to the initial weights)
    snap = ctrl.snapshot()
    assert snap.mode == "finished" and snap.state.epoch == t.epochs == len(snap.state.history)
    assert snap.result is not None and len(snap.result.val_pred) == len(moons.y_val)
    assert snap.result.grid_out is not None  # the Train page's decision boundary (moons is 2-D)
    for key, value in rt.job.state.model_state.items():
        assert (snap.state.model_state[key] == value).all()

    # continue the study with one more trial (same sampler and pruner, rebuilt from the study);
    # the list's choices were kept while its tab was closed
    _open_tab(at, "studies")
    assert at.segmented_control(key="tu_plot").value == "timeline" and at.selectbox(key="tu_pick").value == "moons-app"
    assert t_("tune.adopted", lang, number=adopted, name="moons-app") in [s.value for s in at.success]
    at.number_input(key="tu_more").set_value(1)
    at.button(key="tu_continue").click().run()
    assert at.session_state["tune_job"].wait(120).mode == "finished"
    at.run()
    assert not at.exception, exceptions(at)
    assert len(study.trials) == 4 and sorted(t.number for t in study.trials) == [0, 1, 2, 3]

    # the Train page says where its model came from, records it among the runs; Reset forgets it
    at.switch_page("pages/train.py").run()
    assert not at.exception, exceptions(at)
    note = t_("train.from_tune", lang, number=adopted, name="moons-app")
    assert any(i.value == note for i in at.info), [i.value for i in at.info]
    assert any(r.model_cfg == m for r in at.session_state["runs"])  # recorded among the runs
    at.switch_page("pages/evaluate.py")
    at.session_state[f"e_tab_{lang}"] = t_("eval.tab.metrics", lang)
    at.run()
    assert not at.exception, exceptions(at)
    assert any(i.value == note for i in at.info) and t_("train.no_results", lang) not in [i.value for i in at.info]
    at.switch_page("pages/train.py").run()
    at.button(key="t_reset").click().run()
    assert ctrl.snapshot().state.epoch == 0 and not any(i.value == note for i in at.info)
    # back on Tune, the "now your current model" message is gone too: Reset replaced that model
    adopted_msg = t_("tune.adopted", lang, number=adopted, name="moons-app")
    at.switch_page("pages/tune.py").run()
    _open_tab(at, "studies")
    assert at.selectbox(key="tu_pick").value == "moons-app"  # the view that showed it is open
    assert adopted_msg not in [s.value for s in at.success]


def _figure_spec(at, key: str) -> dict:
    import json

    charts = [el for el in at.get("plotly_chart") if key in el.proto.id]
    assert charts, [el.proto.id for el in at.get("plotly_chart")]
    return json.loads(charts[0].proto.spec)


def _texts(spec: dict) -> set[str]:
    """Every string in a figure, and for hover templates their <extra> part too."""
    import re

    out = set()

    def walk(node):
        if isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str):
            out.add(node)
            out.update(re.findall(r"<extra>[^<]*</extra>", node))

    walk({"data": spec.get("data"), "layout": {k: v for k, v in spec.get("layout", {}).items() if k != "template"}})
    return out


def test_a_job_that_stops_or_is_replaced_with_a_trial_running_fails_that_trial(moons, tmp_path, monkeypatch):
    """The session's own abandoned trials: a study job that stopped (its tab was closed and came
    back) or is replaced by Continue while its trial runs ends that trial FAIL with the reason."""
    import time

    from optuna.trial import TrialState

    at = _tune_app("es", moons, 3000, tmp_path, monkeypatch)
    at.number_input(key="tu_trials").set_value(2)
    at.number_input(key="tu_k").set_value(2)
    at.text_input(key="tu_name").set_value("long")
    at.button(key="tu_start").click().run()
    ctrl = at.session_state["tune_job"]

    def wait_for_epochs(job):
        deadline = time.monotonic() + 60
        while (job.current is None or job.current.reported == 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.current is not None and job.current.reported > 0

    wait_for_epochs(ctrl.job)
    ctrl.stop()  # what a closed tab does to the controller (mlcore.jobs: gone for GONE_GRACE_SECONDS)
    ctrl.wait(30)
    at.run()
    assert not at.exception, exceptions(at)
    trial = ctrl.job.study.trials[0]
    assert trial.state == TrialState.FAIL and trial.user_attrs["fail_key"]["key"] == "tune.fail.abandoned.stopped"
    assert "interrumpido en la época" in str(at.dataframe[0].value)  # its reason, in Spanish, in the table

    # Continue the same study while a new job runs: the running trial is given up as replaced
    _open_tab(at, "studies")
    at.number_input(key="tu_more").set_value(1)
    at.button(key="tu_continue").click().run()
    first = at.session_state["tune_job"]
    wait_for_epochs(first.job)
    running = first.job.current.trial.number
    at.button(key="tu_continue").click().run()
    assert at.session_state["tune_job"] is not first
    at.session_state["tune_job"].job.request_stop()
    study = StudyStore(str(tmp_path)).load("long")
    replaced = study.trials[running]
    assert replaced.state == TrialState.FAIL
    assert replaced.user_attrs["fail_key"]["key"] == "tune.fail.abandoned.replaced"
    at.session_state["tune_job"].wait(60)
    assert all(t.state != TrialState.RUNNING for t in StudyStore(str(tmp_path)).load("long").trials)


def test_invalid_name_is_rejected_on_the_page(moons, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MLPLAB_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "en"
    at.session_state["data"] = moons
    at.run()
    at.switch_page("pages/tune.py").run()
    at.text_input(key="tu_name").set_value("../x")
    at.button(key="tu_start").click().run()
    assert not at.exception, exceptions(at)
    assert any("not valid" in e.value for e in at.error)
    assert at.session_state["tune_job"] is None if "tune_job" in at.session_state else True


def test_start_at_once_works_on_a_dataset_with_a_spanish_file_name(moons, tmp_path, monkeypatch):
    """The default study name comes from the dataset's name: "clientes_año" (an uploaded
    clientes_año.csv) used to give a name the page itself refused."""
    from dataclasses import replace

    at = _tune_app("es", replace(moons, name="clientes_año"), 2, tmp_path, monkeypatch)
    assert at.text_input(key="tu_name").value.startswith("clientes_ano-")
    at.number_input(key="tu_trials").set_value(1)
    at.number_input(key="tu_k").set_value(2)
    at.button(key="tu_start").click().run()
    assert not at.exception and not at.error, exceptions(at) or [e.value for e in at.error]
    snap = at.session_state["tune_job"].wait(120)
    assert snap.mode == "finished", snap.error
    assert snap.job.study.study_name.startswith("clientes_ano-") and len(snap.job.study.trials) == 1


def test_random_vs_tpe_comparison_runs_both_studies(moons, tmp_path, monkeypatch):
    at = _tune_app("es", moons, 2, tmp_path, monkeypatch)
    at.number_input(key="tu_k").set_value(2)  # the New-study tab's settings are the comparison's
    _open_tab(at, "compare")
    at.number_input(key="tu_cmp_trials").set_value(2)
    at.button(key="tu_cmp_start").click().run()
    snap = at.session_state["tune_compare"].wait(120)
    assert snap.mode == "finished", snap.error
    at.run()
    assert not at.exception, exceptions(at)
    samplers = [job.settings.sampler for job in snap.job.jobs]
    counts = [len(job.study.trials) for job in snap.job.jobs]
    assert samplers == ["random", "tpe"] and counts == [2, 2], counts
    assert {m.label for m in at.metric} >= {"Aleatorio", "TPE"}


def test_a_retraining_that_diverged_is_not_adopted(moons, tmp_path, monkeypatch):
    """Use the best whose retraining on train + validation diverges: an error in the page's
    language, and the session's model (its configs and its trained run) stays as it was."""
    from dataclasses import replace

    at = _tune_app("es", moons, 2, tmp_path, monkeypatch)
    at.number_input(key="tu_trials").set_value(2)
    at.number_input(key="tu_k").set_value(1)
    at.text_input(key="tu_name").set_value("div")
    at.button(key="tu_start").click().run()
    assert at.session_state["tune_job"].wait(120).mode == "finished"
    at.run()
    at.switch_page("pages/train.py").run()  # the session's own model, untrained
    ss = at.session_state
    before_m, before_t, before_ctrl = ss["model_cfg"], ss["train_cfg"], ss["controller"]
    at.switch_page("pages/tune.py").run()
    from mlcore.tune.objective import RetrainJob

    absorb = RetrainJob.absorb

    def diverging(self, result):  # what train.advance returns once the loss is not finite
        absorb(self, replace(result, state=replace(result.state, status="diverged")))

    monkeypatch.setattr(RetrainJob, "absorb", diverging)
    _open_tab(at, "studies")
    at.button(key="tu_use_best").click().run()
    assert at.session_state["tune_retrain"].wait(120).mode == "finished"
    at.run()
    assert not at.exception, exceptions(at)
    best = at.session_state["tune_best"]
    assert t_("tune.retrain_diverged", "es", number=best["number"], name="div") in [e.value for e in at.error]
    assert not any(s.value.startswith("El trial") for s in at.success)
    assert at.session_state["model_cfg"] == before_m and at.session_state["train_cfg"] == before_t
    assert at.session_state["controller"] is before_ctrl and before_ctrl.snapshot().state.epoch == 0


@pytest.mark.parametrize("lang", ["es", "en"])
def test_search_space_numbers_take_the_language_s_decimal_mark(lang, moons, tmp_path, monkeypatch):
    """The ranges (log10 of the rate and the decay, dropout) and the current values of what is
    off read "-4,0" and "0,05" in Spanish; the space built from them is the same in both."""
    at = _tune_app(lang, moons, 2, tmp_path, monkeypatch)
    at.toggle(key="tu_on_dropout").set_value(True)
    at.toggle(key="tu_on_weight_decay").set_value(True).run()
    assert not at.exception, exceptions(at)
    mark = "," if lang == "es" else "."
    lr = at.select_slider(key="tu_lr")
    assert lr.value == (-4.0, -1.0) and lr.options[:2] == [f"-5{mark}0", f"-4{mark}5"]
    assert at.select_slider(key="tu_drop").value == (0.0, 0.5) and f"0{mark}05" in at.select_slider(key="tu_drop").options
    at.toggle(key="tu_on_lr").set_value(False).run()
    assert t_("tune.param.off", lang, value=f"0{mark}05") in [c.value for c in at.caption]  # the Train page's rate


def test_settings_survive_a_visit_to_another_page(moons, tmp_path, monkeypatch):
    """The search space and the study settings are the student's work: a look at the Build page
    must not put them back to their defaults; a new dataset gets a fresh study name."""
    at = _tune_app("en", moons, 2, tmp_path, monkeypatch)
    at.selectbox(key="tu_sampler").set_value("random")
    at.selectbox(key="tu_pruner").set_value("median")
    at.toggle(key="tu_on_lr").set_value(False)
    at.toggle(key="tu_on_optimizer").set_value(True).run()
    at.slider(key="tu_units").set_value((8, 32))
    at.multiselect(key="tu_opt").set_value(["adamw"])
    at.number_input(key="tu_k").set_value(2)
    at.text_input(key="tu_name").set_value("mine")
    at.run()
    at.switch_page("pages/build.py").run()
    assert not at.exception, exceptions(at)
    at.switch_page("pages/tune.py").run()
    assert not at.exception, exceptions(at)
    assert at.selectbox(key="tu_sampler").value == "random" and at.selectbox(key="tu_pruner").value == "median"
    assert at.toggle(key="tu_on_lr").value is False and at.slider(key="tu_units").value == (8, 32)
    assert at.multiselect(key="tu_opt").value == ["adamw"] and at.number_input(key="tu_k").value == 2
    assert at.text_input(key="tu_name").value == "mine"

    at.session_state["data"] = prepare_builtin(BuiltinConfig(name="iris"), SplitConfig())
    at.run()
    assert not at.exception, exceptions(at)
    assert at.text_input(key="tu_name").value.startswith("iris-")
    assert at.selectbox(key="tu_sampler").value == "random"  # the settings are not the dataset's
