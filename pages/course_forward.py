"""Course 3: the forward pass as matrix multiplication, Z = W·X and Y = a(Z), and mini-batching."""

import streamlit as st

from mlcore.course import course_rows
from mlcore.course.activations import ACTIVATIONS
from mlcore.course.forward import MAX_K, build_network, forward_trace, time_batches
from mlcore.errors import MLCoreError
from mlcore.i18n import t
from mlcore.plots.course_basics import latex_number, layer_figure, timing_figure
from ui.common import decimal_mark, fnum, keep, lang, show_error, tr
from ui.projector import show_chart

_TIMING_KEY = "_course_fwd_timing_args"  # args of the last measurement asked for on this page


LANG = lang()  # format_func may run outside this script run (AppTest): bind the language now


def act_label(name: str) -> str:
    return t(f"course.act.name.{name}", LANG)


@st.cache_data(max_entries=32, show_spinner=False)
def measure(n_inputs: int, hidden: int, n_outputs: int, activation: str, seed: int):
    """Forward time per batch size (cached: one measurement serves every session)."""
    model = build_network(n_inputs, hidden, n_outputs, activation, seed)
    return time_batches(model, n_inputs)


st.title(tr("course.fwd.title"))
st.markdown(tr("course.fwd.intro"))
st.latex(r"Y = a(W X)")
st.latex(
    r"\begin{bmatrix} z_0 \\ z_1 \end{bmatrix} = "
    r"\begin{bmatrix} w_{00} & w_{01} & w_{02} & b_0 \\ w_{10} & w_{11} & w_{12} & b_1 \end{bmatrix}"
    r"\begin{bmatrix} x_0 \\ x_1 \\ x_2 \\ 1 \end{bmatrix}, \qquad"
    r"\begin{bmatrix} y_0 \\ y_1 \end{bmatrix} = \begin{bmatrix} a(z_0) \\ a(z_1) \end{bmatrix}"
)
st.markdown(tr("course.fwd.notation"))

rows = course_rows(st.session_state.get("data"))
if rows.builtin:
    st.caption(tr("course.basics.builtin_data", name=rows.name))
else:
    st.caption(tr("course.basics.current_data", name=rows.name, rows=rows.X.shape[0]))

c1, c2, c3, c4, c5 = st.columns(5)
max_k = min(MAX_K, rows.X.shape[0])
k = c1.slider(tr("course.fwd.k"), 1, max_k, min(3, max_k), **keep("course_fwd_k", hi=max_k)) if max_k > 1 else 1
hidden = c2.slider(tr("course.fwd.hidden"), 1, 6, 3, **keep("course_fwd_hidden"))
n_out = c3.slider(tr("course.fwd.outputs"), 1, 4, 2, **keep("course_fwd_outputs"))
act = c4.selectbox(tr("course.fwd.activation"), ACTIVATIONS, format_func=act_label, **keep("course_fwd_act"))
seed = int(c5.number_input(tr("course.fwd.seed"), 0, 9999, 0, 1, **keep("course_fwd_seed")))

try:
    model = build_network(rows.n_features, hidden, n_out, act, seed)
    trace = forward_trace(model, rows.X[:k])
except MLCoreError as err:
    show_error(err)
    st.stop()

names = rows.feature_names
shown = ", ".join(f"{label} = {n}" for label, n in zip(trace.steps[0].input_labels, names[:12]))
st.caption(tr("course.fwd.features", mapping=shown + (" …" if len(names) > 12 else "")))
if rows.n_features > 15:
    st.caption(tr("course.fwd.wide"))
st.markdown(tr("course.fwd.arch", n=rows.n_features, h=hidden, o=n_out, act=act_label(act)))

dm = decimal_mark()
for step in trace.steps:
    L = step.index
    st.subheader(tr("course.fwd.layer", i=L))
    st.latex(
        rf"Z^{{({L})}}_{{[{step.n_units} \times {k}]}} = "
        rf"W^{{({L})}}_{{[{step.n_units} \times {step.n_inputs + 1}]}} \; "
        rf"X^{{({L})}}_{{[{step.n_inputs + 1} \times {k}]}}, \qquad "
        rf"Y^{{({L})}} = \text{{{act_label(step.activation)}}}\left(Z^{{({L})}}\right)"
    )
    titles = [
        f"W ({step.n_units}×{step.n_inputs + 1})",
        f"X ({step.n_inputs + 1}×{k})",
        f"Z = W·X ({step.n_units}×{k})",
        f"Y = a(Z) ({step.n_units}×{k})",
    ]
    show_chart(st, layer_figure(step, titles, trace.instance_labels), key=f"course_fwd_layer_{L}")
    # one cell worked out by hand: neuron 0, first instance
    terms = " + ".join(
        f"{latex_number(step.W_aug[0, j], 2, dm)} \\cdot {latex_number(step.X_aug[j, 0], 2, dm)}"
        for j in range(min(step.n_inputs, 4))
    )
    if step.n_inputs > 4:
        terms += r" + \dots"
    st.latex(
        rf"z_{{0}} (\#1) = \sum_j w_{{0j}} x_j + b_0 = {terms} + {latex_number(step.W_aug[0, -1], 2, dm)} "
        rf"= {latex_number(step.Z[0, 0], 3, dm)}"
    )

if trace.max_abs_diff < 1e-4:
    st.success(tr("course.fwd.check_ok", diff=fnum(trace.max_abs_diff, ".1e")), icon="✅")
else:
    st.error(tr("course.fwd.check_bad", diff=fnum(trace.max_abs_diff, ".1e")), icon="⚠️")
st.caption(tr("course.fwd.output_note"))
st.info(tr("course.fwd.try"), icon="🧪")

# ---- mini-batching: time per instance -----------------------------------------------------------
st.divider()
st.subheader(tr("course.fwd.batch_title"))
st.markdown(tr("course.fwd.batch_text"))
t1, t2 = st.columns([1, 3])
timing_hidden = t1.select_slider(tr("course.fwd.timing_hidden"), (8, 32, 128, 512), value=128, **keep("course_fwd_timing_hidden"))
args = (rows.n_features, int(timing_hidden), n_out, act, seed)
if t1.button(tr("course.fwd.measure"), key="course_fwd_measure", type="primary"):
    st.session_state[_TIMING_KEY] = args
if st.session_state.get(_TIMING_KEY) == args:
    try:
        with st.spinner(tr("course.fwd.measuring")):
            timing = measure(*args)
    except MLCoreError as err:
        show_error(err)
    else:
        show_chart(t2, 
            timing_figure(timing, x_label=tr("course.fwd.batch_size"), y_label=tr("course.fwd.per_instance")),
            key="course_fwd_timing",
        )
        t1.metric(tr("course.fwd.speedup", b=timing.batch_sizes[-1]), f"× {timing.speedup:.0f}")
        t1.caption(tr("course.fwd.timing_note", n=timing.n_inputs, h=timing.hidden, o=n_out))
else:
    t2.caption(tr("course.fwd.measure_hint"))
st.info(tr("course.fwd.batch_try"), icon="🧪")
