"""AppTest for the loss-functions course page: both languages, each loss, the outlier slider."""

from __future__ import annotations

import pytest

from mlcore.i18n import LANGS, t
from tests.app.conftest import make_app

PAGE = "pages/course_losses.py"


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert t("err.unexpected", "en") not in [e.value for e in at.error]


@pytest.mark.parametrize("lang", LANGS)
def test_loss_page_renders_in_each_language(lang):
    at = make_app(lang, PAGE)
    _ok(at)
    assert at.title[0].value == t("course.loss.title", lang)
    assert any("nn.CrossEntropyLoss" in m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert list(table[t("course.loss.col.loss", lang)]) == [t(f"course.loss.name.{n}", lang)
                                                            for n in ("mse", "mae", "huber")]


@pytest.mark.parametrize("lang", LANGS)
def test_huber_s_formula_says_otherwise_in_the_page_s_language(lang):
    at = make_app(lang, PAGE)
    at.selectbox(key="course_loss_name").set_value("huber").run()
    _ok(at)
    word = {"es": "en otro caso", "en": "otherwise"}[lang]
    huber = [x.value for x in at.latex if r"\begin{cases}" in x.value]
    assert len(huber) == 1 and rf"\text{{{word}}}" in huber[0]


def test_each_loss_and_the_outlier_slider():
    at = make_app("en", PAGE)
    for name in ("bce", "mse", "mae", "huber"):
        at.selectbox(key="course_loss_name").set_value(name).run()
        _ok(at)
        assert any(f"`{__import__('mlcore.course.losses', fromlist=['x']).TORCH_NAMES[name]}`" in m.value
                   for m in at.markdown)
    at.select_slider(key="course_loss_delta").set_value(0.5).run()
    _ok(at)
    at.select_slider(key="course_loss_outlier").set_value(20.0).run()
    _ok(at)
    table = at.dataframe[0].value
    assert list(table[t("course.loss.col.outlier_grad", "en")]) == ["40", "1", "1"]
