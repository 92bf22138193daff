"""AppTest for the course pages on the neuron, activations, forward pass and backpropagation:
each renders in both languages, and its main controls and buttons work."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mlcore.config import Task
from mlcore.course.backprop import PARAMS, Example, TinyNet, backprop_trace
from mlcore.course.neuron import count_parameters
from mlcore.dataset import PreparedData
from mlcore.i18n import LANGS, t
from tests.app.conftest import APP, make_app

PAGES = {
    "pages/course_neuron.py": "course.neuron.title",
    "pages/course_activations.py": "course.act.title",
    "pages/course_forward.py": "course.fwd.title",
    "pages/course_backprop.py": "course.bp.title",
}


def _data(n_features: int = 3, name: str = "tiny_course") -> PreparedData:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, n_features)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    names = [f"f{i}" for i in range(n_features)]
    raw = pd.DataFrame(X, columns=names)
    return PreparedData(
        name=name, task=Task.BINARY,
        X_train=X[:12], y_train=y[:12], X_val=X[12:16], y_val=y[12:16], X_test=X[16:], y_test=y[16:],
        feature_names=names, raw_feature_names=names, class_names=["0", "1"],
        raw_train=raw.iloc[:12], raw_val=raw.iloc[12:16], raw_test=raw.iloc[16:], preprocessor=None,
    )


def _with_data(page: str, data: PreparedData, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["lang"] = lang
    at.session_state["data"] = data
    at.run()
    at.switch_page(page)
    at.run()
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert t("err.unexpected", "en") not in [e.value for e in at.error]
    assert t("err.unexpected", "es") not in [e.value for e in at.error]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_in_each_language(page, lang):
    at = make_app(lang, page)
    _ok(at)
    assert at.title[0].value == t(PAGES[page], lang)
    assert any(info.value.startswith("**" + ("Prueba" if lang == "es" else "Try")) for info in at.info)


def test_neuron_formula_and_network_size_follow_the_sliders():
    at = make_app("en", "pages/course_neuron.py")
    at.select_slider(key="course_neuron_w1").set_value(2.0)
    at.select_slider(key="course_neuron_w2").set_value(-1.0)
    at.select_slider(key="course_neuron_b").set_value(0.5)
    at.select_slider(key="course_neuron_x1").set_value(1.0)
    at.select_slider(key="course_neuron_x2").set_value(3.0)
    at.selectbox(key="course_neuron_act").set_value("sigmoid")
    at.run()
    _ok(at)
    expected = f"{1 / (1 + math.exp(0.5)):.3f}"  # z = 2 - 3 + 0.5 = -0.5
    assert any(r"\text{sigmoid}(-0.50) = " + expected in x.value for x in at.latex)
    at.slider(key="course_neuron_n_in").set_value(6)
    at.slider(key="course_neuron_m").set_value(8)
    at.slider(key="course_neuron_q").set_value(5)
    at.slider(key="course_neuron_n_out").set_value(4)
    at.run()
    _ok(at)
    total = count_parameters(6, (8,) * 5 + (4,))
    assert any(f"{total}**" in m.value for m in at.markdown)


def test_spanish_formulas_write_the_decimal_comma_braced_for_latex():
    at = make_app("es", "pages/course_neuron.py")
    for key, value in (("w1", 2.0), ("w2", -1.0), ("b", 0.5), ("x1", 1.0), ("x2", 3.0)):
        at.select_slider(key=f"course_neuron_{key}").set_value(value)
    at.selectbox(key="course_neuron_act").set_value("sigmoid")
    at.run()
    _ok(at)
    expected = f"{1 / (1 + math.exp(0.5)):.3f}".replace(".", "{,}")  # z = 2 - 3 + 0.5 = -0.5
    formula = next(x.value for x in at.latex if r"\text{sigmoide}" in x.value)
    assert r"2{,}0 \cdot 1{,}0 + (-1{,}0) \cdot 3{,}0 + 0{,}5" in formula
    assert r"\text{sigmoide}(-0{,}50) = " + expected in formula and not re.search(r"\d\.\d", formula)


@pytest.mark.parametrize("lang", LANGS)
def test_decimal_sliders_show_the_language_s_mark_and_snap_remembered_values(lang):
    """The course's float sliders read "-0,5" in Spanish (st.slider can only write "-0.50"), and
    a remembered value off their grid comes back on it (float drift) or as the default (past an end)."""
    at = make_app(lang, "pages/course_neuron.py")
    _ok(at)
    w2 = at.select_slider(key="course_neuron_w2")
    mark = "," if lang == "es" else "."
    assert w2.value == -0.5 and w2.options[:3] == [f"-3{mark}0", f"-2{mark}9", f"-2{mark}8"]
    assert len(w2.options) == 61 and w2.options[-1] == f"3{mark}0"
    for remembered, shown in ((0.30000000000000004, 0.3), (7.5, 0.0)):
        at.session_state["course_neuron_b"] = remembered
        at.run()
        _ok(at)
        assert at.select_slider(key="course_neuron_b").value == shown


def test_activations_page_every_function_dead_relus_and_collapse():
    at = make_app("es", "pages/course_activations.py")
    for name in ("sigmoid", "gelu", "leaky_relu", "identity"):
        at.selectbox(key="course_act_name").set_value(name)
        at.run()
        _ok(at)
    at.toggle(key="course_act_compare").set_value(True)
    at.select_slider(key="course_act_shift").set_value(-4.0)
    at.run()
    _ok(at)
    assert any(m.value.startswith("**32 de 32**") for m in at.markdown)  # all dead at -4
    at.selectbox(key="course_act_between").set_value("relu")
    at.run()
    _ok(at)
    assert at.warning and not at.success
    at.selectbox(key="course_act_between").set_value("identity")
    at.run()
    assert at.success and not at.warning


def test_forward_page_batch_slider_and_timing_button():
    at = make_app("en", "pages/course_forward.py")
    at.slider(key="course_fwd_k").set_value(8)
    at.slider(key="course_fwd_hidden").set_value(5)
    at.selectbox(key="course_fwd_act").set_value("tanh")
    at.run()
    _ok(at)
    assert at.success  # the matrices agree with model(x)
    assert any(r"\times 8]" in x.value for x in at.latex)  # Z is (units x 8)
    assert not at.metric
    at.select_slider(key="course_fwd_timing_hidden").set_value(8)
    at.button(key="course_fwd_measure").click()
    at.run()
    _ok(at)
    assert len(at.metric) == 1 and at.metric[0].value.startswith("×")
    at.slider(key="course_fwd_k").set_value(2)  # the measurement stays on screen on later reruns
    at.run()
    assert len(at.metric) == 1


def test_forward_page_uses_the_loaded_dataset():
    at = _with_data("pages/course_forward.py", _data(3))
    _ok(at)
    assert any("tiny_course" in c.value for c in at.caption)
    assert any("f2" in c.value for c in at.caption)  # the feature names are listed
    wide = _with_data("pages/course_forward.py", _data(40, "wide"))
    _ok(wide)
    assert any(c.value == t("course.fwd.wide", "en") for c in wide.caption)


def test_backprop_steps_update_and_new_weights():
    at = make_app("en", "pages/course_backprop.py")
    _ok(at)
    assert at.select_slider(key="course_bp_step").value == 0
    net0 = TinyNet(**{p: at.session_state[f"course_bp_{p}"] for p in PARAMS})
    assert net0 == TinyNet.random(0)
    assert all(at.text_input(key=f"course_bp_{p}_text").value == f"{getattr(net0, p):.3f}" for p in PARAMS)
    for step in range(1, 6):
        at.button(key="course_bp_next").click()
        at.run()
        _ok(at)
        assert at.select_slider(key="course_bp_step").value == step
        if step in (3, 4):
            assert at.success  # chain rule equals autograd
    at.button(key="course_bp_next").click()  # stays on the last step
    at.run()
    assert at.select_slider(key="course_bp_step").value == 5
    expected = backprop_trace(net0, Example(0.5, -1.0, 1.0), "sigmoid", "sigmoid", 0.5)
    at.button(key="course_bp_apply").click()
    at.run()
    _ok(at)
    assert at.select_slider(key="course_bp_step").value == 0
    for p in PARAMS:
        assert at.session_state[f"course_bp_{p}"] == pytest.approx(getattr(expected.new_net, p))
        assert at.text_input(key=f"course_bp_{p}_text").value == f"{getattr(expected.new_net, p):.3f}"  # the box follows
    at.button(key="course_bp_new").click()
    at.run()
    _ok(at)
    assert TinyNet(**{p: at.session_state[f"course_bp_{p}"] for p in PARAMS}) == TinyNet.random(1)


def test_backprop_relu_identity_and_large_rate():
    at = make_app("es", "pages/course_backprop.py")
    at.selectbox(key="course_bp_hidden").set_value("relu")
    at.selectbox(key="course_bp_output").set_value("identity")
    at.select_slider(key="course_bp_lr").set_value(2.0)
    at.select_slider(key="course_bp_step").set_value(4)
    at.run()
    _ok(at)
    assert at.success
    for _ in range(3):  # repeated big updates: weights are clipped to the inputs' range, no crash
        at.select_slider(key="course_bp_step").set_value(5)
        at.run()
        at.button(key="course_bp_apply").click()
        at.run()
        _ok(at)
