"""Train: optimizer and training controls, Play / Pause / Step / Reset with a live view,
validation metrics, recorded runs, save/load and share links."""

from dataclasses import replace

import streamlit as st

from mlcore.config import MAX_EPOCHS, OPTIMIZERS, OptimConfig, Task
from mlcore.errors import MLCoreError
from ui.common import (decimal_input, decimal_slider, fmt, guarded, lang, lazy_tabs, number_formatter, require_data,
                       show_error, tab_open, tr)
from ui.presets import presets_panel
from ui.projector import show_chart
from ui.teacher import fixed_note, visible
from ui.train_panels import live_figures, try_tip, unstable_warning
from ui.training import controller, input_grid, model_cfg, sync_runs, train_cfg, tuned_note

st.title(tr("train.title"))
st.markdown(tr("train.intro"))
presets_panel()

data = require_data()

from mlcore.jobs import PLAYING  # noqa: E402
from mlcore.optim import OPTIMIZER_INFO  # noqa: E402

SETTLE_SECONDS = 3.0  # longest wait in a Pause/Step click for the chunk in flight

# ---- configuration --------------------------------------------------------------------------
HYPER_WIDGETS = {  # field -> (kind, min, max, step, number box format spec); sliders: decimals of the step
    "lr": ("number", 1e-5, 10.0, None, ".4g"),
    "momentum": ("slider", 0.0, 0.99, 0.01, None),
    "nesterov": ("toggle", None, None, None, None),
    "beta1": ("slider", 0.0, 0.999, 0.001, None),
    "beta2": ("slider", 0.9, 0.9999, 0.0001, None),
    "alpha": ("slider", 0.0, 0.999, 0.001, None),
    "weight_decay": ("number", 0.0, 1.0, None, ".4g"),
    "eps": ("number", 1e-10, 1e-2, None, ".1e"),
    "trust_coef": ("number", 1e-5, 1.0, None, ".4g"),
}


def _store_train_cfg(**changes) -> None:
    current = train_cfg()
    optim_changes = {k: v for k, v in changes.items() if k in OptimConfig.__dataclass_fields__}
    train_changes = {k: v for k, v in changes.items() if k not in optim_changes}
    try:
        optim = replace(current.optim, **optim_changes) if optim_changes else current.optim
        st.session_state["train_cfg"] = replace(current, optim=optim, **train_changes)
    except MLCoreError as err:
        st.session_state["_train_error"] = err


def _on_widget(field: str, key: str, cast=None) -> None:
    value = st.session_state[key]
    if cast is not None and value is not None:
        value = cast(value)
    _store_train_cfg(**{field: value})


def _on_optimizer() -> None:
    name = st.session_state["t_opt"]
    changes = {"name": name}
    if name == "adamw" and train_cfg().optim.weight_decay == 0.0:
        changes["weight_decay"] = 0.01  # AdamW with no decay is exactly Adam
    _store_train_cfg(**changes)
    for field in HYPER_WIDGETS:
        st.session_state.pop(f"t_h_{field}", None)


cfg = train_cfg()
tab_train, tab_results, tab_optim, tab_runs, tab_save = lazy_tabs(
    ["train.tab.train", "train.tab.results", "train.tab.optim", "train.tab.runs", "train.tab.save"], "t_tab")

ctrl, notice = controller(data)
sync_runs(ctrl)

with tab_train:
    left, right = st.columns([3, 8], gap="large")  # the live view (boundary) gets the room
    with left:
        if visible("train.optimizer"):
            st.selectbox(tr("train.optimizer"), OPTIMIZERS, index=OPTIMIZERS.index(cfg.optim.name),
                         format_func=fmt("optim.", ".label"), key="t_opt", on_change=_on_optimizer)
        info = OPTIMIZER_INFO[cfg.optim.name]
        for field in [f for f in info.fields if visible("train.lr" if f == "lr" else "train.hyper")]:
            kind, lo, hi, step, fmt = HYPER_WIDGETS[field]
            key = f"t_h_{field}"
            value = getattr(cfg.optim, field)
            label = tr(f"optim.field.{field}")
            if kind == "toggle":
                st.toggle(label, value=bool(value), key=key, on_change=_on_widget, args=(field, key))
            elif kind == "slider":
                decimal_slider(st, label, lo, hi, float(value), step, key=key, on_change=_on_widget,
                               args=(field, key))
            else:
                decimal_input(st, label, lo, hi, float(value), fmt, key=key, on_change=_on_widget,
                              args=(field, key))
        n_train = len(data.y_train)
        sizes = sorted({s for s in (1, 4, 8, 16, 32, 64, 128, 256) if s < n_train} | {n_train})
        if visible("train.batch"):
            st.select_slider(tr("train.batch_size"), options=sizes,
                             value=min(sizes, key=lambda s: abs(s - cfg.batch_size)), key="t_batch",
                             format_func=lambda s, full=tr("train.full_batch", n=n_train): full if s == n_train else str(s),
                             on_change=_on_widget, args=("batch_size", "t_batch", int))
        c1, c2 = st.columns(2)
        if visible("train.epochs"):
            c1.number_input(tr("train.epochs"), 1, MAX_EPOCHS, int(cfg.epochs), 10, key="t_epochs",
                            on_change=_on_widget, args=("epochs", "t_epochs", int))
        if visible("train.seed"):
            c2.number_input(tr("train.seed"), 0, 10_000, int(cfg.seed), 1, key="t_seed",
                            on_change=_on_widget, args=("seed", "t_seed", int))
        es_on = visible("train.early_stopping") and st.toggle(
            tr("train.early_stopping"), value=cfg.patience is not None, key="t_es", help=tr("train.early_stopping.help"),
            on_change=lambda: _store_train_cfg(patience=10 if st.session_state["t_es"] else None))
        if es_on and cfg.patience is not None:
            st.number_input(tr("train.patience"), 1, 500, int(cfg.patience), 1, key="t_patience",
                            on_change=_on_widget, args=("patience", "t_patience", int))
        err = st.session_state.pop("_train_error", None)
        if err is not None:
            show_error(err)
        fixed_note("train")
        st.caption(tr("train.config_note"))

    with right:
        b1, b2, b3, b4 = st.columns(4)
        b1.button(tr("train.play"), key="t_play", on_click=ctrl.play, icon=":material/play_arrow:",
                  type="primary", width="stretch")
        # Pause and Step wait (briefly) for the chunk in flight, so the page redraws already
        # settled instead of polling until the chunk ends and then forcing a full rerun.
        b2.button(tr("train.pause"), key="t_pause", on_click=lambda: (ctrl.pause(), ctrl.wait(SETTLE_SECONDS)),
                  icon=":material/pause:", width="stretch")
        b3.button(tr("train.step"), key="t_step", on_click=lambda: (ctrl.step(), ctrl.wait(SETTLE_SECONDS)),
                  icon=":material/skip_next:",
                  width="stretch")
        b4.button(tr("train.reset"), key="t_reset", icon=":material/restart_alt:", width="stretch",
                  on_click=lambda: (sync_runs(ctrl, leaving=True), ctrl.reset(model_cfg(), train_cfg())))
        polling = ctrl.mode == PLAYING or ctrl.busy
        if notice:
            st.info(tr(notice), icon="🔁")
        tuned_note(ctrl)
        if not polling:  # judged once the training stops (never on the live view's ticks)
            unstable_warning(data, ctrl)
        show_test = st.toggle(tr("train.show_test"), value=False, key="t_show_test") if (
            data.is_2d and data.task is not Task.REGRESSION) else False
        metric_label = tr("metric.r2") if data.task is Task.REGRESSION else tr("metric.accuracy")
        grid = input_grid(data)

        from ui.jobs import poll_interval

        @st.fragment(run_every=poll_interval() if polling else None)
        @guarded
        def live_view() -> None:
            snap = ctrl.snapshot()
            state = snap.state
            status_key = "train.status.playing" if snap.mode == PLAYING else f"train.status.{state.status}"
            status = tr(status_key)
            if snap.finished_in is not None:  # how long the class's shared workers took, queue included
                status = tr("train.finished_in", status=status, seconds=number_formatter()(snap.finished_in, 2))
            st.markdown(tr("train.progress", epoch=state.epoch, total=ctrl.train_cfg.epochs, status=status))
            st.progress(min(1.0, state.epoch / max(1, ctrl.train_cfg.epochs)))
            if snap.queue_position > 0:
                st.info(tr("train.queue", position=snap.queue_position), icon="⏳")
            if state.status == "diverged":
                st.error(tr("train.diverged", epoch=state.diverged_epoch, step=state.diverged_step), icon="💥")
            if state.status == "early_stopped":
                st.success(tr("train.early_stopped", epoch=state.epoch), icon="🛑")
            if snap.error is not None:
                if isinstance(snap.error, MLCoreError):
                    st.error(snap.error.message(lang()), icon="⚠️")
                else:
                    st.error(tr("train.worker_error"), icon="⚠️")
            figs = live_figures(data, snap, grid, show_test, metric_label)
            options = {"config": {"displayModeBar": False}}
            if "curves" in figs:
                show_chart(st, figs["curves"], key="t_curves", **options)
            else:
                st.caption(tr("train.press_play"))
            if "boundary" in figs:
                c1 = c2 = st.container()  # the boundary is the centrepiece: full width, neuron maps below
                show_chart(c1, figs["boundary"], key="t_boundary", **options)
                if "neurons" in figs:
                    c2.markdown(f"**{tr('train.neuron_maps')}**")
                    show_chart(c2, figs["neurons"], key="t_neurons", **options)
            if "fit" in figs:
                show_chart(st, figs["fit"], key="t_fit", **options)
            if polling and snap.mode != PLAYING and not ctrl.busy:
                st.rerun()  # nothing left to poll: redraw metrics and runs, and stop polling

        live_view()

# ---- results ------------------------------------------------------------------------------------
with tab_results:
    if tab_open(tab_results):
        snap = ctrl.snapshot()
        if snap.result is None or snap.result.val_pred is None:
            st.info(tr("train.no_results"), icon="ℹ️")
        else:
            st.caption(tr("train.results_note", epoch=snap.state.epoch))
            from ui.evaluate_metrics import metrics_panel

            metrics_panel(data, data.y_val, snap.result.val_pred, key="t")
            st.page_link("pages/evaluate.py", label=tr("nav.evaluate"), icon=":material/fact_check:")

# ---- optimizer table ---------------------------------------------------------------------------
with tab_optim:
    if tab_open(tab_optim):
        from ui.train_panels import optimizer_table

        optimizer_table(data, model_cfg())

# ---- runs ----------------------------------------------------------------------------------------
with tab_runs:
    if tab_open(tab_runs):
        from ui.train_panels import runs_panel

        runs_panel(metric_label)

# ---- save / load / share ------------------------------------------------------------------------
with tab_save:
    if tab_open(tab_save):
        from ui.train_panels import save_load_share

        save_load_share(data, ctrl)

st.info(try_tip(), icon="🧪")
