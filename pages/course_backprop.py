"""Course 5: backpropagation on a 2-2-1 network, one example, step by step (chain rule vs autograd)."""

import pandas as pd
import streamlit as st

from mlcore.course.backprop import (
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    PARAMS,
    STEPS,
    Example,
    TinyNet,
    backprop_trace,
    param_label,
)
from mlcore.errors import MLCoreError
from mlcore.i18n import t
from mlcore.plots.course_basics import backprop_figure, latex_number
from ui.common import decimal_input, decimal_mark, decimal_slider, fnum, keep, lang, number_table, show_error, tr
from ui.projector import show_chart

W_LIMIT = 10.0  # bounds of the weight inputs
_SEED = "course_bp_seed"  # seed of the last "new random weights" (page-local)
_STEP = "course_bp_step"


def _wkey(name: str) -> str:
    return f"course_bp_{name}"


def _set_weights(net: TinyNet) -> None:
    for name, value in net.as_dict().items():
        st.session_state[_wkey(name)] = float(min(max(value, -W_LIMIT), W_LIMIT))


def _new_weights() -> None:
    seed = int(st.session_state.get(_SEED, 0)) + 1
    st.session_state[_SEED] = seed
    _set_weights(TinyNet.random(seed))
    st.session_state[_STEP] = 0


def _move(delta: int) -> None:
    st.session_state[_STEP] = min(max(int(st.session_state.get(_STEP, 0)) + delta, 0), len(STEPS) - 1)


def _current() -> tuple[TinyNet, Example]:
    ss = st.session_state
    net = TinyNet(**{name: float(ss[_wkey(name)]) for name in PARAMS})
    return net, Example(float(ss["course_bp_x1"]), float(ss["course_bp_x2"]), float(ss["course_bp_y"]))


def _apply_update() -> None:
    """Replace the weights by the updated ones and go back to the first step (one more iteration)."""
    ss = st.session_state
    try:
        net, example = _current()
        trace = backprop_trace(net, example, ss["course_bp_hidden"], ss["course_bp_output"], float(ss["course_bp_lr"]))
    except MLCoreError:
        return  # the page shows the error on this rerun
    _set_weights(trace.new_net)
    ss[_STEP] = 0


LANG = lang()  # format_func may run outside this script run (AppTest): bind the language now
dm = decimal_mark()  # the decimal mark of the formulas, the diagram and the tables


def hidden_label(name: str) -> str:
    return t(f"course.act.name.{name}", LANG)


if _wkey(PARAMS[0]) not in st.session_state:  # first visit (or widgets reset by a page switch)
    _set_weights(TinyNet.random(int(st.session_state.get(_SEED, 0))))

st.title(tr("course.bp.title"))
st.markdown(tr("course.bp.intro"))
st.latex(r"w_{k+1} = w_k - \alpha \nabla \mathcal{L}(w_k)")
st.latex(
    r"z^{(1)}_i = w^{(1)}_{i1} x_1 + w^{(1)}_{i2} x_2 + b^{(1)}_i,\quad h_i = a\!\left(z^{(1)}_i\right),\quad "
    r"z^{(2)} = w^{(2)}_1 h_1 + w^{(2)}_2 h_2 + b^{(2)},\quad \hat y = g\!\left(z^{(2)}\right),\quad "
    r"L = (\hat y - y)^2"
)

left, right = st.columns([1, 2], gap="large")
with left:
    st.markdown(f"**{tr('course.bp.example')}**")
    e1, e2, e3 = st.columns(3)
    decimal_input(e1, "x₁", -5.0, 5.0, 0.5, ".2f", **keep("course_bp_x1"))
    decimal_input(e2, "x₂", -5.0, 5.0, -1.0, ".2f", **keep("course_bp_x2"))
    decimal_input(e3, tr("course.bp.target"), -5.0, 5.0, 1.0, ".2f", **keep("course_bp_y"))
    hidden = st.selectbox(tr("course.bp.hidden_act"), HIDDEN_ACTIVATIONS, format_func=hidden_label, **keep("course_bp_hidden"))
    output = st.selectbox(tr("course.bp.output_act"), OUTPUT_ACTIVATIONS, format_func=hidden_label, **keep("course_bp_output"))
    lr = decimal_slider(st, tr("course.bp.lr"), 0.01, 2.0, 0.5, 0.01, **keep("course_bp_lr"))
    with st.expander(tr("course.bp.weights"), expanded=False):
        cols = st.columns(3)
        for i, name in enumerate(PARAMS):
            decimal_input(cols[i % 3], param_label(name), -W_LIMIT, W_LIMIT, st.session_state[_wkey(name)], ".3f",
                          **keep(_wkey(name)))
    st.button(tr("course.bp.new_weights"), key="course_bp_new", on_click=_new_weights, icon=":material/casino:")

try:
    net, example = _current()
    trace = backprop_trace(net, example, hidden, output, lr)
except MLCoreError as err:
    show_error(err)
    st.stop()

with right:
    st.select_slider(tr("course.bp.step"), options=list(range(len(STEPS))),
                     format_func=lambda i: f"{i + 1}. {t(f'course.bp.step.{STEPS[i]}', LANG)}", **keep(_STEP))
    b1, b2, _ = st.columns([1, 1, 3])
    b1.button(tr("course.bp.prev"), key="course_bp_prev", on_click=_move, args=(-1,), icon=":material/arrow_back:")
    b2.button(tr("course.bp.next"), key="course_bp_next", on_click=_move, args=(1,), icon=":material/arrow_forward:")
    step = int(st.session_state.get(_STEP, 0))
    show_chart(st, 
        backprop_figure(trace, step, [tr("course.bp.layer_in"), tr("course.bp.layer_hidden"), tr("course.bp.layer_out")],
                        decimal=dm),
        key="course_bp_diagram",
    )
    st.caption(tr("course.bp.legend"))

fw = trace.forward
st.subheader(f"{step + 1}. {tr(f'course.bp.step.{STEPS[step]}')}")
st.markdown(tr(f"course.bp.explain.{STEPS[step]}"))
a, g = hidden_label(hidden), hidden_label(output)


def n(value: float, digits: int = 2) -> str:
    return latex_number(value, digits, dm)


if STEPS[step] == "fwd_hidden":
    for i in (1, 2):
        w_a, w_b, bias = net.W1[i - 1, 0], net.W1[i - 1, 1], net.b1[i - 1]
        st.latex(
            rf"z^{{(1)}}_{i} = {n(w_a)} \cdot {n(example.x1)} + {n(w_b)} \cdot {n(example.x2)} + {n(bias)} = "
            rf"{n(fw.z1[i - 1], 4)},\qquad h_{i} = \text{{{a}}}({n(fw.z1[i - 1], 4)}) = {n(fw.h[i - 1], 4)}"
        )
elif STEPS[step] == "fwd_output":
    st.latex(
        rf"z^{{(2)}} = {n(net.w2_1)} \cdot {n(fw.h[0], 4)} + {n(net.w2_2)} \cdot {n(fw.h[1], 4)} + {n(net.b2)} = "
        rf"{n(fw.z2, 4)},\qquad \hat y = \text{{{g}}}({n(fw.z2, 4)}) = {n(fw.y_hat, 4)}"
    )
elif STEPS[step] == "loss":
    st.latex(rf"L = (\hat y - y)^2 = ({n(fw.y_hat, 4)} - {n(example.y)})^2 = {n(fw.loss, 4)}")
    st.latex(rf"\frac{{\partial L}}{{\partial \hat y}} = 2(\hat y - y) = {n(trace.dL_dyhat, 4)}")
elif STEPS[step] in ("bwd_output", "bwd_hidden"):
    names = ("w2_1", "w2_2", "b2") if STEPS[step] == "bwd_output" else ("w1_11", "w1_12", "w1_21", "w1_22", "b1_1", "b1_2")
    chain_cols = st.columns(2 if len(names) > 3 else 1)
    for i, name in enumerate(names):
        chain_cols[i % len(chain_cols)].latex(trace.grad(name).latex_chain(decimal=dm))
    show = names if STEPS[step] == "bwd_output" else PARAMS
    table = pd.DataFrame(
        {
            tr("course.bp.col.param"): [param_label(p) for p in show],
            tr("course.bp.col.factors"): [" × ".join(fnum(f.value, ".4f") for f in trace.grad(p).factors) for p in show],
            tr("course.bp.col.chain"): [trace.grad(p).chain for p in show],
            tr("course.bp.col.autograd"): [trace.grad(p).autograd for p in show],
            tr("course.bp.col.diff"): [abs(trace.grad(p).chain - trace.grad(p).autograd) for p in show],
        }
    )
    st.dataframe(
        number_table(table, formats={tr("course.bp.col.chain"): ".6f", tr("course.bp.col.autograd"): ".6f",
                                     tr("course.bp.col.diff"): ".1e"}),
        hide_index=True, key=f"course_bp_table_{step}",
    )
    st.success(tr("course.bp.match", diff=fnum(trace.max_abs_diff, ".1e")), icon="✅")
else:  # update
    table = pd.DataFrame(
        {
            tr("course.bp.col.param"): [param_label(p) for p in PARAMS],
            tr("course.bp.col.old"): [trace.grad(p).value for p in PARAMS],
            tr("course.bp.col.grad"): [trace.grad(p).chain for p in PARAMS],
            tr("course.bp.col.new"): [trace.grad(p).new_value for p in PARAMS],
        }
    )
    st.latex(
        rf"w \leftarrow w - \alpha \frac{{\partial L}}{{\partial w}},\qquad \alpha = {n(lr)}:\quad "
        rf"{trace.grad('w1_11').latex} \leftarrow {n(net.w1_11, 4)} - {n(lr)} \cdot {n(trace.grad('w1_11').chain, 4)} "
        rf"= {n(trace.grad('w1_11').new_value, 4)}"
    )
    st.dataframe(
        number_table(table, formats=dict.fromkeys(table.columns[1:], ".4f")),
        hide_index=True, key="course_bp_update_table",
    )
    m1, m2 = st.columns(2)
    m1.metric(tr("course.bp.loss_before"), fnum(fw.loss, ".5f"))
    m2.metric(tr("course.bp.loss_after"), fnum(trace.new_loss, ".5f"), delta=fnum(trace.new_loss - fw.loss, "+.5f"),
              delta_color="inverse")
    st.button(tr("course.bp.apply"), key="course_bp_apply", on_click=_apply_update, type="primary",
              icon=":material/replay:")
st.info(tr("course.bp.try"), icon="🧪")
