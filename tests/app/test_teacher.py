"""Teacher mode and lesson presets through AppTest: hide controls, make the student link, open it
in a fresh session (controls absent, setup applied), unlock; tampered and old links; a preset."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from mlcore.config import BuiltinConfig, OptimConfig, SplitConfig, TrainConfig
from mlcore.data import prepare_builtin
from mlcore.i18n import t
from tests.app.conftest import APP, exceptions


def _fresh(query: dict, lang: str = "en", page: str | None = "pages/train.py") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, exceptions(at)
    return at


def _keys(at, kind) -> set:
    return {w.key for w in getattr(at, kind)}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_teacher_hides_controls_and_the_student_link_opens_with_them_hidden(lang):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["data"] = prepare_builtin(BuiltinConfig(name="xor", n_samples=200), SplitConfig())
    at.session_state["train_cfg"] = TrainConfig(optim=OptimConfig("sgd", lr=0.3), epochs=7, seed=4)
    at.run()
    at.switch_page("pages/train.py").run()
    at.toggle(key="_teacher_widget").set_value(True).run()
    at.multiselect(key="_teacher_hide_train").set_value(["train.optimizer", "train.lr"]).run()
    at.multiselect(key="_teacher_hide_data").set_value(["data.dataset"]).run()
    assert not at.exception, exceptions(at)
    assert "t_opt" in _keys(at, "selectbox")  # the teacher still sees everything
    link = next(c.value for c in at.sidebar.code if "hide=" in c.value and "tm=1" not in c.value)
    query = dict(parse_qsl(urlsplit(link).query))
    assert query["hide"] == "ds,opt,lr" and query["ds"] == "xor"

    student = _fresh(query, lang)
    assert "t_opt" not in _keys(student, "selectbox")
    assert "t_h_lr_text" not in _keys(student, "text_input") and "t_h_lr_text" in _keys(at, "text_input")
    assert "t_epochs" in _keys(student, "number_input")
    ss = student.session_state
    assert ss["train_cfg"] == TrainConfig(optim=OptimConfig("sgd", lr=0.3), epochs=7, seed=4)
    assert ss["data"].name == "xor" and len(ss["data"].y_train) == 120
    assert any(t("teacher.fixed", lang, names="").split(":")[0] in c.value for c in student.caption)
    student.switch_page("pages/data.py").run()
    assert "data_builtin" not in _keys(student, "selectbox")
    student.button(key="teacher_unlock").click().run()
    assert "data_builtin" in _keys(student, "selectbox")
    student.switch_page("pages/train.py").run()
    assert "t_opt" in _keys(student, "selectbox")
    assert not student.exception, exceptions(student)


def test_tampered_link_falls_back_with_notices_and_old_links_open():
    at = _fresh({"arch": "4:relu", "opt": "sgd", "lr": "abc", "hide": "opt,zzz", "tm": "maybe",
                 "preset": "nope.x", "ds": "moons"}, page=None)
    toasts = [x.value for x in at.toast]
    assert t("share.invalid", "en", group="optimizer") in toasts
    assert t("share.invalid", "en", group="hide") in toasts
    assert t("preset.unknown", "en") in toasts
    assert at.session_state["train_cfg"].optim == OptimConfig()  # the optimizer group fell back
    assert at.session_state["hidden_controls"] == ("train.optimizer",)
    old = _fresh({"arch": "4:relu", "opt": "sgd", "lr": "0.1", "ds": "moons", "n": "200"})
    assert old.session_state["train_cfg"].optim.lr == pytest.approx(0.1)
    assert old.session_state["hidden_controls"] == ()


def test_preset_one_click_then_explanation_after_the_run():
    at = _fresh({}, "es")
    at.selectbox(key="p_choose").set_value("diverge").run()
    at.button(key="p_apply_diverge_high").click().run()
    assert not at.exception, exceptions(at)
    ss = at.session_state
    assert ss["data"].name == "sin" and ss["train_cfg"].optim.lr == 5.0 and ss["preset"] == "diverge.high"
    assert any(t("preset.diverge.prompt", "es") in m.value for m in at.markdown)
    at.button(key="t_play").click().run()
    ss["controller"].wait(120)
    at.run()
    assert not at.exception, exceptions(at)
    assert ss["controller"].snapshot().state.status == "diverged"
    assert any(t("preset.diverge.explain", "es") in s.value for s in at.success)
    assert "p_next_low" in _keys(at, "button")


def test_bare_preset_link_sets_up_the_step():
    at = _fresh({"preset": "scaling.raw"})
    ss = at.session_state
    assert ss["data"].name == "wine" and ss["data"].source["scale"] is False
    assert ss["data"].X_train.max() > 100
    assert ss["model_cfg"].hidden[0].units == 16
