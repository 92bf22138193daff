"""Every page in Spanish, with a dataset of real-valued features loaded: no number in its texts,
captions, metrics, formulas or widget labels is written with a decimal point (the Spanish mark
is the comma). Code spans, URLs and module names (``nn.HuberLoss``) are not numbers."""

from __future__ import annotations

import re

import pytest

from mlcore.config import BuiltinConfig, SplitConfig
from mlcore.data import prepare_builtin
from tests.app.conftest import APP, exceptions
from ui.nav import PAGES

POINT = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")  # 0.5, 12.25; not v1.2.3, x.5 or nn.L1
ASIDE = re.compile(r"`[^`]*`|\(https?:[^)]*\)|https?://\S+")


@pytest.fixture(scope="module")
def cancer():
    return prepare_builtin(BuiltinConfig(name="breast_cancer"), SplitConfig())


def _texts(at) -> list[tuple[str, str]]:
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "latex", "subheader", "header",
                 "title", "text"):
        out += [(kind, str(el.value)) for el in getattr(at, kind)]
    out += [("metric", f"{m.label} {m.value}") for m in at.metric]
    for kind in ("button", "selectbox", "slider", "radio", "checkbox", "toggle", "number_input", "select_slider"):
        out += [(kind, str(el.label)) for el in getattr(at, kind)]
    out += [("select_slider", str(o)) for el in at.select_slider for o in el.options]
    return out


def test_the_decimal_point_pattern_finds_numbers_only():
    assert POINT.search("α = 0.5") and POINT.search("(12.25)")
    assert not POINT.search("α = 0,5") and not POINT.search("nn.L1Loss") and not POINT.search("v1.2.3")
    assert not POINT.search(ASIDE.sub("", "`0.5` and (https://x.org/1.2)"))


@pytest.mark.parametrize("page", [p.path for p in PAGES])
def test_no_decimal_point_on_a_spanish_page(page, cancer):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "es"
    at.session_state["data"] = cancer
    at.run()
    at.switch_page(page).run()
    assert not at.exception, exceptions(at)
    found = [(kind, text) for kind, text in _texts(at) if POINT.search(ASIDE.sub("", text))]
    assert not found, found
