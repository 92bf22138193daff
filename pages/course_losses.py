"""Course 4b: loss functions: each loss and its gradient against the prediction, which task uses
which, and one outlier scored by MSE, MAE and Huber."""

import streamlit as st

from mlcore.course.losses import (
    GRADIENT_FORMULAS,
    LOSSES,
    TORCH_NAMES,
    formula,
    loss_curve,
    outlier_example,
)
from mlcore.errors import MLCoreError
from mlcore.i18n import t
from mlcore.plots.course_losses import loss_figure, outlier_figure
from ui.common import decimal_slider, keep, lang, number_formatter, show_error, tr
from ui.projector import show_chart

LANG = lang()  # format_func may run outside this script run (AppTest): bind the language now
num = number_formatter()


def loss_label(name: str) -> str:
    return t(f"course.loss.name.{name}", LANG)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_curve(name: str, target: float, delta: float):
    return loss_curve(name, target=target, delta=delta)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_outlier(error: float, delta: float):
    return outlier_example(error, delta)


st.title(tr("course.loss.title"))
st.markdown(tr("course.loss.intro"))

# ---- one loss and its gradient ------------------------------------------------------------------
st.subheader(tr("course.loss.curve_title"))
c1, c2, c3 = st.columns([3, 2, 2])
name = c1.selectbox(tr("course.loss.choose"), LOSSES, format_func=loss_label, **keep("course_loss_name"))
delta = 1.0
if name == "bce":
    target = float(c2.radio(tr("course.loss.bce_target"), (0, 1), index=1, horizontal=True,
                            **keep("course_loss_bce_y")))
elif name == "ce":
    target = 0.0
    c2.caption(tr("course.loss.ce_setup"))
else:
    target = decimal_slider(c2, tr("course.loss.target"), -2.0, 2.0, 0.0, 0.5, **keep("course_loss_y"))
    if name == "huber":
        delta = decimal_slider(c3, tr("course.loss.delta"), 0.25, 3.0, 1.0, 0.25, **keep("course_loss_delta"))
try:
    curve = cached_curve(name, target, delta)
except MLCoreError as err:
    show_error(err)
    st.stop()

f1, f2 = st.columns(2)
f1.latex(formula(name, tr("course.loss.otherwise")))
f2.latex(GRADIENT_FORMULAS[name])
st.markdown(tr("course.loss.torch", name=TORCH_NAMES[name]))
x_label = tr("course.loss.x_ce" if name == "ce" else "course.loss.x_logit" if name == "bce" else "course.loss.x_pred")
show_chart(st, 
    loss_figure(curve, tr("course.loss.loss_axis"), tr("course.loss.grad_axis"), x_label,
                tr("course.loss.target_mark", y=num(target, 2))),
    key="course_loss_curve", config={"displayModeBar": False},
)
st.markdown(tr(f"course.loss.note.{name}"))
st.info(tr("course.loss.try"), icon="🧪")

# ---- which task, which loss -------------------------------------------------------------------
st.divider()
st.subheader(tr("course.loss.tasks_title"))
st.markdown(tr("course.loss.tasks_text"))
rows = []
for task, loss in (("binary", "bce"), ("multiclass", "ce"), ("regression", "mse"), ("regression", "mae"),
                   ("regression", "huber")):
    row_key = task if task != "regression" else loss
    rows.append({
        tr("course.loss.col.task"): tr(f"course.loss.task.{task}"),
        tr("course.loss.col.output"): tr(f"course.loss.row.{row_key}.output"),
        tr("course.loss.col.loss"): loss_label(loss),
        tr("course.loss.col.torch"): TORCH_NAMES[loss],
        tr("course.loss.col.why"): tr(f"course.loss.row.{row_key}.why"),
    })
st.table(rows, hide_index=True)  # a static table: every column readable in full, also on a projector

# ---- the outlier example ----------------------------------------------------------------------
st.divider()
st.subheader(tr("course.loss.outlier_title"))
st.markdown(tr("course.loss.outlier_text"))
o1, o2 = st.columns(2)
error = decimal_slider(o1, tr("course.loss.outlier_error"), -10.0, 20.0, 6.0, 0.5, **keep("course_loss_outlier"))
o_delta = decimal_slider(o2, tr("course.loss.delta"), 0.25, 3.0, 1.0, 0.25, **keep("course_loss_outlier_delta"))
try:
    ex = cached_outlier(error, o_delta)
except MLCoreError as err:
    show_error(err)
    st.stop()
names = {n: loss_label(n) for n in ex.per_point}
table = []
for n in ex.per_point:
    grads = ex.per_point_grad[n]
    others = max(abs(g) for i, g in enumerate(grads) if i != ex.outlier_index)
    table.append({
        tr("course.loss.col.loss"): names[n],
        tr("course.loss.col.total"): num(ex.total[n], 3),
        tr("course.loss.col.outlier_share"): f"{100 * ex.outlier_share[n]:.0f} %",
        tr("course.loss.col.outlier_grad"): num(float(grads[ex.outlier_index]), 3),
        tr("course.loss.col.other_grad"): num(float(others), 3),
        tr("course.loss.col.best_shift"): num(ex.best_shift[n], 3),
    })
st.dataframe(table, hide_index=True, width="stretch", key="course_loss_outlier_table")
show_chart(st, 
    outlier_figure(ex, names, tr("course.loss.outlier_x"), tr("course.loss.outlier_y"),
                   tr("course.loss.outlier_label")),
    key="course_loss_outlier_fig", config={"displayModeBar": False},
)
mse_grads = ex.per_point_grad["mse"]
mse_others = max(abs(g) for i, g in enumerate(mse_grads) if i != ex.outlier_index) or 1.0
st.markdown(tr("course.loss.outlier_result", ratio=num(abs(float(mse_grads[ex.outlier_index])) / mse_others, 2),
               mse=num(ex.best_shift["mse"], 2), mae=num(ex.best_shift["mae"], 2),
               huber=num(ex.best_shift["huber"], 2)))
st.info(tr("course.loss.outlier_try"), icon="🧪")
