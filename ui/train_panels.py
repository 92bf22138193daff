"""Secondary panels of the Train page: the tip, the unstable-training warning, optimizer table,
recorded runs, save/load and share link."""

from __future__ import annotations

import functools
from urllib.parse import urlencode

import streamlit as st

from mlcore.errors import MLCoreError
from mlcore.runs import delete_runs
from ui.common import class_names, keep, lang, multiselect, number_formatter, number_table, show_error, tr
from ui.projector import show_chart
from ui.training import model_cfg, optimizer_title, per_dataset, train_cfg


@functools.lru_cache(maxsize=64)
def _measured_memory(model_cfg, n_in: int, n_out: int):
    """Per process, not per session: the figures depend only on the architecture (st.cache_data
    would hash the config and unpickle a copy on every page run)."""
    from mlcore.optim_table import measure_memory

    n_params, rows = measure_memory(model_cfg, n_in, n_out)
    return n_params, tuple(rows)


def live_figures(data, snap, grid, show_test: bool, metric_label: str) -> dict:
    """The live view's figures for this snapshot, built once per new training state.

    The live view polls twice a second; between two chunks nothing changes, so the figures of
    the last state are kept in the session and reused (30 sessions polling would otherwise keep
    the server busy rebuilding identical figures).
    """
    from mlcore.config import Task
    from mlcore.plots import train as plots

    state, result = snap.state, snap.result
    key = (snap.generation, state.epoch, id(result), show_test, lang(), metric_label)
    cached = st.session_state.get("_live_figs")
    if cached is not None and cached[0] == key:
        return cached[1]
    figs = {}
    if state.history:
        labels = {"loss": tr("train.loss"), "train": tr("split.train"), "val": tr("split.val"),
                  "epoch": tr("train.epoch")}
        figs["curves"] = plots.learning_curves(state.history, labels, metric_label)
    if grid is not None and result is not None and result.grid_out is not None:
        names = tuple(data.raw_feature_names)
        if data.is_2d and data.task is not Task.REGRESSION:
            points = _split_points(data, names, show_test)
            figs["boundary"] = plots.decision_boundary(grid.axes, result.grid_out, points,
                                                       class_names(data) or [], names)
            if result.hidden_out:
                figs["neurons"] = plots.neuron_maps(grid.hidden_axes, result.hidden_out, tr("train.layer_n"))
        elif data.is_1d and data.task is Task.REGRESSION:
            points = [(tr("split.train"), data.raw_train[names[0]].to_numpy(float), data.y_train),
                      (tr("split.val"), data.raw_val[names[0]].to_numpy(float), data.y_val)]
            figs["fit"] = plots.fit_curve(grid.axes[0], result.grid_out, points, (names[0], data.target_name),
                                          tr("train.model"))
    from mlcore.plots.fast import frozen

    # st.plotly_chart deep-copies a figure (to_dict) on every run; the same figures are redrawn on
    # every tick until the next chunk arrives, so each is made into plain data once per state
    figs = {name: frozen(fig) for name, fig in figs.items()}
    st.session_state["_live_figs"] = (key, figs)
    return figs


def try_tip() -> str:
    """The page's closing tip, naming the lesson, its dataset (display name, not the internal id:
    "sin" is Spanish for "without") and its learning rate from the preset itself."""
    from mlcore.presets import get_preset

    preset = get_preset("diverge")
    step = preset.step("high")
    return tr("train.try", lesson=tr(preset.title_key), dataset=tr(f"data.builtin.{step.source['name']}"),
              lr=number_formatter()(step.train.optim.lr))


def unstable_diagnosis(data, ctrl):
    """The curve diagnosis of the current training (``mlcore.evaluate.diagnosis``), or None while it
    runs. Computed once per training state (generation, epochs, last record) and kept in the
    session: the page calls it on every run, never from the live view's ticks."""
    from mlcore.jobs import PLAYING

    snap = ctrl.snapshot()
    history = snap.state.history
    if snap.mode == PLAYING or ctrl.busy or not history or snap.state.status == "diverged":
        return None  # running: judged when it stops; diverged: the page already says so
    key = (id(ctrl), snap.generation, len(history), id(history[-1]))
    cached = st.session_state.get("_train_diag")
    if cached is not None and cached[0] == key:
        return cached[1]
    from mlcore.evaluate.diagnosis import baseline_losses, diagnose_history

    diagnosis = diagnose_history(history, baseline_losses(data.y_train, data.task, ctrl.model_cfg.loss))
    st.session_state["_train_diag"] = (key, diagnosis)
    return diagnosis


def unstable_warning(data, ctrl) -> None:
    """A short warning when a stopped training is diagnosed "unstable" (the loss blew up and
    never recovered), with a link to Evaluate's Diagnosis tab, which explains it in full."""
    d = unstable_diagnosis(data, ctrl)
    if d is None or d.verdict != "unstable":
        return
    from ui.evaluate import diagnosis_quotes

    quoted = diagnosis_quotes(d)
    st.warning(f"**{tr('diag.unstable.title')}** {tr(d.explanation_key, **quoted)} {tr(d.advice_key)}",
               icon="⚠️")
    if st.button(tr("train.unstable.link", page=tr("nav.evaluate"), tab=tr("eval.tab.diagnosis")),
                 key="t_to_diagnosis", icon=":material/fact_check:"):
        # Evaluate opens on its Diagnosis tab (the tabs' widget, ui.common.lazy_tabs, is not on this page)
        st.session_state[f"e_tab_{lang()}"] = tr("eval.tab.diagnosis")
        st.switch_page("pages/evaluate.py")


def _split_points(data, names: tuple, show_test: bool) -> list:
    """The train/validation(/test) points of the boundary plot. Their arrays are the same for every
    tick of one dataset, so they are taken out of the DataFrames once per dataset, not per redraw."""
    arrays = per_dataset("_live_points", data, lambda d: {
        split: getattr(d, f"raw_{split}")[list(names)].to_numpy(float) for split in ("train", "val", "test")})
    splits = [("train", data.y_train, "circle"), ("val", data.y_val, "diamond")]
    if show_test and len(data.y_test):
        splits.append(("test", data.y_test, "x"))
    return [(tr(f"split.{split}"), arrays[split], y, symbol) for split, y, symbol in splits]


def optimizer_table(data, cfg) -> None:
    from mlcore.model import output_size
    from mlcore.optim import OPTIMIZER_INFO

    n_out = output_size(data.task, data.n_classes, cfg.binary_head)
    n_params, measured = _measured_memory(cfg, data.n_features, n_out)
    st.markdown(tr("otable.table_intro", n=n_params))
    rows = []
    for row in measured:
        info = OPTIMIZER_INFO[row.name]
        rows.append({
            tr("optim.table.optimizer"): optimizer_title(row.name),
            tr("optim.table.memory"): f"{row.formula} = {row.expected_bytes:,}".replace(",", " "),
            tr("optim.table.measured"): f"{row.measured_bytes:,}".replace(",", " "),
            tr("optim.table.tunable"): info.n_tunable,
            tr("optim.table.strengths"): tr(info.strengths_key),
            tr("optim.table.weaknesses"): tr(info.weaknesses_key),
        })
    st.table(rows)
    st.caption(tr("otable.table_source"))


def runs_panel(metric_label: str) -> None:
    from mlcore.plots.train import overlay_runs

    runs = st.session_state.get("runs") or []
    if not runs:
        st.info(tr("runs.empty"), icon="ℹ️")
        return
    labels = {r.id: r.label for r in runs}
    seen = st.session_state.get("_runs_seen")
    if seen is None or "r_chosen" not in st.session_state:
        st.session_state["r_chosen"] = [r.id for r in runs[-4:]]
    elif set(seen) != set(labels):  # new runs join the overlay; deleted ones leave it
        kept = [i for i in st.session_state["r_chosen"] if i in labels]
        st.session_state["r_chosen"] = kept + [i for i in labels if i not in seen]
    st.session_state["_runs_seen"] = list(labels)
    chosen = multiselect(st, tr("runs.choose"), list(labels), format_func=labels.get, **keep("r_chosen"))
    table = [{"#": r.id, tr("runs.col.label"): r.label, tr("runs.col.data"): r.data_name,
              tr("runs.col.epochs"): r.epochs, tr("runs.col.status"): tr(f"train.status.{r.status}"),
              tr("runs.col.val_loss"): round(r.final_val_loss, 4),
              metric_label: round(r.final_val_metric, 4)} for r in runs]
    st.dataframe(number_table(table), hide_index=True, width="stretch")
    selected = [r for r in runs if r.id in chosen]
    if selected:
        show_chart(st, overlay_runs([(r.label, list(r.history)) for r in selected],
                                     {"val_loss": tr("runs.val_loss"), "val_metric": metric_label,
                                      "epoch": tr("train.epoch")}),
                        key="r_overlay", config={"displayModeBar": False})

    def _delete() -> None:
        st.session_state["runs"] = delete_runs(st.session_state.get("runs") or [],
                                               set(st.session_state.get("r_chosen") or []))
        st.session_state.pop("r_chosen", None)

    st.button(tr("runs.delete"), key="r_delete", on_click=_delete, disabled=not chosen,
              icon=":material/delete:")


def save_load_share(data, ctrl) -> None:
    from mlcore import persist
    from mlcore.share import encode

    snap = ctrl.snapshot()
    st.subheader(tr("save.download_title"))
    if snap.state.epoch == 0:
        st.caption(tr("save.untrained"))
    payload = persist.save_model(ctrl.model_cfg, snap.state.model_state, persist.meta_for(data))
    st.download_button(tr("save.download"), payload, file_name="mlp_lab_model.safetensors",
                       mime="application/octet-stream", key="s_download", icon=":material/download:")

    st.subheader(tr("save.upload_title"))
    upload = st.file_uploader(tr("save.upload"), type=["safetensors"], key="s_upload")
    if upload is not None and st.session_state.get("_loaded_model_id") != upload.file_id:
        from mlcore.model import output_size
        from mlcore.train import state_to_numpy

        try:
            loaded_cfg, model, _meta = persist.load_model_bytes(
                upload.getvalue(), expected_inputs=data.n_features,
                expected_outputs=output_size(data.task, data.n_classes, model_cfg().binary_head))
            st.session_state["model_cfg"] = loaded_cfg
            from ui.training import controller

            new_ctrl, _ = controller(data)
            new_ctrl.adopt_weights(state_to_numpy(model.state_dict()))
            st.session_state["_loaded_model_id"] = upload.file_id
            st.success(tr("save.loaded"), icon="✅")
        except MLCoreError as err:
            show_error(err)

    st.subheader(tr("share.title"))
    source = data.source if isinstance(data.source, dict) else {}
    params = encode(model_cfg(), train_cfg(), source)
    base = (st.context.url or "").split("?")[0]
    st.code(f"{base}?{urlencode(params)}", language="text", wrap_lines=True)
    st.caption(tr("share.help" if source.get("kind") == "builtin" else "share.csv_note"))
