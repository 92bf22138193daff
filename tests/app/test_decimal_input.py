"""``ui.common.decimal_input``: a number box that reads the language's decimal mark. Streamlit's
own number box dropped the comma as it was typed, so "0,05" became 5 and was taken silently."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from mlcore.i18n import t
from tests.app.conftest import exceptions


def _script():
    import streamlit as st

    from ui.common import decimal_input

    ss = st.session_state
    ss.setdefault("changes", [])

    def changed(name):
        ss["changes"].append((name, ss["lr"]))

    def reset():
        ss["lr"] = 0.3  # the page sets the value itself (a preset, new weights)

    ss["got"] = decimal_input(st, "lr", 1e-5, 10.0, 0.01, ".4g", key="lr", on_change=changed, args=("lr",))
    st.button("reset", key="reset", on_click=reset)


def _app(lang):
    at = AppTest.from_function(_script)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, exceptions(at)
    return at


def _type(at, text):
    at.text_input(key="lr_text").input(text).run()
    assert not at.exception, exceptions(at)


@pytest.mark.parametrize("typed", ["0,05", "0.05", " 0,05 ", "5e-2", "5,0E-2"])
def test_spanish_box_reads_a_comma_or_a_point_and_prints_a_comma(typed):
    at = _app("es")
    assert at.text_input(key="lr_text").value == "0,01" and at.session_state["got"] == 0.01
    _type(at, typed)
    assert at.session_state["got"] == pytest.approx(0.05) and at.session_state["lr"] == pytest.approx(0.05)
    assert at.session_state["changes"] == [("lr", pytest.approx(0.05))]  # the page's callback, once
    assert at.text_input(key="lr_text").value == "0,05" and not at.error


def test_english_box_takes_a_point_and_refuses_a_comma():
    at = _app("en")
    assert at.text_input(key="lr_text").value == "0.01"
    _type(at, "0.05")
    assert at.session_state["got"] == pytest.approx(0.05)
    _type(at, "0,5")  # a thousands separator in English: not guessed
    assert at.session_state["got"] == pytest.approx(0.05) and at.text_input(key="lr_text").value == "0,5"
    assert [e.value for e in at.error] == [t("err.decimal.invalid", "en", text="0,5", example="0.05")]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_bad_text_or_a_value_out_of_range_keeps_the_last_value_and_says_why(lang):
    at = _app(lang)
    _type(at, "abc")
    assert at.session_state["got"] == 0.01 and at.session_state["changes"] == []  # nothing lost, nothing applied
    assert at.text_input(key="lr_text").value == "abc"  # the student's text stays, to correct it
    example = "0,01" if lang == "es" else "0.01"
    assert [e.value for e in at.error] == [t("err.decimal.invalid", lang, text="abc", example=example)]
    _type(at, "50")
    low = "1e-05"
    assert [e.value for e in at.error] == [t("err.decimal.range", lang, text="50", low=low, high="10", example=example)]
    assert at.session_state["got"] == 0.01
    _type(at, "2")  # corrected: applied, the message goes
    assert at.session_state["got"] == 2.0 and not at.error and at.text_input(key="lr_text").value == "2"


def test_a_value_the_page_sets_shows_in_the_box_and_clears_a_pending_error():
    at = _app("es")
    _type(at, "x")
    assert at.error
    at.button(key="reset").click().run()
    assert at.session_state["got"] == 0.3 and at.text_input(key="lr_text").value == "0,3" and not at.error


def test_parse_decimal():
    from ui.common import parse_decimal

    assert parse_decimal("0,05") == 0.05 and parse_decimal("-1,5e-3") == -0.0015 and parse_decimal("2") == 2.0
    assert parse_decimal("0.05", mark=".") == 0.05
    for bad in ("", " ", "1.000,5", "1,2,3", "nan", "inf", "1e400", "abc", "0,05 x"):
        with pytest.raises(ValueError):
            parse_decimal(bad)
    with pytest.raises(ValueError):
        parse_decimal("0,05", mark=".")


def _two_pages():
    import streamlit as st

    from ui.common import decimal_input, keep

    ss = st.session_state
    if ss.get("show", True):
        ss["got"] = decimal_input(st, "l2", 0.0, 1.0, ss.get("cfg", 0.0), key="l2")
        ss["kept"] = decimal_input(st, "x", -5.0, 5.0, 0.5, ".2f", **keep("x"))


def test_like_a_widget_the_value_starts_afresh_after_a_run_without_the_box_unless_kept():
    at = AppTest.from_function(_two_pages)
    at.session_state["lang"] = "es"
    at.run()
    at.text_input(key="l2_text").input("0,001").run()
    at.text_input(key="x_text").input("1,25").run()
    assert at.session_state["got"] == 0.001 and at.session_state["kept"] == 1.25
    at.session_state["show"] = False  # another page
    at.run()
    at.session_state["cfg"] = 0.02  # the configuration changed there (a preset, the Tune page's best)
    at.session_state["show"] = True
    at.run()
    assert not at.exception, exceptions(at)
    assert at.session_state["got"] == 0.02 and at.text_input(key="l2_text").value == "0,02"  # the page's value
    assert at.session_state["kept"] == 1.25 and at.text_input(key="x_text").value == "1,25"  # keep(): remembered
