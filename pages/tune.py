"""Tune: Optuna studies over the search space the user builds, cross-validated, with samplers,
pruners, live trials, the study list, Optuna's plots, Random vs TPE, and "use the best"."""

import streamlit as st

from mlcore.errors import ConfigError, MLCoreError
from ui.common import fmt, fnum, guarded, keep, lazy_tabs, number_table, require_data, show_error, tab_open, tr
from ui.tune import (COMPARE_KEY, JOB_KEY, RETRAIN_KEY, not_yet_note, owner_key, owner_widget, plot_words,
                     retire, settle_abandoned, space_widgets, store, table_height, trials_rows)
from ui.training import arrays_for, controller, input_grid, is_tuned_model, model_cfg, train_cfg

st.title(tr("tune.title"))
st.markdown(tr("tune.intro"))

data = require_data()

from mlcore.config import Task  # noqa: E402
from mlcore.plots.tune import PLOTS, compare_history, study_figure  # noqa: E402
from mlcore.tune.choices import DEFAULT_PRUNER, PRUNERS, SAMPLERS, TPE_STARTUP, decision_epochs  # noqa: E402
from mlcore.tune.objective import (  # noqa: E402
    CompareJob, RetrainJob, TuneJob, TuneSettings, from_study, study_attrs)
from mlcore.tune.space import configs_from_params  # noqa: E402
from mlcore.tune.storage import fail_stale_trials, new_name  # noqa: E402
from ui.jobs import (is_running, job_controller, make_and_start, poll_interval, settle_polling,  # noqa: E402
                     show_job_status, show_start_error, start_job)
from ui.projector import show_chart  # noqa: E402

for _key in (JOB_KEY, COMPARE_KEY):  # a job that stopped holding a trial (closed tab, failure)
    settle_abandoned(_key)

ss = st.session_state
owner = owner_key()
studies = store()
mcfg, tcfg = model_cfg(), train_cfg()
score_label = tr("metric.r2") if data.task is Task.REGRESSION else tr("metric.accuracy")
CHART = {"config": {"displayModeBar": False}}
AXIS_LABELS = ("history", "intermediate", "edf", "timeline")
if ss.get("_tu_name_for") != data.name:  # a fresh study name for each dataset (the field is remembered)
    ss["tu_name"], ss["_tu_name_for"] = new_name(data.name), data.name


def _target(metric: str, task) -> str:
    """The objective's name on Optuna's plots (``target_name``)."""
    if metric == "loss":
        return tr("tune.fig.target.loss")
    return tr("tune.fig.target.score", metric=tr("metric.r2") if task is Task.REGRESSION else tr("metric.accuracy"))


def _open(name: str, n_trials: int, settings=None):
    """(study, settings, arrays) with the study's own sampler and pruner (Optuna stores neither)."""
    loaded = studies.load(name)
    stored, arrays = from_study(loaded)
    settings = settings or stored
    sampler, pruner, notices = settings.sampler_and_pruner()
    ss["tune_notices"] = notices
    return studies.load(name, sampler=sampler, pruner=pruner), settings, arrays


def _start(space) -> None:
    def make():
        settings = TuneSettings(space=space, sampler=ss["tu_sampler"], pruner=ss["tu_pruner"], metric=ss["tu_metric"],
                                k=int(ss["tu_k"]), seed=int(ss["tu_seed"]), model_cfg=mcfg, train_cfg=tcfg)
        arrays = arrays_for(data)
        sampler, pruner, notices = settings.sampler_and_pruner()
        study = studies.create(ss["tu_name"], settings.direction, study_attrs(settings, arrays, data.source),
                               owner=owner, shared=bool(ss.get("tu_share")), sampler=sampler, pruner=pruner)
        ss["tune_notices"] = notices
        retire(JOB_KEY)
        return TuneJob(study, settings, arrays, int(ss["tu_trials"]))

    if make_and_start(JOB_KEY, make) is not None:
        ss["tu_name"] = new_name(data.name)


def _continue(name: str, n_trials: int) -> None:
    """More trials of a listed study; a job this session still runs gives up its trial first."""
    def make():
        study, settings, arrays = _open(name, n_trials)
        retire(JOB_KEY)
        fail_stale_trials(study)
        return TuneJob(study, settings, arrays, n_trials)

    make_and_start(JOB_KEY, make)


def _stop(key: str) -> None:
    """End after the running trial (it is finished and told as usual, so none is left RUNNING)."""
    ctrl = job_controller(key)
    if ctrl is not None:
        ctrl.job.request_stop()


def _delete(name: str) -> None:
    """Delete a study of this session's; a job of this session still running it ends first (its
    trial FAIL), so that no write recreates the deleted file."""
    for key in (JOB_KEY, COMPARE_KEY):
        ctrl = job_controller(key)
        jobs = getattr(ctrl.job, "jobs", [ctrl.job]) if ctrl is not None else []
        if any(j.study.study_name == name for j in jobs):
            retire(key, "stopped")
    try:
        studies.delete(name, owner=owner)
    except MLCoreError as err:
        ss["_tune_error_list"] = err


def _use_best(name: str) -> None:
    """Retrain the best trial's configuration on train + validation, in the worker pool."""
    try:
        study, settings, arrays = _open(name, 0)
        if arrays.n_features != data.n_features or arrays.task is not data.task:
            raise ConfigError("err.tune.other_data", name=name)
        m, t = configs_from_params(study.best_params, settings.space, settings.model_cfg, settings.train_cfg)
        ss["tune_best"] = {"name": name, "value": study.best_value, "number": study.best_trial.number}
        ss["_tune_adopted"] = False
        grid = input_grid(data)  # the Train page's boundary view of the adopted model
        start_job(RETRAIN_KEY, RetrainJob(arrays, m, t, views=grid.view_spec() if grid is not None else None))
    except MLCoreError as err:
        ss["_tune_error_list"] = err


def _adopt_if_ready() -> bool:
    """Once the retraining has finished, make it the session's current model (Build and Train
    show it): its configs become the session's, the Train controller takes its weights."""
    rt = job_controller(RETRAIN_KEY)
    if rt is None or ss.get("_tune_adopted") or rt.mode != "finished":
        return False
    job = rt.job
    if job.state.status == "diverged":  # not a model to keep: the session's stays as it was
        ss["_tune_adopted"] = "diverged"
        return False
    ss["model_cfg"], ss["train_cfg"] = job.model_cfg, job.train_cfg
    ctrl, _ = controller(data)
    ctrl.adopt_run(job.result)  # weights, history and epochs: Train, Evaluate and Explain show it
    ss["tune_best"] = {**(ss.get("tune_best") or {}), "controller": (id(ctrl), ctrl.snapshot().generation)}
    ss["_tune_adopted"] = True
    return True


def _adopted_is_current() -> bool:
    """The adopted retraining is still the session's model: the controller of this data, not reset
    or rebuilt since (another dataset or architecture replaces it)."""
    ctrl = ss.get("controller")
    return ctrl is not None and ss.get("_controller_data") is data and is_tuned_model(ctrl)


# The New-study tab always runs (its search space is also the comparison's); the other two run
# only while open (the study list loads a study and builds an Optuna figure)
tab_run, tab_studies, tab_compare = lazy_tabs(["tune.tab.run", "tune.tab.studies", "tune.tab.compare"], "tu_tab")
if _adopt_if_ready():  # a retraining that finished while another tab was open
    st.rerun()

# ---- a new study --------------------------------------------------------------------------------
with tab_run:
    left, right = st.columns([5, 6], gap="large")
    with left:
        st.subheader(tr("tune.space"))
        st.caption(tr("tune.space.note"))
        try:
            space = space_widgets(mcfg, tcfg)
        except MLCoreError as err:
            show_error(err)
            space = None
    with right:
        st.subheader(tr("tune.settings"))
        st.selectbox(tr("tune.sampler"), SAMPLERS, format_func=fmt("tune.sampler.", ".label"), **keep("tu_sampler"))
        st.caption(tr(f"tune.sampler.{ss['tu_sampler']}.help", n=TPE_STARTUP))
        st.selectbox(tr("tune.pruner"), PRUNERS, index=PRUNERS.index(DEFAULT_PRUNER),
                     format_func=fmt("tune.pruner.", ".label"), **keep("tu_pruner"))
        st.caption(tr(f"tune.pruner.{ss['tu_pruner']}.help"))
        longest = space.max_epochs(tcfg) if space is not None else tcfg.epochs
        checks = decision_epochs(ss["tu_pruner"], longest, longest)
        if checks:
            st.caption(tr("tune.pruner.checks", epochs=", ".join(map(str, checks)), total=longest))
        st.radio(tr("tune.metric"), ("score", "loss"), horizontal=True, **keep("tu_metric"),
                 format_func=lambda m, s=score_label, l=tr("tune.metric.loss"): s if m == "score" else l)
        c1, c2, c3 = st.columns(3)
        c1.number_input(tr("tune.k"), 1, 10, 3, help=tr("tune.k.help"), **keep("tu_k"))
        c2.number_input(tr("tune.trials"), 1, 200, 20, **keep("tu_trials"))
        c3.number_input(tr("train.seed"), 0, 10_000, 0, **keep("tu_seed"))
        st.text_input(tr("tune.name"), help=tr("tune.name.help"), **keep("tu_name"))
        st.toggle(tr("tune.share"), help=tr("tune.share.help"), **keep("tu_share"))
        running = is_running(job_controller(JOB_KEY))
        b1, b2 = st.columns(2)
        b1.button(tr("tune.start"), key="tu_start", type="primary", icon=":material/play_arrow:", width="stretch",
                  disabled=space is None or running, on_click=_start, args=(space,))
        b2.button(tr("tune.stop"), key="tu_stop", icon=":material/stop:", width="stretch", disabled=not running,
                  on_click=_stop, args=(JOB_KEY,), help=tr("tune.stop.help"))
        show_start_error(JOB_KEY)
        for key, params in ss.get("tune_notices") or []:
            st.info(tr(key, **params), icon="ℹ️")

    @st.fragment(run_every=poll_interval() if running else None)
    @guarded
    def live_study() -> None:
        ctrl = job_controller(JOB_KEY)
        if ctrl is None:
            st.caption(tr("tune.press_start"))
            return
        snap = ctrl.snapshot()
        job = snap.job
        study = job.study
        st.markdown(tr("tune.progress", name=study.study_name, done=job.finished, total=job.n_trials,
                       status=tr(f"tune.mode.{snap.mode}")))
        st.progress(snap.progress)
        show_job_status(snap)
        trials = study.get_trials(deepcopy=False)  # one read of the study per tick
        rows = trials_rows(study, trials)
        c1, c2, c3 = st.columns(3)
        complete = any(t.value is not None and t.state.name == "COMPLETE" for t in trials)
        c1.metric(tr("tune.best"), fnum(study.best_value, ".4f") if complete else "—")
        c2.metric(tr("tune.n_trials"), len(rows))
        c3.metric(tr("tune.epochs_saved"), job.epochs_saved)
        st.dataframe(number_table(rows), hide_index=True, width="stretch", height=table_height(len(rows)))
        if any(t.state.name == "PRUNED" and t.value is not None for t in trials):
            st.caption(tr("tune.pruned_value"))
        with st.expander(tr("tune.worker_cmd")):
            st.code(f"python -m mlcore.tune worker --storage {studies.url_for(study.study_name)} "
                    f"--study {study.study_name} --trials 10", language="bash")
        settle_polling(ctrl, running)

    live_study()

# ---- the study list ------------------------------------------------------------------------------
def studies_tab() -> None:
    owner_widget(owner)
    infos = studies.list(owner)
    if not infos:
        st.info(tr("tune.no_studies"), icon="ℹ️")
    else:
        st.dataframe(number_table([{tr("tune.col.name"): i.name, tr("tune.col.trials"): i.n_trials,
                       tr("tune.col.complete"): i.n_complete,
                       tr("tune.col.best"): None if i.best_value is None else round(i.best_value, 4),
                       tr("tune.col.direction"): tr(f"tune.direction.{i.direction}"),
                       tr("tune.col.shared"): "✓" if i.shared else "",
                       tr("tune.col.mine"): "✓" if i.owner == owner else "",
                       tr("tune.col.created"): (i.created or "").replace("T", " ")} for i in infos]),
                     hide_index=True, width="stretch")
        names = [i.name for i in infos]
        chosen = st.selectbox(tr("tune.pick"), names, **keep("tu_pick"))
        info = next(i for i in infos if i.name == chosen)
        c1, c2, c3, c4 = st.columns(4)
        c1.number_input(tr("tune.more_trials"), 1, 200, 5, **keep("tu_more"))
        c2.button(tr("tune.continue"), key="tu_continue", icon=":material/play_arrow:", width="stretch",
                  on_click=lambda: _continue(ss["tu_pick"], int(ss["tu_more"])))
        c3.button(tr("tune.use_best"), key="tu_use_best", icon=":material/star:", width="stretch",
                  disabled=info.n_complete == 0, help=tr("tune.use_best.help"),
                  on_click=lambda: _use_best(ss["tu_pick"]))
        if info.owner == owner:
            c4.button(tr("tune.delete"), key="tu_delete", icon=":material/delete:", width="stretch",
                      on_click=lambda: _delete(ss["tu_pick"]))
        err = ss.pop("_tune_error_list", None)
        if err is not None:
            show_error(err)

        try:
            inspected = studies.load(chosen)
            fail_stale_trials(inspected)  # trials whose worker is gone (no heartbeat) end FAIL
        except MLCoreError as err:
            show_error(err)
            inspected = None
        if inspected is not None:
            trials = inspected.get_trials(deepcopy=False)
            saved = sum(t.user_attrs.get("epochs_planned", 0) - t.user_attrs.get("epochs_run", 0)
                        for t in trials if t.state.name == "PRUNED")
            trained = sum(t.user_attrs.get("epochs_run", 0) for t in trials)
            m1, m2, m3 = st.columns(3)
            m1.metric(tr("tune.col.best"), fnum(info.best_value, ".4f") if info.best_value is not None else "—")
            m2.metric(tr("tune.epochs_saved"), saved)
            m3.metric(tr("tune.epochs_trained"), trained)
            kind = st.segmented_control(tr("tune.plot"), PLOTS, default="history",
                                        format_func=fmt("tune.plot.", ".label"), **keep("tu_plot"))
            kind = kind or "history"
            try:
                stored, stored_arrays = from_study(inspected)
                target = _target(stored.metric, stored_arrays.task)
            except MLCoreError:  # a study made elsewhere (optuna-dashboard, a script)
                target = None
            labels = {"title": tr(f"tune.plot.{kind}.label"), "target": target, "words": plot_words()}
            if kind in AXIS_LABELS:  # these plots have one x and one y axis: name them for the class
                labels.update(x=tr(f"tune.plot.{kind}.x"), y=tr(f"tune.plot.{kind}.y"))
                if target and kind in ("history", "edf"):
                    labels["y" if kind == "history" else "x"] = target
            fig = study_figure(kind, inspected, labels)
            if fig is None:
                st.info(not_yet_note(inspected), icon="ℹ️")
            else:
                show_chart(st, fig, key="tu_fig", **CHART)
                st.caption(tr(f"tune.plot.{kind}.help"))

        rt_running = is_running(job_controller(RETRAIN_KEY))

        @st.fragment(run_every=poll_interval() if rt_running else None)
        @guarded
        def retrain_view() -> None:
            rt = job_controller(RETRAIN_KEY)
            if rt is None:
                return
            best = ss.get("tune_best") or {}
            snap = rt.snapshot()
            show_job_status(snap)
            if is_running(rt):
                st.progress(snap.progress, text=tr("tune.retraining", number=best.get("number"), name=best.get("name")))
                return
            settle_polling(rt, rt_running)
            if snap.error is not None:
                return
            if _adopt_if_ready():
                st.rerun()
            if ss.get("_tune_adopted") == "diverged":
                st.error(tr("tune.retrain_diverged", number=best.get("number"), name=best.get("name")), icon="⚠️")
            elif ss.get("_tune_adopted") and _adopted_is_current():
                st.success(tr("tune.adopted", number=best.get("number"), name=best.get("name")), icon="⭐")
                c1, c2, _ = st.columns([1, 1, 4])
                c1.page_link("pages/train.py", label=tr("nav.train"), icon=":material/model_training:")
                c2.page_link("pages/evaluate.py", label=tr("nav.evaluate"), icon=":material/fact_check:")

        retrain_view()


with tab_studies:
    if tab_open(tab_studies):
        studies_tab()


# ---- Random vs TPE ---------------------------------------------------------------------------------
def compare_tab(space) -> None:
    st.markdown(tr("tune.compare.intro", n=TPE_STARTUP))
    c1, c2 = st.columns([1, 3])
    c1.number_input(tr("tune.trials"), 2, 100, 15, **keep("tu_cmp_trials"))

    def _compare(space) -> None:
        def make():
            base = new_name(data.name, "cmp", room=len("-random"))
            arrays = arrays_for(data)
            jobs = []
            for sampler in ("random", "tpe"):
                settings = TuneSettings(space=space, sampler=sampler, pruner="none", metric=ss["tu_metric"],
                                        k=int(ss["tu_k"]), seed=int(ss["tu_seed"]), model_cfg=mcfg, train_cfg=tcfg)
                smp, prn, _ = settings.sampler_and_pruner()
                study = studies.create(f"{base}-{sampler}", settings.direction,
                                       study_attrs(settings, arrays, data.source), owner=owner, sampler=smp, pruner=prn)
                jobs.append(TuneJob(study, settings, arrays, int(ss["tu_cmp_trials"])))
            retire(COMPARE_KEY)
            return CompareJob(jobs)

        make_and_start(COMPARE_KEY, make)

    cmp_running = is_running(job_controller(COMPARE_KEY))
    b1, b2 = c2.columns(2)
    b1.button(tr("tune.compare.start"), key="tu_cmp_start", type="primary", disabled=space is None or cmp_running,
              on_click=_compare, args=(space,), width="stretch")
    b2.button(tr("tune.stop"), key="tu_cmp_stop", disabled=not cmp_running, on_click=_stop, args=(COMPARE_KEY,),
              width="stretch")
    show_start_error(COMPARE_KEY)

    @st.fragment(run_every=poll_interval() if cmp_running else None)
    @guarded
    def compare_view() -> None:
        ctrl = job_controller(COMPARE_KEY)
        if ctrl is None:
            st.caption(tr("tune.compare.press"))
            return
        snap = ctrl.snapshot()
        st.progress(snap.progress)
        show_job_status(snap)
        key = (snap.generation, snap.chunks // 10, snap.mode)  # redraw at most every 10 chunks
        if ss.get("_tune_cmp_key") != key or "_tune_cmp_fig" not in ss:
            done = [j.study for j in snap.job.jobs if j.finished > 0]
            names = {j.study.study_name: tr(f"tune.sampler.{j.settings.sampler}.label") for j in snap.job.jobs}
            ss["_tune_cmp_fig"] = compare_history(done, {"title": tr("tune.compare.title"), "y": tr("tune.compare.y"),
                                                         "names": names,
                                                         "target": _target(ss["tu_metric"], data.task), "words": plot_words()}) if done else None
            ss["_tune_cmp_key"] = key
        if ss["_tune_cmp_fig"] is not None:
            show_chart(st, ss["_tune_cmp_fig"], key="tu_cmp_fig", **CHART)
        cols = st.columns(len(snap.job.jobs))
        for col, job in zip(cols, snap.job.jobs):
            complete = [t.value for t in job.study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
            col.metric(tr(f"tune.sampler.{job.settings.sampler}.label"),
                       fnum(job.study.best_value, ".4f") if complete else "—")
        settle_polling(ctrl, cmp_running)

    compare_view()


with tab_compare:
    if tab_open(tab_compare):
        compare_tab(space)

st.info(tr("tune.try"), icon="🧪")
