"""Course 6: the universal approximation theorem on a 1-D target, neuron by neuron."""

import numpy as np
import streamlit as st

from mlcore.config import Task
from mlcore.course.universal import (
    MAX_SAMPLES,
    TARGETS,
    UA_ACTIVATIONS,
    WIDTHS,
    Target1D,
    dataset_target,
    fit_universal,
    target_data,
    width_sweep,
)
from mlcore.errors import MLCoreError
from mlcore.plots.course_optim import universal_figure, width_sweep_figure
from mlcore.i18n import t
from ui.common import decimal_slider, keep, lang, number_formatter, show_error, tr
from ui.projector import show_chart

DATASET = "__data__"  # the target choice "current dataset"
WIDTH_OPTIONS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 48, 64, 128)
STEP_OPTIONS = (25, 50, 100, 200, 500, 1000)
SEED = 0


LANG = lang()  # format functions below use it: AppTest may call them outside a script run


num = number_formatter()


@st.cache_data(max_entries=64, show_spinner=False)
def cached_fit(name, x, y, x_grid, truth, n_hidden, activation, steps):
    return fit_universal(Target1D(name, x, y, x_grid, truth), n_hidden, activation, steps=steps, seed=SEED)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_sweep(name, x, y, x_grid, truth, activation, steps, _progress=None):
    # ``_progress`` is not part of the cache key (leading underscore): it only runs on a miss.
    return width_sweep(Target1D(name, x, y, x_grid, truth), activation, steps=steps, seed=SEED, progress=_progress)


def target_args(target: Target1D) -> tuple:
    return (target.name, target.x, target.y, target.x_grid, target.truth)


DATA_NAME = str(getattr(st.session_state.get("data"), "name", "?"))


def target_label(choice: str) -> str:
    if choice == DATASET:
        return t("course.universal.current", LANG, name=DATA_NAME)
    return t(f"data.builtin.{choice}", LANG)


def act_label(name: str) -> str:
    return t(f"course.universal.act.{name}", LANG)


# ---- theory --------------------------------------------------------------------------------
st.title(tr("course.universal.title"))
st.markdown(tr("course.universal.intro"))
st.latex(r"F(x) = c + \sum_{j=1}^{N} v_j\, a(w_j x + b_j)")
with st.container(border=True):
    st.markdown(f"**{tr('course.universal.theorem_title')}**")
    st.markdown(tr("course.universal.theorem"))
    st.latex(r"\left| f(x) - c - \sum_{j=1}^{N} v_j\, a(w_j x + b_j) \right| < \varepsilon"
             r"\quad \forall\, x \in [\alpha, \beta]")
st.markdown(tr("course.universal.promises"))

# ---- controls -------------------------------------------------------------------------------
data = st.session_state.get("data")
choices = list(TARGETS)
if data is not None and data.task is Task.REGRESSION and data.is_1d:
    choices.append(DATASET)
c1, c2, c3 = st.columns(3)
choice = c1.selectbox(tr("course.universal.target"), choices, format_func=target_label, **keep("course_ua_target"))
n_hidden = c2.select_slider(tr("course.universal.width"), WIDTH_OPTIONS, value=8, **keep("course_ua_width"))
activation = c3.selectbox(tr("course.universal.activation"), UA_ACTIVATIONS, format_func=act_label,
                          **keep("course_ua_activation"))
c4, c5, c6 = st.columns(3)
samples = c4.slider(tr("course.universal.samples"), 10, min(500, MAX_SAMPLES), 200, 10, **keep("course_ua_samples"),
                    disabled=choice == DATASET)
noise = decimal_slider(c5, tr("course.universal.noise"), 0.0, 1.0, 0.0, 0.05, **keep("course_ua_noise"),
                     disabled=choice == DATASET)
steps = c6.select_slider(tr("course.universal.steps"), STEP_OPTIONS, value=200, **keep("course_ua_steps"))

try:
    if choice == DATASET:
        target = dataset_target(str(data.name), data.X_train[:, 0], data.y_train)
    else:
        target = target_data(choice, samples, noise, seed=SEED)
except MLCoreError as err:
    show_error(err)
    st.stop()

if st.button(tr("course.universal.train"), type="primary", key="course_ua_train"):
    try:
        with st.spinner(tr("course.universal.training", n=n_hidden)):
            fit = cached_fit(*target_args(target), n_hidden, activation, steps)
        st.session_state["course_universal_fit"] = {"fit": fit, "target": target, "label": target_label(choice)}
    except MLCoreError as err:
        show_error(err)

result = st.session_state.get("course_universal_fit")
if result is None:
    st.caption(tr("course.universal.prompt"))
else:
    fit, fit_target = result["fit"], result["target"]
    st.caption(tr("course.universal.settings", target=result["label"], n=fit.n_hidden,
                  activation=act_label(fit.activation), steps=fit.steps))
    show_chart(st, 
        universal_figure(
            fit, fit_target, data_label=tr("course.universal.data"), truth_label=tr("course.universal.truth"),
            output_label=tr("course.universal.output"), pieces_label=tr("course.universal.pieces"),
            sum_label=tr("course.universal.sum"), bias_label=tr("course.universal.bias"),
            top_title=tr("course.universal.top_title"), bottom_title=tr("course.universal.bottom_title"),
        ),
        key="course_ua_figure",
    )
    st.markdown(tr("course.universal.result", n=fit.n_hidden, activation=act_label(fit.activation),
                   train=num(fit.train_mse)))
    if fit.truth_mse is not None:
        st.markdown(tr("course.universal.result_truth", truth=num(fit.truth_mse)))
    st.caption(tr("course.universal.train_note", seed=fit.seed))
st.info(tr("course.universal.try"), icon="🧪")

# ---- error against N ------------------------------------------------------------------------
st.divider()
st.subheader(tr("course.universal.sweep_title"))
st.markdown(tr("course.universal.sweep_text"))
if st.button(tr("course.universal.sweep_button"), key="course_ua_sweep"):
    bar = st.progress(0.0, text=tr("course.universal.sweep_progress", n=WIDTHS[0], i=0, total=len(WIDTHS)))

    def progress(i: int, n: int) -> None:
        nxt = WIDTHS[min(i, n - 1)]
        bar.progress(i / n, text=tr("course.universal.sweep_progress", n=nxt, i=i, total=n))

    try:
        sweep = cached_sweep(*target_args(target), activation, steps, _progress=progress)
        st.session_state["course_universal_sweep"] = {"sweep": sweep, "label": target_label(choice)}
    except MLCoreError as err:
        show_error(err)
    finally:
        bar.empty()

stored = st.session_state.get("course_universal_sweep")
if stored is not None:
    sweep = stored["sweep"]
    st.caption(tr("course.universal.sweep_settings", target=stored["label"], activation=act_label(sweep.activation),
                  steps=sweep.steps))
    show_chart(st, 
        width_sweep_figure(sweep, train_label=tr("course.universal.sweep_train"),
                           truth_label=tr("course.universal.sweep_truth"), x_label=tr("course.universal.sweep_x"),
                           y_label=tr("course.universal.sweep_y")),
        key="course_ua_sweep_figure",
    )
    st.caption(" · ".join(f"N={w}: {num(m, 2)}" for w, m in zip(sweep.widths, np.asarray(sweep.train_mse))))
