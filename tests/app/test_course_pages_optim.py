"""Course pages 4 (gradient descent), 6 (universal approximation) and 7 (why preprocess) render in
both languages and their buttons run without an exception. Settings are kept small (few epochs,
few iterations) so the whole file stays quick."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.config import Task
from mlcore.course.surfaces import gradient_descent
from mlcore.dataset import PreparedData
from mlcore.i18n import LANGS, t
from tests.app.conftest import exceptions, make_app

GRADIENT = "pages/course_gradient.py"
UNIVERSAL = "pages/course_universal.py"
PREPROCESS = "pages/course_preprocess.py"


def _texts(at) -> list[str]:
    return [str(el.value) for kind in ("markdown", "caption", "info", "success", "error", "warning")
            for el in getattr(at, kind)]


def _regression_1d() -> PreparedData:
    x = np.linspace(-2, 2, 30, dtype=np.float32).reshape(-1, 1)
    y = np.sin(2 * x[:, 0]).astype(np.float32)
    raw = pd.DataFrame(x, columns=["x"])
    return PreparedData(
        name="mini_sine", task=Task.REGRESSION, X_train=x[:20], y_train=y[:20], X_val=x[20:25], y_val=y[20:25],
        X_test=x[25:], y_test=y[25:], feature_names=["x"], raw_feature_names=["x"], class_names=None,
        raw_train=raw.iloc[:20], raw_val=raw.iloc[20:25], raw_test=raw.iloc[25:], preprocessor=None,
    )


@pytest.mark.parametrize("lang", LANGS)
def test_gradient_page_descends_and_reports_divergence(lang):
    at = make_app(lang, GRADIENT)
    assert not at.exception, exceptions(at)
    assert at.title[0].value == t("course.gradient.title", lang)
    # the default rate on the convex quadratic converges ...
    assert at.success and not at.error
    # ... and a rate above 2 / lambda_max = 1 diverges, which the page says with the step number
    at.select_slider(key="course_gd_lr_quadratic").set_value(1.1).run()
    assert not at.exception, exceptions(at)
    step = gradient_descent("quadratic", 1.1, 60).diverged_at
    assert step is not None
    expected = t("course.gradient.diverged", lang, step=step, lr="1,1" if lang == "es" else "1.1")
    assert [e.value for e in at.error] == [expected]


@pytest.mark.parametrize("lang", LANGS)
def test_gradient_page_race_and_minibatch_noise(lang):
    at = make_app(lang, GRADIENT)
    at.selectbox(key="course_race_surface").set_value("himmelblau")
    at.slider(key="course_race_steps").set_value(30)
    at.multiselect(key="course_race_methods").set_value(["sgd", "adam", "lars"]).run()
    assert not at.exception, exceptions(at)
    table = at.dataframe[0].value  # the race table comes before the course's table (in an expander)
    assert len(table) == 3
    at.slider(key="course_noise_epochs").set_value(2)
    at.button(key="course_noise_run").click().run()
    assert not at.exception, exceptions(at)
    noise = at.session_state["course_noise"]
    assert [c.batch_size for c in noise.curves] == [1, 32, 150] and noise.dataset == "iris"
    summary = t("course.gradient.noise_summary", lang, label=t("course.gradient.noise_batch", lang, size=1),
                updates=300, loss="X").split("X")[0]
    assert any(text.startswith(summary) for text in _texts(at))


def test_gradient_page_race_with_no_optimizer_asks_for_one():
    at = make_app("en", GRADIENT)
    at.multiselect(key="course_race_methods").set_value([]).run()
    assert not at.exception, exceptions(at)
    assert t("course.gradient.race_pick", "en") in [w.value for w in at.warning]


@pytest.mark.parametrize("lang", LANGS)
def test_universal_page_trains_and_sweeps(lang):
    at = make_app(lang, UNIVERSAL)
    assert not at.exception, exceptions(at)
    assert at.title[0].value == t("course.universal.title", lang)
    at.select_slider(key="course_ua_width").set_value(4)
    at.select_slider(key="course_ua_steps").set_value(25)
    at.slider(key="course_ua_samples").set_value(40)
    at.button(key="course_ua_train").click().run()
    assert not at.exception, exceptions(at)
    fit = at.session_state["course_universal_fit"]["fit"]
    assert fit.n_hidden == 4 and fit.contributions.shape == (4, len(fit.x_grid))
    at.button(key="course_ua_sweep").click().run()
    assert not at.exception, exceptions(at)
    sweep = at.session_state["course_universal_sweep"]["sweep"]
    assert sweep.widths == (1, 2, 4, 8, 16, 32, 64) and len(sweep.train_mse) == 7


def test_universal_page_offers_the_current_1d_dataset():
    at = make_app("en")
    at.session_state["data"] = _regression_1d()
    at.switch_page(UNIVERSAL).run()
    assert not at.exception, exceptions(at)
    box = at.selectbox(key="course_ua_target")
    assert any("mini_sine" in o for o in box.options)  # offered, under the dataset's name
    box.set_value("__data__")
    at.select_slider(key="course_ua_steps").set_value(25)
    at.button(key="course_ua_train").click().run()
    assert not at.exception, exceptions(at)
    stored = at.session_state["course_universal_fit"]
    assert stored["target"].truth is None and len(stored["target"].x) == 20


@pytest.mark.parametrize("lang", LANGS)
def test_preprocess_page_shows_scales_valley_and_trains_both(lang):
    at = make_app(lang, PREPROCESS)
    assert not at.exception, exceptions(at)
    assert at.title[0].value == t("course.preprocess.title", lang)
    kappas = {m.label: m.value for m in at.metric}
    assert set(kappas) == {t("course.preprocess.kappa_raw", lang), t("course.preprocess.kappa_scaled", lang)}
    at.slider(key="course_pp_epochs").set_value(10)
    at.button(key="course_pp_train").click().run()
    assert not at.exception, exceptions(at)
    run = at.session_state["course_preprocess_run"]
    assert run.dataset == "wine" and len(run.raw.train_loss) == 11 and len(run.scaled.train_loss) == 11


def test_preprocess_page_same_feature_twice_warns():
    at = make_app("en", PREPROCESS)
    at.selectbox(key="course_pp_f2_wine").set_value("alcohol").run()
    assert not at.exception, exceptions(at)
    assert t("course.preprocess.same_feature", "en") in [w.value for w in at.warning]
