"""Course 2: activation functions, their derivatives, vanishing gradients, dead ReLUs and the
collapse of a network without nonlinearity."""

import numpy as np
import pandas as pd
import streamlit as st

from mlcore.course import course_rows
from mlcore.course.activations import (
    ACTIVATIONS,
    FORMULAS,
    DeadReluScan,
    LinearCollapse,
    activation_curve,
    dead_relu_scan,
    linear_collapse,
)
from mlcore.errors import MLCoreError
from mlcore.i18n import t
from mlcore.plots.course_basics import activation_figure, dead_relu_figure, derivatives_figure, latex_matrix
from mlcore.plots.style import tex_decimal, tex_number
from ui.common import decimal_mark, decimal_slider, fnum, keep, lang, show_error, tr
from ui.projector import show_chart


LANG = lang()  # format_func may run outside this script run (AppTest): bind the language now


# Pure computations with torch (tens of ms each), cached: every widget on this page reruns it.
@st.cache_data(max_entries=128, show_spinner=False)
def cached_dead_relu_scan(X: np.ndarray, shift: float) -> DeadReluScan:
    return dead_relu_scan(X, shift, n_units=32, seed=0)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_linear_collapse(seed: int, activation: str) -> LinearCollapse:
    return linear_collapse(n_in=3, n_hidden=4, n_out=2, k=4, seed=seed, activation=activation)


def act_label(name: str) -> str:
    return t(f"course.act.name.{name}", LANG)


st.title(tr("course.act.title"))
st.markdown(tr("course.act.intro"))

# ---- f and f' ---------------------------------------------------------------------------------
c1, c2 = st.columns([1, 1])
name = c1.selectbox(tr("course.act.choose"), ACTIVATIONS, format_func=act_label, **keep("course_act_name"))
threshold = decimal_slider(c2, tr("course.act.threshold"), 0.0, 0.25, 0.05, 0.01, **keep("course_act_threshold"))
try:
    curve = activation_curve(name, threshold=threshold)
except MLCoreError as err:
    show_error(err)
    st.stop()

dm = decimal_mark()
f_tex, df_tex = FORMULAS[name]
fc1, fc2 = st.columns(2)
fc1.latex(tex_decimal(f_tex, dm))
fc2.latex(tex_decimal(df_tex, dm))
show_chart(st, 
    activation_figure(
        curve,
        f_title=tr("course.act.f_title", name=act_label(name)),
        df_title=tr("course.act.df_title"),
        saturated_label=tr("course.act.saturated", threshold=fnum(threshold, ".2f")),
        zero_label=tr("course.act.zero"),
    ),
    key="course_act_curve",
)
st.markdown(tr("course.act.saturated_share", share=round(100 * curve.saturated_fraction),
               threshold=tex_number(threshold, 2, dm)))
st.markdown(tr(f"course.act.note.{name}"))

if st.toggle(tr("course.act.compare"), **keep("course_act_compare")):
    curves = [activation_curve(a) for a in ACTIVATIONS]
    show_chart(st, 
        derivatives_figure(curves, {a: act_label(a) for a in ACTIVATIONS}, title=tr("course.act.compare_title")),
        key="course_act_all",
    )
st.info(tr("course.act.try"), icon="🧪")

# ---- dead ReLU --------------------------------------------------------------------------------
st.divider()
st.subheader(tr("course.act.dead_title"))
st.markdown(tr("course.act.dead_text"))
rows = course_rows(st.session_state.get("data"), max_rows=1000)
if rows.builtin:
    st.caption(tr("course.basics.builtin_data", name=rows.name))
else:
    st.caption(tr("course.basics.current_data", name=rows.name, rows=rows.X.shape[0]))
shift = decimal_slider(st, tr("course.act.shift"), -4.0, 2.0, 0.0, 0.1, **keep("course_act_shift"))
try:
    scan = cached_dead_relu_scan(rows.X, shift)
except MLCoreError as err:
    show_error(err)
else:
    show_chart(st, 
        dead_relu_figure(
            scan,
            scan_title=tr("course.act.dead_scan"),
            units_title=tr("course.act.dead_units"),
            x_label=tr("course.act.shift"),
            dead_label=tr("course.act.dead_label"),
            alive_label=tr("course.act.alive_label"),
        ),
        key="course_act_dead",
    )
    dead_grad = float(scan.grad_norm[scan.dead].max()) if scan.dead.any() else 0.0
    st.markdown(
        tr("course.act.dead_result", dead=int(scan.dead.sum()), units=scan.n_units, rows=scan.n_rows,
           grad=fnum(dead_grad, ".1f"))
    )
st.info(tr("course.act.dead_try"), icon="🧪")

# ---- no nonlinearity: two layers collapse to one -----------------------------------------------
st.divider()
st.subheader(tr("course.act.collapse_title"))
st.markdown(tr("course.act.collapse_text"))
cc1, cc2 = st.columns(2)
between = cc1.selectbox(tr("course.act.between"), ("identity", "relu", "tanh"), format_func=act_label,
                        **keep("course_act_between"))
seed = cc2.number_input(tr("course.act.seed"), 0, 9999, 0, 1, **keep("course_act_seed"))
try:
    lc = cached_linear_collapse(int(seed), between)
except MLCoreError as err:
    show_error(err)
    st.stop()
st.latex(
    r"W^{(1)} = " + latex_matrix(lc.W1, 1, dm) + r",\; b^{(1)} = " + latex_matrix(lc.b1, 1, dm)
    + r",\quad W^{(2)} = " + latex_matrix(lc.W2, 1, dm) + r",\; b^{(2)} = " + latex_matrix(lc.b2, 1, dm)
)
st.latex(
    r"W = W^{(2)} W^{(1)} = " + latex_matrix(lc.W, 2, dm)
    + r",\quad b = W^{(2)} b^{(1)} + b^{(2)} = " + latex_matrix(lc.b, 2, dm)
)
sep = "; " if dm == "," else ", "  # the values of one instance, apart from their decimal commas
st.markdown(tr("course.act.collapse_compare"))
table = pd.DataFrame(
    {
        tr("course.act.instance"): [f"#{i + 1}" for i in range(lc.X.shape[1])],
        "x": [sep.join(fnum(v, ".1f") for v in col) for col in lc.X.T],
        tr("course.act.two_layers"): [sep.join(fnum(v, ".4f") for v in col) for col in lc.two_layers.T],
        tr("course.act.one_layer"): [sep.join(fnum(v, ".4f") for v in col) for col in lc.one_layer.T],
        tr("course.act.diff"): [fnum(v, ".1e") for v in np.abs(lc.two_layers - lc.one_layer).max(axis=0)],
    }
)
st.dataframe(table, hide_index=True, key="course_act_collapse_table")
if lc.collapses:
    st.success(tr("course.act.collapse_yes", diff=fnum(lc.max_abs_diff, ".1e")), icon="✅")
else:
    st.warning(tr("course.act.collapse_no", name=act_label(between), diff=fnum(lc.max_abs_diff, ".2f")), icon="❗")
st.info(tr("course.act.collapse_try"), icon="🧪")
