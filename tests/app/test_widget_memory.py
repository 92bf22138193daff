"""``ui.common.keep``: widget values that come back after a visit to another page, and
remembered values that no longer fit their widget (a smaller dataset, another dataset)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.conftest import exceptions


def _script():
    import streamlit as st

    from ui.common import keep

    ss = st.session_state
    if ss.get("show", True):  # False: the widgets' page is not drawn (another page is open)
        hi = ss.get("hi", 50)
        st.number_input("row", 0, hi, 0, **keep("row", hi=hi))
        st.slider("range", 0, hi, (0, 5), **keep("range", lo=0, hi=hi))
        st.number_input("target", value=1.5, **keep("target", per_data=True))
        st.selectbox("pick", ss.get("opts", ["a", "b", "c"]), **keep("pick"))


class _Data:  # what keep() reads of a dataset: its name and how it was made
    def __init__(self, name, **source):
        self.name, self.source = name, source


def _app():
    at = AppTest.from_function(_script)
    at.session_state["data"] = _Data("moons", n_samples=200)
    return at.run()


def _hide_and_show(at):
    at.session_state["show"] = False
    at.run()
    assert not at.number_input  # nothing drawn: Streamlit would forget a plain widget's value now
    at.session_state["show"] = True
    at.run()
    assert not at.exception, exceptions(at)


def test_values_come_back_after_the_widgets_were_not_drawn():
    at = _app()
    at.number_input(key="row").set_value(40)
    at.slider(key="range").set_value((10, 30))
    at.number_input(key="target").set_value(7.25)
    at.selectbox(key="pick").set_value("c").run()
    _hide_and_show(at)
    assert at.number_input(key="row").value == 40 and at.slider(key="range").value == (10, 30)
    assert at.number_input(key="target").value == 7.25 and at.selectbox(key="pick").value == "c"


def test_a_value_past_a_smaller_bound_starts_from_the_default_instead_of_raising():
    at = _app()
    at.number_input(key="row").set_value(40)
    at.slider(key="range").set_value((10, 30)).run()
    at.session_state["show"] = False
    at.run()
    at.session_state["hi"] = 20  # a smaller dataset: rows 0-20
    at.session_state["opts"] = ["a", "b"]  # and "c" is gone
    at.session_state["show"] = True
    at.run()
    assert not at.exception, exceptions(at)
    assert at.number_input(key="row").value == 0 and at.slider(key="range").value == (0, 5)
    assert at.selectbox(key="pick").value == "a"


def test_a_per_data_value_belongs_to_its_dataset():
    at = _app()
    at.number_input(key="target").set_value(7.25).run()
    at.session_state["data"] = _Data("moons", n_samples=200)  # the same dataset, loaded again
    _hide_and_show(at)
    assert at.number_input(key="target").value == 7.25
    at.session_state["data"] = _Data("moons", n_samples=300)  # another one
    at.run()
    assert not at.exception, exceptions(at)
    assert at.number_input(key="target").value == 1.5
    at.number_input(key="row").set_value(12).run()  # (the others are not per dataset)
    at.session_state["data"] = _Data("iris")
    at.run()
    assert at.number_input(key="row").value == 12


def test_course_pages_keep_their_settings_across_a_page_visit():
    """A teacher sets up a demonstration (a learning rate that diverges, a network's shape),
    looks at another page, comes back: the settings are still there."""
    from tests.app.conftest import make_app

    cases = [("pages/course_gradient.py", "slider", "course_gd_steps", 20),
             ("pages/course_neuron.py", "select_slider", "course_neuron_w1", -2.0),
             ("pages/course_forward.py", "slider", "course_fwd_hidden", 5),
             ("pages/course_losses.py", "select_slider", "course_loss_outlier", 10.0),
             ("pages/course_backprop.py", "select_slider", "course_bp_lr", 1.25)]
    at = make_app("es")
    for page, kind, key, value in cases:
        at.switch_page(page).run()
        getattr(at, kind)(key=key).set_value(value).run()
        assert not at.exception, exceptions(at)
    at.switch_page("pages/data.py").run()
    for page, kind, key, value in cases:
        at.switch_page(page).run()
        assert not at.exception, exceptions(at)
        assert getattr(at, kind)(key=key).value == value, (page, key)
