"""Every page in Spanish, with a dataset of real-valued features loaded: no number in its texts,
captions, metrics, formulas, widget labels or tables is written with a decimal point (the Spanish
mark is the comma). Code spans, URLs and module names (``nn.HuberLoss``) are not numbers."""

from __future__ import annotations

import pytest

from mlcore.config import BuiltinConfig, SplitConfig
from mlcore.data import prepare_builtin
from tests.app.conftest import APP, exceptions, table_texts
from tests.app.spanish import ASIDE, POINT, assert_no_decimal_point
from ui.nav import PAGES

@pytest.fixture(scope="module")
def cancer():
    return prepare_builtin(BuiltinConfig(name="breast_cancer"), SplitConfig())


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
    assert_no_decimal_point(at, page)


def _table_script():
    import math

    import streamlit as st

    from ui.common import number_table

    rows = [{"n": 1, "lr": 0.00213, "small": 1.2e-05, "big": 24963.2, "whole": 3.0, "diff": 2.5e-07, "name": "a"},
            {"n": 2, "lr": 0.1, "small": math.nan, "big": -0.5, "whole": None, "diff": 1e-3, "name": "b"}]
    st.dataframe(number_table(rows, formats={"diff": ".1e"}))
    st.dataframe(number_table([{"n": 1, "name": "no decimals"}]))


@pytest.mark.parametrize("lang, mark", [("es", ","), ("en", ".")])
def test_table_numbers_take_the_language_s_decimal_mark_and_keep_their_digits(lang, mark):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_table_script)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, exceptions(at)
    table, plain_table = at.dataframe
    shown = table_texts(table)
    assert list(shown["lr"]) == ["0.00213".replace(".", mark), "0.1".replace(".", mark)]
    assert shown["small"][0] == "0.000012".replace(".", mark)  # not 0.00001: four significant digits
    assert list(shown["big"]) == ["24963", "-0.5".replace(".", mark)]  # no integer digit dropped, no exponent
    assert shown["whole"][0] == "3" and shown["n"][0] == "1"  # whole numbers as integers
    assert list(shown["diff"]) == ["2.5e-07".replace(".", mark), "1.0e-03".replace(".", mark)]  # its own format
    assert table.value["lr"].dtype.kind == "f" and table.value["small"].isna()[1]  # the column stays numeric
    assert not plain_table.proto.arrow_data.styler.display_values  # nothing to print: no Styler


def test_every_backprop_step_s_tables_in_spanish(cancer):
    """The backprop walk-through's gradient and update tables (steps after the first render)."""
    from streamlit.testing.v1 import AppTest

    from mlcore.course.backprop import STEPS

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "es"
    at.run()
    at.switch_page("pages/course_backprop.py").run()
    tables = 0
    for step in STEPS:
        assert_no_decimal_point(at, f"backprop/{step}")
        tables += len(at.dataframe)
        at.button(key="course_bp_next").click().run()
    assert tables >= 3  # two gradient steps and the update


def test_a_trained_model_s_tabs_in_spanish(cancer):
    """After training (a run recorded, metrics to show) and a cross-validation: every tab of the
    Train and Evaluate pages, in Spanish, with their tables and metrics."""
    from streamlit.testing.v1 import AppTest

    from mlcore.config import OptimConfig, TrainConfig
    from mlcore.i18n import t

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "es"
    at.session_state["data"] = cancer
    at.session_state["train_cfg"] = TrainConfig(optim=OptimConfig(lr=0.0123), epochs=2, batch_size=64)
    at.run()
    at.switch_page("pages/train.py").run()
    at.button(key="t_play").click().run()
    assert at.session_state["controller"].wait(120).mode == "finished"
    at.run()
    for tab in ("train", "results", "optim", "runs", "save"):
        at.session_state["t_tab_es"] = t(f"train.tab.{tab}", "es")
        at.run()
        assert_no_decimal_point(at, f"train/{tab}")
    assert at.session_state["runs"] and "0,0123" in at.session_state["runs"][-1].label
    at.switch_page("pages/evaluate.py").run()
    at.session_state["e_tab_es"] = t("eval.tab.cv", "es")
    at.run()
    at.button(key="eval_job_cv_start").click().run()
    assert at.session_state["eval_job_cv"].wait(120).mode == "finished"
    at.run()
    assert at.dataframe, "the folds table"
    assert_no_decimal_point(at, "evaluate/cv")
    for tab in ("process", "diagnosis", "metrics"):
        at.session_state["e_tab_es"] = t(f"eval.tab.{tab}", "es")
        at.run()
        assert_no_decimal_point(at, f"evaluate/{tab}")
    for page in ("pages/build.py", "pages/explain.py", "pages/tune.py"):  # with the trained model
        at.switch_page(page).run()
        assert_no_decimal_point(at, page)
