"""Session-side glue for long jobs: who owns them, whether the browser is still there, and how
often a live view should poll.

- ``session_owner()``: this browser session's id, which the worker pool is fair between.
- ``session_alive()``: a callable the controllers ask after each chunk. It is True while the
  session's websocket is connected (Streamlit's runtime keeps the list; the lookup is thread-safe),
  so a closed tab stops holding a shared worker within seconds (``mlcore.jobs.GONE_GRACE_SECONDS``).
- ``start_job(key, job)`` / ``job_controller(key)``: one ``JobController`` per key in this session's
  state, on the server's one worker pool.
- ``poll_interval()``: live views poll every 0.5 s when the server is quiet and more slowly as more
  sessions have work running (never slower than ``MAX_POLL_SECONDS``), so 30 students training at
  once cost the one server process a bounded number of reruns per second.
"""

from __future__ import annotations

import streamlit as st

MIN_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 1.5
SESSIONS_PER_EXTRA_SECOND = 20  # each 20 busy sessions add one second between two polls


def session_owner() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def session_alive():
    """``alive()`` for this session, or None outside a real server (AppTest, bare mode)."""
    from streamlit import runtime

    session_id = session_owner()
    if session_id is None or not runtime.exists():
        return None
    instance = runtime.get_instance()
    if instance.get_client(session_id) is None:  # AppTest: no websocket client at all
        return None
    return lambda: instance.get_client(session_id) is not None


def poll_interval(pool=None) -> float:
    from ui.training import worker_pool

    pool = pool or worker_pool()
    busy = pool.active_owners
    return min(MAX_POLL_SECONDS, MIN_POLL_SECONDS + busy / SESSIONS_PER_EXTRA_SECOND)


def is_running(ctrl) -> bool:
    """A job controller (or None) that is running or still has a chunk in flight."""
    from mlcore.jobs import RUNNING

    return ctrl is not None and (ctrl.mode == RUNNING or ctrl.busy)


def job_controller(key: str):
    """The ``JobController`` kept under ``key`` in this session, or None."""
    return st.session_state.get(key)


def start_job(key: str, job, on_finish=None):
    """Replace the job under ``key`` by ``job`` and start it in the worker pool."""
    from mlcore.jobs import JobController
    from ui.training import worker_pool

    old = st.session_state.get(key)
    if old is not None:
        old.cancel()
    ctrl = JobController(worker_pool(), job, owner=session_owner(), alive=session_alive(), on_finish=on_finish)
    st.session_state[key] = ctrl
    ctrl.start()
    return ctrl


def make_and_start(key: str, make_job, meta: dict | None = None):
    """``start_job(key, make_job())``; an ``MLCoreError`` from ``make_job`` (bad settings) is kept
    for ``show_start_error(key)`` instead, and whatever ran before under ``key`` stays."""
    from mlcore.errors import MLCoreError

    try:
        job = make_job()
    except MLCoreError as err:
        st.session_state[f"_{key}_error"] = err
        return None
    if meta is not None:
        job.meta = {**(getattr(job, "meta", None) or {}), **meta}
    return start_job(key, job)


def show_start_error(key: str) -> None:
    from ui.common import show_error

    err = st.session_state.pop(f"_{key}_error", None)
    if err is not None:
        show_error(err)


def show_job_status(snap) -> None:
    """A job's queue position while it waits, and its failure in the user's language."""
    from mlcore.errors import MLCoreError
    from ui.common import lang, tr

    if snap.queue_position > 0:
        st.info(tr("train.queue", position=snap.queue_position), icon="⏳")
    if snap.error is not None:
        st.error(snap.error.message(lang()) if isinstance(snap.error, MLCoreError) else tr("train.worker_error"),
                 icon="⚠️")


def settle_polling(ctrl, was_running: bool) -> None:
    """Inside a polling fragment: once the job has stopped or finished, redraw the page once (which
    also stops the polling)."""
    from mlcore.jobs import RUNNING

    if was_running and ctrl.mode != RUNNING and not ctrl.busy:
        st.rerun()
