"""Build and Train pages through AppTest: build, train a few epochs, see metrics, in both languages."""

import pytest

from mlcore.config import BuiltinConfig, LayerSpec, ModelConfig, OptimConfig, SplitConfig, TrainConfig
from mlcore.data import prepare_builtin
from tests.app.conftest import exceptions, make_app


@pytest.fixture(scope="module")
def moons():
    return prepare_builtin(BuiltinConfig(name="moons", n_samples=200), SplitConfig())


def _app_with(lang, data, page, epochs=3):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["data"] = data
    at.session_state["train_cfg"] = TrainConfig(optim=OptimConfig(lr=0.05), epochs=epochs, batch_size=32)
    at.run()
    at.switch_page(page)
    at.run()
    return at


def _open_tab(at, label_key):
    """Open one of the Train page's tabs (hidden tabs do not run), as a click on it would."""
    from mlcore.i18n import t

    lang = at.session_state["lang"]
    at.session_state[f"t_tab_{lang}"] = t(label_key, lang)
    at.run()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_build_then_train_shows_metrics(lang, moons):
    at = _app_with(lang, moons, "pages/build.py")
    assert not at.exception, exceptions(at)
    at.button(key="b_add").click().run()
    assert len(at.session_state["model_cfg"].hidden) == 3
    at.number_input(key="b_units_0").set_value(5).run()
    assert at.session_state["model_cfg"].hidden[0] == LayerSpec(5, "relu")
    at.selectbox(key="b_act_1").set_value("tanh").run()
    assert at.session_state["model_cfg"].hidden[1].activation == "tanh"
    assert not at.exception, exceptions(at)

    at.switch_page("pages/train.py").run()
    assert not at.exception, exceptions(at)
    at.button(key="t_play").click().run()
    ctrl = at.session_state["controller"]
    snap = ctrl.wait(120)
    assert snap.state.epoch == 3
    at.run()
    assert not at.exception, exceptions(at)
    expected = "Exactitud (accuracy)" if lang == "es" else "Accuracy"
    assert expected not in [m.label for m in at.metric]  # a hidden tab does not run
    _open_tab(at, "train.tab.results")
    assert not at.exception, exceptions(at)
    assert expected in [m.label for m in at.metric]
    assert len(at.session_state["runs"]) == 1


def test_changing_learning_rate_while_paused_keeps_training(moons):
    at = _app_with("en", moons, "pages/train.py", epochs=4)
    at.button(key="t_step").click().run()
    ctrl = at.session_state["controller"]
    assert ctrl.wait(60).state.epoch == 1
    at.run()
    at.text_input(key="t_h_lr_text").input("0.2").run()
    assert at.session_state["controller"] is ctrl  # same model: not reset
    assert ctrl.train_cfg.optim.lr == pytest.approx(0.2)
    at.button(key="t_step").click().run()
    assert ctrl.wait(60).state.epoch == 2
    assert not at.exception, exceptions(at)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_optimizer_sliders_show_the_language_s_decimal_mark_and_set_the_config(lang, moons):
    at = _app_with(lang, moons, "pages/train.py", epochs=4)
    at.selectbox(key="t_opt").set_value("momentum").run()
    assert not at.exception, exceptions(at)
    slider = at.select_slider(key="t_h_momentum")
    mark = "," if lang == "es" else "."
    assert slider.value == pytest.approx(0.9) and f"0{mark}90" in slider.options and len(slider.options) == 100
    slider.set_value(0.5).run()
    assert not at.exception, exceptions(at)
    assert at.session_state["train_cfg"].optim.momentum == pytest.approx(0.5)


def test_divergence_message_keeps_last_finite_weights():
    diabetes = prepare_builtin(BuiltinConfig(name="diabetes"), SplitConfig())
    at = _app_with("en", diabetes, "pages/train.py", epochs=5)
    at.session_state["train_cfg"] = TrainConfig(optim=OptimConfig(name="sgd", lr=10.0), epochs=5)
    at.run()
    at.button(key="t_play").click().run()
    snap = at.session_state["controller"].wait(60)
    at.run()
    assert not at.exception, exceptions(at)
    assert snap.state.status == "diverged"
    assert any("diverged" in e.value and f"epoch {snap.state.diverged_epoch}" in e.value for e in at.error)


def test_save_then_load_model_round_trip_and_bad_file(moons):
    from mlcore import persist

    at = _app_with("en", moons, "pages/train.py", epochs=2)
    at.button(key="t_play").click().run()
    trained = at.session_state["controller"].wait(60).state
    _open_tab(at, "train.tab.save")
    payload = persist.save_model(at.session_state["controller"].model_cfg, trained.model_state)
    at.file_uploader(key="s_upload").set_value(("model.safetensors", payload, "application/octet-stream")).run()
    assert not at.exception, exceptions(at)
    assert [s.value for s in at.success]
    loaded = at.session_state["controller"].snapshot().state
    for key, value in trained.model_state.items():
        assert (loaded.model_state[key] == value).all()
    # a pickle is refused with a message and the model stays
    import pickle

    at.file_uploader(key="s_upload").set_value(("evil.safetensors", pickle.dumps({"a": 1}), "application/octet-stream")).run()
    assert not at.exception, exceptions(at)
    assert at.error
    assert at.session_state["controller"].snapshot().state.model_state.keys() == trained.model_state.keys()


def test_share_link_restores_dataset_architecture_and_training():
    from mlcore.share import encode
    from tests.app.conftest import APP
    from streamlit.testing.v1 import AppTest

    model = ModelConfig(hidden=(LayerSpec(12, "tanh"),), init="xavier")
    train = TrainConfig(optim=OptimConfig(name="rmsprop", lr=0.003), batch_size=16, epochs=7)
    source = {"kind": "builtin", "name": "circles", "n_samples": 240, "noise": 0.1, "n_classes": 3, "seed": 5,
              "val_frac": 0.25, "test_frac": 0.0, "split_seed": 1}
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "es"
    at.query_params.update(encode(model, train, source))
    at.run()
    assert not at.exception, exceptions(at)
    assert at.session_state["model_cfg"] == model
    assert at.session_state["train_cfg"] == train
    data = at.session_state["data"]
    assert data.name and data.source["name"] == "circles" and data.n_rows == 240
    assert len(data.y_val) == 60 and len(data.y_test) == 0


def test_tampered_share_link_keeps_defaults_without_error():
    from tests.app.conftest import APP
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "en"
    at.query_params.update({"arch": "999999:relu", "opt": "adam", "lr": "abc", "ds": "nope"})
    at.run()
    assert not at.exception, exceptions(at)
    assert at.session_state["model_cfg"] == ModelConfig()
    assert at.session_state["train_cfg"] == TrainConfig()
    assert at.session_state["data"] is None
    notices = [toast.value for toast in at.toast]
    assert any("'model'" in n for n in notices) and any("'data'" in n for n in notices), notices


@pytest.mark.parametrize("name, metric", [("sin", "R²"), ("spiral", "Accuracy"), ("digits", "Accuracy")])
def test_training_views_for_regression_multiclass_and_many_features(name, metric):
    """1-D regression draws the fitted curve, 3-class 2-D data the boundary, 64 features neither."""
    data = prepare_builtin(BuiltinConfig(name=name, n_samples=150, n_classes=3), SplitConfig())
    at = _app_with("en", data, "pages/train.py", epochs=2)
    at.button(key="t_play").click().run()
    assert at.session_state["controller"].wait(120).state.epoch == 2
    _open_tab(at, "train.tab.results")
    assert not at.exception, exceptions(at)
    assert metric in [m.label for m in at.metric]
    result = at.session_state["controller"].snapshot().result
    if name == "digits":
        assert result.grid_out is None
    else:
        assert result.grid_out is not None


def test_reset_after_some_epochs_records_the_run(moons):
    at = _app_with("en", moons, "pages/train.py", epochs=50)
    at.button(key="t_step").click().run()
    at.session_state["controller"].wait(60)
    at.run()
    assert at.session_state["runs"] == []  # paused, not ended: nothing recorded yet
    at.button(key="t_reset").click().run()
    runs = at.session_state["runs"]
    assert len(runs) == 1 and runs[0].epochs == 1 and runs[0].status == "paused"
    assert at.session_state["controller"].snapshot().state.epoch == 0
    assert not at.exception, exceptions(at)


def test_new_runs_join_the_overlay_and_delete_removes_them(moons):
    at = _app_with("en", moons, "pages/train.py", epochs=2)
    at.button(key="t_play").click().run()
    at.session_state["controller"].wait(60)
    _open_tab(at, "train.tab.runs")
    assert at.multiselect(key="r_chosen").value == [1]
    at.button(key="t_reset").click().run()
    at.button(key="t_play").click().run()
    at.session_state["controller"].wait(60)
    at.run()
    assert at.multiselect(key="r_chosen").value == [1, 2]
    at.multiselect(key="r_chosen").set_value([1]).run()
    at.button(key="r_delete").click().run()
    assert [r.id for r in at.session_state["runs"]] == [2]
    assert not at.exception, exceptions(at)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_train_tab_renders_when_opened(lang, moons):
    """Hidden tabs do not run; each one, once opened, draws its content without an exception."""
    at = _app_with(lang, moons, "pages/train.py", epochs=2)
    at.button(key="t_play").click().run()
    at.session_state["controller"].wait(60)
    at.run()
    for tab, probe in [("train.tab.results", lambda: [m.label for m in at.metric]),
                       ("train.tab.optim", lambda: [len(table.value) for table in at.table]),
                       ("train.tab.runs", lambda: [w.label for w in at.multiselect]),
                       ("train.tab.save", lambda: [b.label for b in at.get("download_button")])]:
        before = probe()
        _open_tab(at, tab)
        assert not at.exception, exceptions(at)
        assert not before and probe(), tab  # absent while hidden, drawn once opened


def test_the_open_tab_stays_open_across_pages_and_languages(moons):
    at = _app_with("en", moons, "pages/train.py", epochs=2)
    _open_tab(at, "train.tab.optim")
    assert len(at.table) == 1
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/train.py").run()
    assert len(at.table) == 1, "the optimizer table's tab was not open any more after another page"
    at.session_state["lang"] = "es"
    at.run()
    assert not at.exception, exceptions(at)
    assert len(at.table) == 1, "a language switch closed the open tab"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_try_tip_names_the_dataset_not_its_id(lang, moons):
    """The closing tip named the sine toy by its id, `sin`, which in Spanish reads "without"."""
    from mlcore.i18n import t

    at = _app_with(lang, moons, "pages/train.py")
    assert not at.exception, exceptions(at)
    tips = [i.value for i in at.info if t("train.try", lang).split("*")[2] in i.value]  # "**Prueba:**" / "**Try:**"
    assert len(tips) == 1, [i.value for i in at.info]
    tip = tips[0]
    assert "`sin`" not in tip and "{" not in tip
    assert {"es": "«Seno»", "en": "*Sine*"}[lang] in tip
    assert t("preset.diverge.title", lang) in tip  # the lesson's own title, as the presets panel shows it
    assert {"es": "tasa de aprendizaje de 5 diverge", "en": "learning rate of 5 diverges"}[lang] in tip


def _train_to_end(at, optim, epochs):
    at.session_state["train_cfg"] = TrainConfig(optim=optim, epochs=epochs, batch_size=32)
    at.run()
    at.button(key="t_play").click().run()
    snap = at.session_state["controller"].wait(120)
    assert snap.state.epoch == epochs
    at.run()
    assert not at.exception, exceptions(at)
    return snap


@pytest.mark.parametrize("lang", ["es", "en"])
def test_unstable_training_is_flagged_on_the_train_page(lang, moons):
    """Adam at learning rate 10 on moons: the loss shoots up in the first epochs and stays at chance;
    the page says so (it used to say only "finished") and points to Evaluate › Diagnosis."""
    from mlcore.i18n import t

    at = _app_with(lang, moons, "pages/train.py")
    snap = _train_to_end(at, OptimConfig(name="adam", lr=10.0), 30)
    assert snap.state.status == "done"
    assert max(r.train_loss for r in snap.state.history) > 50  # the blow-up itself
    title = t("diag.unstable.title", lang)
    warnings = [w.value for w in at.warning if title in w.value]
    assert len(warnings) == 1, [w.value for w in at.warning]
    assert t("diag.unstable.advice", lang) in warnings[0]
    assert "{" not in warnings[0]  # every parameter filled
    link = t("train.unstable.link", lang, page=t("nav.evaluate", lang), tab=t("eval.tab.diagnosis", lang))
    assert at.button(key="t_to_diagnosis").label == link
    cached = at.session_state["_train_diag"]
    at.run()  # an ordinary rerun (a widget, a tab) reuses the diagnosis of the same training state
    assert at.session_state["_train_diag"] is cached
    # a normal learning rate on the same data: no warning (and no link)
    at.button(key="t_reset").click().run()
    _train_to_end(at, OptimConfig(name="adam", lr=0.01), 30)
    assert not [w.value for w in at.warning if title in w.value]
    assert "t_to_diagnosis" not in [b.key for b in at.button]


def test_the_unstable_warning_opens_evaluate_on_its_diagnosis_tab(moons):
    from mlcore.i18n import t

    at = _app_with("es", moons, "pages/train.py")
    _train_to_end(at, OptimConfig(name="adam", lr=10.0), 30)
    at.button(key="t_to_diagnosis").click().run()
    assert not at.exception, exceptions(at)
    # the Diagnosis tab runs (its run chooser and its verdict are drawn), not the first tab
    assert "e_diag_run" in [s.key for s in at.selectbox]
    assert any(t("diag.unstable.title", "es") in e.value for e in at.error)
