"""Session-side glue for the Tune page: this session's study key, the study store, the search
space widgets, the trials table, the plots' words, and the session's abandoned trials.

A study job's running trial is failed with its reason (``TuneJob.abandon``) when its job is
replaced (Start or Continue while a job still holds a trial: :func:`retire`) and when the page
finds the job no longer running but still holding one (its tab was closed and came back, or the
job failed: :func:`settle_abandoned`). Trials of sessions that are gone for good end FAIL through
the heartbeat (``mlcore.tune.storage.fail_stale_trials``)."""

from __future__ import annotations

import uuid

import streamlit as st

from mlcore.tune.space import BATCH_SIZES, SearchSpace
from ui.common import decimal_slider, keep, multiselect, plain, tr

JOB_KEY, COMPARE_KEY, RETRAIN_KEY = "tune_job", "tune_compare", "tune_retrain"


def owner_key() -> str:
    """This learner's study key (random per session, or ``?who=KEY`` from the address, or typed
    in on the page), so that after a reload or a server restart their studies can be found again.
    The page does not rewrite the address itself: other pages' links and share links stay as
    they are."""
    ss = st.session_state
    if not ss.get("tune_owner"):
        ss["tune_owner"] = st.query_params.get("who") or uuid.uuid4().hex[:8]
    return ss["tune_owner"]


def _set_owner() -> None:
    value = "".join(ch for ch in st.session_state.get("tu_owner_in", "") if ch.isalnum())[:32]
    if value:
        st.session_state["tune_owner"] = value


def owner_widget(owner: str) -> None:
    st.caption(tr("tune.owner", code=owner))
    st.text_input(tr("tune.owner.change"), key="tu_owner_in", on_change=_set_owner, placeholder=owner)


@st.cache_resource(show_spinner=False)
def _store(location: str | None):
    from mlcore.tune.storage import StudyStore

    return StudyStore(location)


def store():
    """The server's study store (``MLPLAB_STORAGE_URL`` or the data dir), read-only in behaviour."""
    import os

    from mlcore.tune.storage import ENV_DIR, ENV_URL

    return _store(os.environ.get(ENV_URL) or os.environ.get(ENV_DIR))


def space_widgets(mcfg, tcfg) -> SearchSpace:
    """One row per hyperparameter: a toggle (on = searched) and its range; off = current value."""
    default = SearchSpace()
    out = {}

    def row(name, widget, current):
        c1, c2 = st.columns([2, 3])
        on = c1.toggle(tr(f"tune.param.{name}"), value=getattr(default, name) is not None, **keep(f"tu_on_{name}"))
        if on:
            with c2:
                out[name] = widget()
        else:
            c2.caption(tr("tune.param.off", value=current))
            out[name] = None

    row("lr", lambda: tuple(10 ** v for v in decimal_slider(st, tr("tune.range.log10"), -5.0, 0.0, (-4.0, -1.0), 0.5,
                                                            **keep("tu_lr"))), plain(tcfg.optim.lr))
    row("n_layers", lambda: st.slider(tr("tune.range"), 0, 5, (1, 3), **keep("tu_layers")), mcfg.depth)
    row("units", lambda: st.slider(tr("tune.range"), 1, 256, (4, 64), **keep("tu_units")),
        ", ".join(str(h.units) for h in mcfg.hidden) or "-")
    from mlcore.config import ACTIVATIONS, OPTIMIZERS
    from ui.common import fmt

    row("activation", lambda: tuple(multiselect(st, tr("tune.choices"), ACTIVATIONS, ["relu", "tanh"],
                                                format_func=fmt("model.act."), **keep("tu_act"))) or None,
        ", ".join(h.activation for h in mcfg.hidden) or "-")
    row("optimizer", lambda: tuple(multiselect(st, tr("tune.choices"), OPTIMIZERS, ["sgd", "adam"],
                                               format_func=fmt("optim.", ".label"), **keep("tu_opt"))) or None,
        tr(f"optim.{tcfg.optim.name}.label"))
    row("batch_size", lambda: tuple(multiselect(st, tr("tune.choices"), BATCH_SIZES, [16, 64], **keep("tu_bs"))) or None,
        tcfg.batch_size)
    row("weight_decay", lambda: tuple(10 ** v for v in decimal_slider(st, tr("tune.range.log10"), -6.0, -1.0,
                                                                      (-5.0, -2.0), 0.5, **keep("tu_wd"))),
        plain(tcfg.optim.weight_decay))
    row("dropout", lambda: decimal_slider(st, tr("tune.range"), 0.0, 0.8, (0.0, 0.5), 0.05, **keep("tu_drop")),
        plain(mcfg.dropout))
    row("epochs", lambda: st.slider(tr("tune.range"), 2, 300, (10, 60), **keep("tu_epochs")), tcfg.epochs)
    return SearchSpace(**out)


def retire(key: str, why: str = "replaced") -> None:
    """Before a new job takes ``key``: drop the old one's chunk in flight and fail its trial."""
    from ui.jobs import job_controller

    ctrl = job_controller(key)
    if ctrl is None:
        return
    ctrl.cancel()  # waits for a chunk being absorbed; a later result is dropped
    if getattr(ctrl.job, "has_running_trial", False):
        ctrl.job.abandon(why)


def settle_abandoned(key: str) -> None:
    """A job under ``key`` that stopped (or failed) with a trial still running: fail that trial."""
    from ui.jobs import is_running, job_controller

    ctrl = job_controller(key)
    if ctrl is not None and not is_running(ctrl) and getattr(ctrl.job, "has_running_trial", False):
        ctrl.job.abandon("stopped")


def plot_words() -> dict[str, str]:
    """English texts Optuna's plots set -> this session's language (and parameter names)."""
    from mlcore.plots.tune import OPTUNA_TEXTS
    from mlcore.tune.space import PARAMS

    return {en: tr(key) for en, key in OPTUNA_TEXTS.items()} | {p: tr(f"tune.param.{p}") for p in PARAMS}


def fail_note(trial) -> str:
    """Why a trial failed, in the session's language when the reason has a catalogue key."""
    info = trial.user_attrs.get("fail_key")
    if isinstance(info, dict) and info.get("key"):
        text = tr(info["key"], **(info.get("params") or {}))
        if text != info["key"]:
            return text
    return trial.user_attrs.get("fail_reason", "")


def table_height(n_rows: int, cap: int = 420) -> int:
    """``st.dataframe``'s height for ``n_rows`` rows and the header (35 px each, 3 px of border),
    at most ``cap``: the old formula left an empty row at the bottom."""
    return min(cap, 35 * (max(1, n_rows) + 1) + 3)


def not_yet_note(study) -> str:
    """Why a plot cannot be drawn yet, with the study's counts (a 3-trial study with 2 pruned has
    one complete trial: most plots need two)."""
    trials = study.get_trials(deepcopy=False)
    return tr("tune.plot.not_yet", complete=sum(t.state.name == "COMPLETE" for t in trials), total=len(trials),
              pruned=sum(t.state.name == "PRUNED" for t in trials))


def trials_rows(study, trials=None) -> list[dict]:
    """The live trials table: number, state, value, one column per tuned parameter (named in the
    session's language, floats to 3 significant digits), epochs, duration, a failed trial's reason.
    A pruned trial's value is Optuna's, its intermediate value at its last epoch (the epochs column):
    the page says so under the table (a note per row was cut off in the last column)."""
    from mlcore.tune.space import PARAMS

    trials = study.get_trials(deepcopy=False) if trials is None else trials
    tuned = {name for t in trials for name in t.params}
    names = [p for p in PARAMS if p in tuned] + sorted(tuned - set(PARAMS))  # a worker's own extras last
    heads = {p: tr(f"tune.col.param.{p}") if p in PARAMS else p for p in names}
    rows = []
    for t in trials:
        duration = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and t.datetime_start else None
        row = {
            tr("tune.col.number"): t.number,
            tr("tune.col.state"): tr(f"tune.state.{t.state.name.lower()}"),
            tr("tune.col.value"): None if t.value is None else round(t.value, 4),
        }
        for p in names:
            v = t.params.get(p)
            row[heads[p]] = float(f"{v:.3g}") if isinstance(v, float) else v
        rows.append(row | {
            tr("tune.col.epochs"): t.user_attrs.get("epochs_run"),
            tr("tune.col.seconds"): None if duration is None else round(duration, 2),  # pruned ones: 0.05 s
            tr("tune.col.note"): fail_note(t) if t.state.name == "FAIL" else "",
        })
    return rows[::-1]
