"""Session-side glue for the Build and Train pages: the shared worker pool, this session's
training controller, recorded runs and the current configs.

The pool is one per server (``st.cache_resource``); the controller, runs and configs are per
session (``st.session_state``), so two browser sessions never share or overwrite models or runs.
"""

from __future__ import annotations

import streamlit as st

from mlcore.config import ModelConfig, TrainConfig
from mlcore.dataset import PreparedData
from mlcore.runs import RunRecord, add_run, run_label
from ui.common import decimal_mark, tr


def _release_pool(pool) -> None:
    pool.shutdown()


@st.cache_resource(show_spinner=False, on_release=_release_pool)
def worker_pool():
    """One pool per server. ``MLPLAB_POOL=thread`` runs jobs on threads instead of processes
    (AppTest tests only: the same controller code without process start-up)."""
    import os

    from mlcore.jobs import WorkerPool

    if os.environ.get("MLPLAB_POOL") == "thread":
        from concurrent.futures import ThreadPoolExecutor

        return WorkerPool(n_workers=1, executor=ThreadPoolExecutor(1))
    pool = WorkerPool()
    pool.warm_up()
    return pool


def model_cfg() -> ModelConfig:
    return st.session_state.get("model_cfg") or ModelConfig()


def train_cfg() -> TrainConfig:
    return st.session_state.get("train_cfg") or TrainConfig()


def per_dataset(key: str, data: PreparedData, build):
    """``build(data)``, computed once per dataset object and kept in this session."""
    cached = st.session_state.get(key)
    if cached is not None and cached[0] is data:
        return cached[1]
    value = build(data)
    st.session_state[key] = (data, value)
    return value


def arrays_for(data: PreparedData):
    """``TrainArrays`` of the current dataset (what the worker processes receive)."""
    from mlcore.train import TrainArrays

    return per_dataset("_arrays", data, TrainArrays.from_prepared)


def input_grid(data: PreparedData):
    """The grid over the input plane or line for the live views (None beyond 2 inputs)."""
    from mlcore.views import input_grid as make_grid

    return per_dataset("_grid", data, make_grid)


def controller(data: PreparedData):
    """This session's controller for the current data and architecture (rebuilt when they change).

    Returns (controller, notice_key or None).
    """
    from mlcore.jobs import TrainingController

    ctrl = st.session_state.get("controller")
    mcfg, tcfg = model_cfg(), train_cfg()
    notice = None
    if ctrl is not None and st.session_state.get("_controller_data") is data and ctrl.model_cfg == mcfg:
        ctrl.set_train_config(tcfg)
        return ctrl, None
    if ctrl is not None:
        sync_runs(ctrl, leaving=True)
        ctrl.reset()  # drop any chunk still in flight
        notice = "train.notice.rebuilt"
    from ui.jobs import session_alive, session_owner

    grid = input_grid(data)
    ctrl = TrainingController(worker_pool(), arrays_for(data), mcfg, tcfg,
                              views=grid.view_spec() if grid is not None else None,
                              owner=session_owner(), alive=session_alive())
    st.session_state["controller"] = ctrl
    st.session_state["_controller_data"] = data
    st.session_state["_recorded"] = None
    return ctrl, notice


def optimizer_title(name: str) -> str:
    return tr(f"optim.{name}.label")


def sync_runs(ctrl, leaving: bool = False) -> None:
    """Record the controller's run once: when it has ended (done, early stopped or diverged), or,
    with ``leaving``, when it is about to be reset or replaced after at least one epoch."""
    from mlcore.jobs import FINISHED

    snap = ctrl.snapshot()
    key = (id(ctrl), snap.generation)
    if st.session_state.get("_recorded") == key or not snap.state.history:
        return
    if snap.mode != FINISHED and not leaving:
        return
    data = st.session_state.get("_controller_data")
    arrays = ctrl.arrays
    n_out = arrays.n_classes if arrays.n_classes > 2 else 1
    st.session_state["_run_counter"] = st.session_state.get("_run_counter", 0) + 1
    record = RunRecord(
        id=st.session_state["_run_counter"],
        label=f"#{st.session_state['_run_counter']} " + run_label(
            ctrl.model_cfg, ctrl.train_cfg, arrays.X_train.shape[1], n_out,
            optimizer_title(ctrl.train_cfg.optim.name), decimal_mark()),
        data_name=data.name if data is not None else "",
        model_cfg=ctrl.model_cfg,
        train_cfg=ctrl.train_cfg,
        history=tuple(snap.state.history),
        status=snap.state.status,
    )
    st.session_state["runs"] = add_run(st.session_state.get("runs") or [], record)
    st.session_state["_recorded"] = key


def is_tuned_model(ctrl) -> bool:
    """``ctrl``'s run is the Tune page's adopted retraining (until Reset or a rebuild)."""
    tuned = st.session_state.get("tune_best") or {}
    return tuned.get("controller") == (id(ctrl), ctrl.snapshot().generation)


def tuned_note(ctrl) -> None:
    """While the current run is the Tune page's retrained best (until Reset or a rebuild): where it
    came from, and why its validation curve and metrics are no longer honest."""
    if is_tuned_model(ctrl):
        tuned = st.session_state.get("tune_best") or {}
        st.info(tr("train.from_tune", number=tuned.get("number"), name=tuned.get("name")), icon="⭐")
