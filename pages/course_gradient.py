"""Course 4: gradient descent on 2-D loss surfaces, the optimizer race, and mini-batch noise."""

import numpy as np
import pandas as pd
import streamlit as st

from mlcore.config import OPTIMIZERS, Task
from mlcore.course import surfaces as S
from mlcore.errors import MLCoreError
from mlcore.plots import fast
from mlcore.plots.course_optim import descent_figure, loss_gap_figure, minibatch_figure
from mlcore.plots.style import tex_decimal
from mlcore.i18n import t
from ui.common import decimal_mark, keep, lang, multiselect, number_formatter, show_error, tr
from ui.projector import show_chart

LR_OPTIONS = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.09, 0.1, 0.11, 0.2, 0.3, 0.5,
              0.8, 1.0, 1.1, 1.5, 2.0)
SCALE_OPTIONS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
NOISE_LR_OPTIONS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
GD_MAX_STEPS = 300  # the steps slider's maximum
ARRIVED = 0.05  # distance to a minimum that counts as "arrived" in the race table


LANG = lang()  # format functions below use it: AppTest may call them outside a script run


num = number_formatter()


@st.cache_data(max_entries=16, show_spinner=False)
def cached_grid(name: str) -> S.SurfaceGrid:
    return S.surface_grid(name)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_gd_longest(name: str, lr: float) -> S.OptimPath:
    return S.gradient_descent(name, lr, GD_MAX_STEPS)


def cached_gd(name: str, lr: float, steps: int) -> S.OptimPath:
    """The path for ``steps`` steps, cut from the longest one: moving the steps slider computes nothing."""
    return cached_gd_longest(name, lr).first(steps)


@st.cache_data(max_entries=128, show_spinner=False)
def cached_race(name: str, steps: int, scale: float, methods: tuple[str, ...]) -> S.Race:
    return S.race(name, steps, scale, methods)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_noise(X: np.ndarray, y: np.ndarray, task: str, dataset: str, epochs: int, lr: float) -> S.MinibatchNoise:
    return S.minibatch_noise(X, y, Task(task), dataset=dataset, epochs=epochs, lr=lr)


@st.cache_data(max_entries=2, show_spinner=False)
def builtin_noise_rows() -> tuple[np.ndarray, np.ndarray]:
    """The standardised iris rows the noise tab uses when no dataset is loaded."""
    from mlcore.course.preprocess import scaled_table

    table = scaled_table("iris")
    return table.X.astype(np.float32), table.y


# Finished figures, shared by every session and frozen into the dict st.plotly_chart sends (it only
# reads them). A page switch reruns every tab, and most students look at the same surface, rate and
# race: building the two animated figures and copying them for Streamlit was most of this page's run.
@st.cache_resource(max_entries=256, show_spinner=False)
def gd_figures(name: str, lr: float, steps: int, lang_code: str):  # noqa: ARG001 - lang_code keys the labels
    surface = S.get_surface(name)
    grid = cached_grid(name)
    path = cached_gd(name, lr, steps)
    labels = {"gd": optim_label("gd")}
    return path, (
        fast.frozen(descent_figure(grid, surface, [path], labels, **figure_labels(grid))),
        fast.frozen(loss_gap_figure([path], labels, surface.min_value, x_label=tr("course.gradient.step"),
                                    y_label=tr("course.gradient.gap_y"), title=tr("course.gradient.gap_title"),
                                    height=320)),
    )


@st.cache_resource(max_entries=128, show_spinner=False)
def race_figures(name: str, steps: int, scale: float, methods: tuple[str, ...], lang_code: str):  # noqa: ARG001
    surface = S.get_surface(name)
    grid = cached_grid(name)
    result = cached_race(name, steps, scale, methods)
    labels = {m: optim_label(m) for m in methods}
    return result, (
        fast.frozen(descent_figure(grid, surface, result.paths, labels, **figure_labels(grid))),
        fast.frozen(loss_gap_figure(result.paths, labels, surface.min_value, x_label=tr("course.gradient.step"),
                                    y_label=tr("course.gradient.gap_y"), title=tr("course.gradient.gap_title"))),
    )


def surface_label(name: str) -> str:
    return t(f"course.gradient.surface.{name}", LANG)


def optim_label(name: str) -> str:
    return "GD" if name == "gd" else t(f"optim.{name}.label", LANG)


def figure_labels(grid: S.SurfaceGrid) -> dict:
    return dict(
        start_label=tr("course.gradient.start"),
        minimum_label=tr("course.gradient.minimum"),
        step_label=tr("course.gradient.step"),
        play_label=tr("course.gradient.play"),
        pause_label=tr("course.gradient.pause"),
        colorbar_label=tr("course.gradient.colorbar_log") if grid.log_scale else tr("course.gradient.colorbar"),
    )


def show_surface(surface: S.Surface) -> None:
    st.latex(tex_decimal(surface.formula, decimal_mark()))


# ---- theory --------------------------------------------------------------------------------
st.title(tr("course.gradient.title"))
st.markdown(tr("course.gradient.intro"))
st.latex(r"w_{k+1} = w_k - \alpha\,\nabla \mathcal{L}(w_k)")
st.markdown(tr("course.gradient.rule_text"))


# Each tab is a fragment: moving one of its widgets reruns that tab only, not the other figures.


@st.fragment
def gradient_descent_tab() -> None:
    c1, c2, c3 = st.columns([1.2, 1.4, 1])
    name = c1.selectbox(tr("course.gradient.surface"), S.SURFACE_NAMES, format_func=surface_label,
                        **keep("course_gd_surface"))
    surface = S.get_surface(name)
    # one slider per surface, so switching surface starts from a rate that suits it
    lr = c2.select_slider(tr("course.gradient.lr"), LR_OPTIONS, value=surface.gd_lr, format_func=num,
                          **keep(f"course_gd_lr_{name}"))
    steps = c3.slider(tr("course.gradient.steps"), 1, GD_MAX_STEPS, 60, **keep("course_gd_steps"))
    show_surface(surface)
    limit = S.lr_limit(name)
    if limit is not None:
        st.caption(tr("course.gradient.lr_limit", limit=num(limit)))
    try:
        path, (descent_fig, gap_fig) = gd_figures(name, lr, steps, LANG)
    except MLCoreError as err:
        show_error(err)
    else:
        show_chart(st, descent_fig, key="course_gd_figure")
        if path.diverged:
            st.error(tr("course.gradient.diverged", step=path.diverged_at, lr=num(lr)), icon="💥")
        else:
            x, y = path.final_point
            st.success(tr("course.gradient.result", steps=steps, x=num(x), y=num(y), loss=num(path.final_loss),
                          dist=num(path.distance_to_minimum(surface))))
        show_chart(st, gap_fig, key="course_gd_gap")
    st.info(tr("course.gradient.try_gd"), icon="🧪")


@st.fragment
def race_tab() -> None:
    st.markdown(tr("course.gradient.race_text"))
    c1, c2, c3 = st.columns([1.2, 1, 1.2])
    race_name = c1.selectbox(tr("course.gradient.surface"), S.SURFACE_NAMES, index=S.SURFACE_NAMES.index("rosenbrock"),
                             format_func=surface_label, **keep("course_race_surface"))
    race_steps = c2.slider(tr("course.gradient.steps"), 10, 300, 100, 10, **keep("course_race_steps"))
    scale = c3.select_slider(tr("course.gradient.race_scale"), SCALE_OPTIONS, value=1.0,
                             format_func=lambda v: f"×{num(v)}", **keep("course_race_scale"))
    methods = multiselect(st, tr("course.gradient.race_methods"), OPTIMIZERS, default=list(OPTIMIZERS),
                          format_func=optim_label, **keep("course_race_methods"))
    race_surface = S.get_surface(race_name)
    show_surface(race_surface)
    if not methods:
        st.warning(tr("course.gradient.race_pick"))
    else:
        try:
            result, (race_fig, race_gap_fig) = race_figures(race_name, race_steps, scale, tuple(methods), LANG)
        except MLCoreError as err:
            show_error(err)
        else:
            labels = {m: optim_label(m) for m in methods}
            show_chart(st, race_fig, key="course_race_figure")
            st.caption(tr("course.gradient.race_note"))
            rows = []
            for path in result.ranking():
                dist = path.distance_to_minimum(race_surface)
                if path.diverged:
                    status = tr("course.gradient.status.diverged", step=path.diverged_at)
                elif dist < ARRIVED:
                    status = tr("course.gradient.status.ok")
                else:
                    status = tr("course.gradient.status.running")
                rows.append({
                    tr("course.gradient.col.optimizer"): labels[path.method],
                    tr("course.gradient.col.lr"): num(path.lr),
                    tr("course.gradient.col.loss"): num(path.final_loss),
                    tr("course.gradient.col.dist"): num(dist),
                    tr("course.gradient.col.status"): status,
                })
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="course_race_table")
            show_chart(st, race_gap_fig, key="course_race_gap")
    with st.expander(tr("course.gradient.optim_table")):
        st.dataframe(
            pd.DataFrame([{
                tr("course.gradient.col.optimizer"): optim_label(m),
                tr("course.gradient.col.strengths"): tr(f"optim.{m}.strengths"),
                tr("course.gradient.col.weaknesses"): tr(f"optim.{m}.weaknesses"),
            } for m in OPTIMIZERS]),
            hide_index=True, width="stretch", key="course_race_course_table",
        )
    st.info(tr("course.gradient.try_race"), icon="🧪")


@st.fragment
def noise_tab() -> None:
    st.markdown(tr("course.gradient.noise_text"))
    data = st.session_state.get("data")
    if data is None:
        X, y = builtin_noise_rows()
        task, dataset = Task.MULTICLASS, "iris"
        st.caption(tr("course.gradient.noise_builtin"))
    else:
        X, y, task, dataset = data.X_train, data.y_train, data.task, str(data.name)
        st.caption(tr("course.gradient.noise_current", name=dataset, rows=len(X), features=data.n_features))
    c1, c2 = st.columns(2)
    epochs = c1.slider(tr("course.gradient.noise_epochs"), 1, 30, 10, **keep("course_noise_epochs"))
    noise_lr = c2.select_slider(tr("course.gradient.noise_lr"), NOISE_LR_OPTIONS, value=0.1, format_func=num,
                                **keep("course_noise_lr"))
    if st.button(tr("course.gradient.noise_button"), type="primary", key="course_noise_run"):
        try:
            with st.spinner(tr("course.gradient.noise_prompt")):
                st.session_state["course_noise"] = cached_noise(X, y, task.value, dataset, epochs, noise_lr)
        except MLCoreError as err:
            show_error(err)
    noise = st.session_state.get("course_noise")
    if noise is None:
        st.caption(tr("course.gradient.noise_prompt"))
    else:
        st.caption(tr("course.gradient.noise_settings", epochs=noise.epochs, lr=num(noise.lr), rows=noise.n_rows,
                      name=noise.dataset))
        if noise.subsampled_from:
            st.caption(tr("course.gradient.noise_subsampled", rows=noise.n_rows, total=noise.subsampled_from))
        curve_labels = [
            tr("course.gradient.noise_full", size=c.batch_size) if c.full_batch
            else tr("course.gradient.noise_batch", size=c.batch_size)
            for c in noise.curves
        ]
        show_batch = st.toggle(tr("course.gradient.noise_show_batch"), value=False, **keep("course_noise_show_batch"))
        show_chart(st,
            minibatch_figure(noise, curve_labels, x_label=tr("course.gradient.noise_x"),
                             y_label=tr("course.gradient.noise_y"), batch_label=tr("course.gradient.noise_batch_loss"),
                             show_batch_loss=show_batch),
            key="course_noise_figure",
        )
        cols = st.columns(len(noise.curves))
        for col, label, curve in zip(cols, curve_labels, noise.curves):
            if curve.diverged_at is not None:
                col.warning(tr("course.gradient.noise_diverged", label=label, updates=curve.diverged_at), icon="💥")
            else:
                col.markdown(tr("course.gradient.noise_summary", label=label, updates=curve.updates,
                                loss=num(float(curve.loss[-1]))))
    st.info(tr("course.gradient.try_noise"), icon="🧪")


tab_gd, tab_race, tab_noise = st.tabs(
    [tr("course.gradient.tab.gd"), tr("course.gradient.tab.race"), tr("course.gradient.tab.noise")]
)
with tab_gd:
    gradient_descent_tab()
with tab_race:
    race_tab()
with tab_noise:
    noise_tab()
