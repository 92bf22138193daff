"""Course 1: the neuron, a layer of m neurons, a network of q stacked layers."""

import streamlit as st

from mlcore.course.activations import ACTIVATIONS
from mlcore.course.neuron import count_parameters, evaluate_neuron, neuron_surface
from mlcore.errors import MLCoreError
from mlcore.i18n import t
from mlcore.plots.course_basics import latex_number, network_figure, network_layout, neuron_surface_figure
from mlcore.plots.style import tex_number
from ui.common import decimal_mark, decimal_slider, keep, lang, show_error, tr
from ui.projector import show_chart


LANG = lang()  # format_func may run outside this script run (AppTest): bind the language now


def act_label(name: str) -> str:
    return t(f"course.act.name.{name}", LANG)


st.title(tr("course.neuron.title"))
st.markdown(tr("course.neuron.intro"))
st.latex(r"y = a\left(\sum_{i=1}^{n} w_i \cdot x_i + b\right)")

controls, plot = st.columns([1, 2], gap="large")
with controls:
    st.markdown(f"**{tr('course.neuron.params')}**")
    w1 = decimal_slider(st, "w₁", -3.0, 3.0, 1.0, 0.1, **keep("course_neuron_w1"))
    w2 = decimal_slider(st, "w₂", -3.0, 3.0, -0.5, 0.1, **keep("course_neuron_w2"))
    b = decimal_slider(st, "b", -3.0, 3.0, 0.0, 0.1, **keep("course_neuron_b"))
    act = st.selectbox(tr("course.neuron.activation"), ACTIVATIONS, index=ACTIVATIONS.index("sigmoid"),
                       format_func=act_label, **keep("course_neuron_act"))
    st.markdown(f"**{tr('course.neuron.input')}**")
    x1 = decimal_slider(st, "x₁", -3.0, 3.0, 1.0, 0.1, **keep("course_neuron_x1"))
    x2 = decimal_slider(st, "x₂", -3.0, 3.0, 0.5, 0.1, **keep("course_neuron_x2"))

try:
    ev = evaluate_neuron((w1, w2), b, (x1, x2), act)
    surface = neuron_surface(w1, w2, b, act)
except MLCoreError as err:
    show_error(err)
    st.stop()

with plot:
    show_chart(st, 
        neuron_surface_figure(surface, point=(x1, x2), y_label="y", line_label=tr("course.neuron.line")),
        key="course_neuron_surface",
    )
    st.caption(tr("course.neuron.surface_caption"))

a, dm = act_label(act), decimal_mark()
st.latex(
    rf"y = \text{{{a}}}\left({latex_number(w1, 1, dm)} \cdot {latex_number(x1, 1, dm)} + {latex_number(w2, 1, dm)} \cdot "
    rf"{latex_number(x2, 1, dm)} + {latex_number(b, 1, dm)}\right) = \text{{{a}}}({tex_number(ev.z, 2, dm)}) = "
    rf"{latex_number(ev.y, 3, dm)}"
)
st.info(tr("course.neuron.try"), icon="🧪")

st.divider()
st.subheader(tr("course.neuron.layer_title"))
st.markdown(tr("course.neuron.layer_text"))
c1, c2, c3, c4 = st.columns(4)
n_in = c1.slider(tr("course.neuron.n_inputs"), 1, 6, 3, **keep("course_neuron_n_in"))
m = c2.slider(tr("course.neuron.m"), 1, 8, 4, **keep("course_neuron_m"))
q = c3.slider(tr("course.neuron.q"), 1, 5, 2, **keep("course_neuron_q"))
n_out = c4.slider(tr("course.neuron.n_outputs"), 1, 4, 1, **keep("course_neuron_n_out"))
sizes = (n_in,) + (m,) * q + (n_out,)
titles = [tr("course.neuron.input_layer")] + [tr("course.neuron.hidden_layer", i=i) for i in range(1, q + 1)]
titles.append(tr("course.neuron.output_layer"))
show_chart(st, network_figure(network_layout(sizes), titles, height=460), key="course_neuron_network")
n_params = count_parameters(n_in, sizes[1:])
st.markdown(
    tr(
        "course.neuron.param_count",
        total=n_params,
        formula=" + ".join(f"({a_} + 1)·{b_}" for a_, b_ in zip(sizes[:-1], sizes[1:])),
    )
)
st.info(tr("course.neuron.try_layers"), icon="🧪")
