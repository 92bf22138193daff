"""Course 7: why preprocess. Feature scales, the shape of the loss valley, and the same network
trained on raw and on standardized features."""

import streamlit as st

from mlcore.course.preprocess import (
    DEFAULT_SLICE_FEATURES,
    SCALING_TABLES,
    compare_scaling,
    feature_scales,
    loss_slice,
)
from mlcore.errors import MLCoreError
from mlcore.plots.course_optim import feature_scales_figure, scaling_curves_figure, slice_figure
from mlcore.i18n import t
from ui.common import keep, lang, number_formatter, show_error, tr
from ui.projector import show_chart

OPTIMIZER_CHOICES = ("sgd", "momentum", "adam")
LR_OPTIONS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
THRESHOLD = 0.5
SEED = 0


LANG = lang()  # format functions below use it: AppTest may call them outside a script run


num = number_formatter()


@st.cache_data(max_entries=8, show_spinner=False)
def cached_scales(name: str):
    return feature_scales(name)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_slice(name: str, f1: str, f2: str, scaled: bool):
    return loss_slice(name, (f1, f2), scaled=scaled)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_compare(name: str, optimizer: str, lr: float, epochs: int):
    return compare_scaling(name, optimizer=optimizer, lr=lr, epochs=epochs, seed=SEED)


def dataset_label(name: str) -> str:
    return t(f"data.builtin.{name}", LANG)


def optim_label(name: str) -> str:
    return t(f"optim.{name}.label", LANG)


# ---- theory --------------------------------------------------------------------------------
st.title(tr("course.preprocess.title"))
st.markdown(tr("course.preprocess.intro"))
st.latex(r"z = \frac{x - \mu}{\sigma}")
dataset = st.selectbox(tr("course.preprocess.dataset"), SCALING_TABLES, format_func=dataset_label,
                       **keep("course_pp_dataset"))

# ---- feature scales -------------------------------------------------------------------------
st.subheader(tr("course.preprocess.scales_title"))
try:
    scales = cached_scales(dataset)
except MLCoreError as err:
    show_error(err)
    st.stop()
st.markdown(tr("course.preprocess.scales_text", ratio=num(scales.ratio, 4)))
show_chart(st, 
    feature_scales_figure(scales, raw_title=tr("course.preprocess.raw"), scaled_title=tr("course.preprocess.scaled")),
    key="course_pp_scales",
)

# ---- the shape of the loss valley -----------------------------------------------------------
st.subheader(tr("course.preprocess.slice_title"))
st.markdown(tr("course.preprocess.slice_text"))
names = list(scales.feature_names)
d1, d2 = DEFAULT_SLICE_FEATURES[dataset]
c1, c2 = st.columns(2)
f1 = c1.selectbox(tr("course.preprocess.feature1"), names, index=names.index(d1), **keep(f"course_pp_f1_{dataset}"))
f2 = c2.selectbox(tr("course.preprocess.feature2"), names, index=names.index(d2), **keep(f"course_pp_f2_{dataset}"))
if f1 == f2:
    st.warning(tr("course.preprocess.same_feature"))
else:
    try:
        raw_slice = cached_slice(dataset, f1, f2, False)
        scaled_slice = cached_slice(dataset, f1, f2, True)
    except MLCoreError as err:
        show_error(err)
    else:
        m1, m2 = st.columns(2)
        m1.metric(tr("course.preprocess.kappa_raw"), num(raw_slice.condition, 4))
        m2.metric(tr("course.preprocess.kappa_scaled"), num(scaled_slice.condition, 4))
        show_chart(st, 
            slice_figure(raw_slice, scaled_slice,
                         raw_title=tr("course.preprocess.slice_raw", kappa=num(raw_slice.condition, 4)),
                         scaled_title=tr("course.preprocess.slice_scaled", kappa=num(scaled_slice.condition, 4)),
                         optimum_label=tr("course.preprocess.optimum")),
            key="course_pp_slice",
        )

# ---- same network, same seed ----------------------------------------------------------------
st.subheader(tr("course.preprocess.train_title"))
st.markdown(tr("course.preprocess.train_text", seed=SEED))
c1, c2, c3 = st.columns(3)
optimizer = c1.selectbox(tr("course.preprocess.optimizer"), OPTIMIZER_CHOICES,
                         format_func=optim_label, **keep("course_pp_optimizer"))
lr = c2.select_slider(tr("course.preprocess.lr"), LR_OPTIONS, value=0.01, format_func=num, **keep("course_pp_lr"))
epochs = c3.slider(tr("course.preprocess.epochs"), 10, 200, 50, 10, **keep("course_pp_epochs"))
if st.button(tr("course.preprocess.train"), type="primary", key="course_pp_train"):
    try:
        with st.spinner(tr("course.preprocess.prompt")):
            st.session_state["course_preprocess_run"] = cached_compare(dataset, optimizer, lr, epochs)
    except MLCoreError as err:
        show_error(err)

run = st.session_state.get("course_preprocess_run")
if run is None:
    st.caption(tr("course.preprocess.prompt"))
else:
    st.caption(tr("course.preprocess.settings", dataset=dataset_label(run.dataset), optimizer=optim_label(run.optimizer),
                  lr=num(run.lr), epochs=run.epochs))
    show_chart(st, 
        scaling_curves_figure(run, raw_title=tr("course.preprocess.raw"), scaled_title=tr("course.preprocess.scaled"),
                              x_label=tr("course.preprocess.loss_x"), y_label=tr("course.preprocess.loss_y")),
        key="course_pp_curves",
    )
    cols = st.columns(2)
    for col, curve, title in ((cols[0], run.raw, "course.preprocess.raw"), (cols[1], run.scaled, "course.preprocess.scaled")):
        col.markdown(f"**{tr(title)}**")
        a, b = col.columns(2)
        a.metric(tr("course.preprocess.final_loss"), num(float(curve.train_loss[-1])))
        b.metric(tr("course.preprocess.val_acc"), f"{100 * float(curve.val_accuracy[-1]):.0f} %")
    if run.raw.diverged_at is not None:
        st.error(tr("course.preprocess.diverged", epoch=run.raw.diverged_at), icon="💥")
    if run.scaled.diverged_at is not None:
        st.error(tr("course.preprocess.diverged_scaled", epoch=run.scaled.diverged_at), icon="💥")
    never = tr("course.preprocess.never")
    reach_raw, reach_scaled = run.raw.epochs_to(THRESHOLD), run.scaled.epochs_to(THRESHOLD)
    st.markdown(tr("course.preprocess.reach", threshold=num(THRESHOLD),
                   raw=never if reach_raw is None else reach_raw, scaled=never if reach_scaled is None else reach_scaled))
st.info(tr("course.preprocess.try"), icon="🧪")
