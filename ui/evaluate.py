"""Streamlit side of the Evaluate page: the process diagram with the test-look counter, curve
diagnosis, and the long studies (cross-validation, sweeps, bias-variance, regularisation).

Every study runs as a ``mlcore.evaluate.study.StudyJob`` through ``ui.jobs.start_job`` (worker
pool, progress bar, Stop). Its controller stays in ``st.session_state[JOB_KEYS[kind]]`` when the
user switches page, with the context it was started in (dataset object, model and training
configs): the page says what the results belong to and marks them out of date when the session's
dataset or configuration changes, instead of mixing them with the new ones. Figures are rebuilt
only when a chunk was absorbed (the live view polls, the server's CPU is shared).
"""

from __future__ import annotations

import math
from dataclasses import replace

import streamlit as st

from mlcore.config import Task
from ui.common import (decimal_input, decimal_mark, decimal_slider, fnum, guarded, keep, lang, multiselect,
                       number_formatter, number_table, plain, tr)
from ui.projector import show_chart

CHART = {"config": {"displayModeBar": False}}
JOB_KEYS = {kind: f"eval_job_{kind}" for kind in ("cv", "capacity", "learning", "biasvar", "regularisation")}
LOOKS_KEY = "eval_test_looks"
WIDTH_CHOICES = (1, 2, 4, 8, 16, 32, 64, 128)
DEPTH_CHOICES = (1, 2, 3, 4, 5, 6)
FRACTION_CHOICES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
DEFAULT_SWEEP_EPOCHS = 50


# ---- context: what results belong to ------------------------------------------------------------


def current_context(data):
    from ui.training import model_cfg, train_cfg

    return {"data": data, "model_cfg": model_cfg(), "train_cfg": train_cfg()}


def is_stale(ctx: dict, data) -> bool:
    now = current_context(data)
    return (ctx["data"] is not data or ctx["model_cfg"] != now["model_cfg"]
            or ctx["train_cfg"] != now["train_cfg"])


def context_caption(ctx: dict, settings: str) -> str:
    from mlcore.runs import architecture_string
    from mlcore.model import output_size

    data, mcfg, tcfg = ctx["data"], ctx["model_cfg"], ctx["train_cfg"]
    arch = architecture_string(mcfg, data.n_features, output_size(data.task, data.n_classes, mcfg.binary_head))
    return tr("eval.belongs", data=data.name, arch=arch, optim=tr(f"optim.{tcfg.optim.name}.label"),
              lr=fnum(tcfg.optim.lr, "g"), batch=tcfg.batch_size, settings=settings)


def section_epochs(key: str, default_from: int, cap: int = DEFAULT_SWEEP_EPOCHS) -> int:
    """Epochs of a study's models: the Train page's, at most ``cap`` by default (studies train many)."""
    return int(st.number_input(tr("eval.epochs"), 1, 1000, int(min(default_from, cap)), 10,
                               help=tr("eval.epochs.help"), **keep(key)))


def metric_label(data) -> str:
    return tr("metric.r2") if data.task is Task.REGRESSION else tr("metric.accuracy")


# ---- the job runner ------------------------------------------------------------------------------


def _cached(name: str, token, build):
    """``build()`` once per ``token`` (figures are rebuilt only when their data changed)."""
    cache = st.session_state.setdefault("_eval_figs", {})
    hit = cache.get(name)
    if hit is not None and hit[0] == token:
        return hit[1]
    value = build()
    cache[name] = (token, value)
    return value


def progress_count(kind: str, job) -> tuple[int, int]:
    """``(finished, total)`` in the study's own units: cross-validation counts its folds (its one
    point holds the k folds, trained together), every other study its points (the swept values,
    the widths, the regularisation variants)."""
    if kind == "cv":
        return sum(len(r.scores) for r in job.results), sum(len(p.members) for p in job.points)
    return len(job.results), job.n_points


def progress_text(kind: str, mode: str, job) -> str:
    """The progress bar's text, e.g. "Finished: 5 of 5 folds"."""
    done, total = progress_count(kind, job)
    return tr(f"eval.mode.{mode}", count=tr(f"eval.count.{kind}", done=done, total=total))


def job_section(kind: str, data, make_job, settings: str, render) -> None:
    """Start / Stop buttons, then a live view of the job under ``JOB_KEYS[kind]``.

    ``make_job()`` builds a fresh ``StudyJob`` (may raise ``MLCoreError``); ``render(job, token)``
    draws the finished points (``token`` changes only when a chunk was absorbed)."""
    from mlcore.jobs import RUNNING
    from ui.jobs import (is_running, job_controller, make_and_start, poll_interval, settle_polling,
                         show_job_status, show_start_error)

    key = JOB_KEYS[kind]

    def _resumable(ctrl) -> bool:
        """A stopped job of the same settings, dataset and configuration goes on where it stopped."""
        if ctrl is None or ctrl.mode not in ("stopped", "failed") or ctrl.job.done():
            return False
        ctx = ctrl.job.meta.get("context")
        return ctrl.job.meta.get("settings") == settings and ctx is not None and not is_stale(ctx, data)

    def _start() -> None:
        ctrl = job_controller(key)
        if _resumable(ctrl):
            ctrl.start()
            return
        make_and_start(key, make_job, {"context": current_context(data), "settings": settings})

    def _stop() -> None:
        ctrl = job_controller(key)
        if ctrl is not None:
            ctrl.stop()
            ctrl.wait(3.0)

    ctrl = job_controller(key)
    running = is_running(ctrl)
    b1, b2, _ = st.columns([2, 2, 5])
    b1.button(tr("eval.continue" if _resumable(ctrl) else "eval.start"), key=f"{key}_start", on_click=_start,
              type="primary", icon=":material/play_arrow:",
              disabled=running, width="stretch")
    b2.button(tr("eval.stop"), key=f"{key}_stop", on_click=_stop, icon=":material/stop:", disabled=not running,
              width="stretch")
    show_start_error(key)
    if ctrl is None:
        st.caption(tr("eval.not_run"))
        return

    @st.fragment(run_every=poll_interval() if running else None)
    @guarded
    def live() -> None:
        snap = ctrl.snapshot()
        job = snap.job
        ctx = job.meta.get("context")
        if ctx is not None:
            st.caption(context_caption(ctx, job.meta.get("settings", "")))
            if is_stale(ctx, data):
                st.warning(tr("eval.stale"), icon="⚠️")
        done = len(job.results)
        st.progress(snap.progress, text=progress_text(kind, snap.mode, job))
        show_job_status(snap)
        if job.results:
            render(job, (id(ctrl), snap.generation, done, lang()))
        settle_polling(ctrl, running)

    live()


def _diverged_note(results, what: str) -> None:
    bad = [f"{r.key}" + (f" (#{', #'.join(str(i + 1) for i in r.diverged)})" if len(r.scores) > 1 else "")
           for r in results if r.diverged]
    if bad:
        st.warning(tr("eval.diverged", what=what, which="; ".join(bad)), icon="💥")


# ---- the general process ------------------------------------------------------------------------


def process_section(data) -> None:
    from mlcore.plots import evaluate as eplots

    looks = int(st.session_state.get(LOOKS_KEY) or 0)
    rec = eplots.process_record(len(data.y_train), len(data.y_val), len(data.y_test), looks)
    st.markdown(tr("eval.process.text"))
    fig = _cached("process", (rec.rows, looks, lang()), lambda: eplots.process_diagram(rec, {
        "looks": tr("eval.process.looks", n="{n}"),
        "train": tr("eval.split.train"), "val": tr("eval.split.val"), "test": tr("eval.split.test"),
        "step_train": tr("eval.process.step_train"), "step_tune": tr("eval.process.step_tune"),
        "step_test": tr("eval.process.step_test")}))
    show_chart(st, fig, key="e_process", **CHART)
    st.caption(tr("eval.process.rows", train=rec.rows[0], val=rec.rows[1], test=rec.rows[2]))


def test_section(data, ctrl) -> None:
    """Test metrics only on request; every request is a look, counted, warned from the second."""
    st.markdown(tr("eval.test.text"))
    if len(data.y_test) == 0:
        st.info(tr("eval.test.none"), icon="ℹ️")
        return
    snap = ctrl.snapshot()
    if snap.state.epoch == 0:
        st.info(tr("train.no_results"), icon="ℹ️")
        return
    model_token = (id(ctrl), snap.generation, snap.state.epoch)

    def _look() -> None:
        st.session_state[LOOKS_KEY] = int(st.session_state.get(LOOKS_KEY) or 0) + 1
        st.session_state["eval_test_shown"] = model_token

    st.button(tr("eval.test.show"), key="e_test_show", on_click=_look, icon=":material/visibility:")
    looks = int(st.session_state.get(LOOKS_KEY) or 0)
    if looks:
        st.caption(tr("eval.test.looks", n=looks))
    if looks >= 2:
        st.warning(tr("eval.test.warning", n=looks), icon="👀")
    if st.session_state.get("eval_test_shown") != model_token:
        return
    from mlcore import train
    from ui.evaluate_metrics import metrics_panel

    pred = _cached("test_pred", model_token, lambda: train.predict(
        train.load_model(ctrl.model_cfg, ctrl.arrays, snap.state), data.X_test.copy(), data.task))
    st.markdown(f"**{tr('eval.test.title', epoch=snap.state.epoch)}**")
    metrics_panel(data, data.y_test, pred, key="e_test")


# ---- curve diagnosis --------------------------------------------------------------------------


def diagnosis_quotes(d) -> dict:
    """The numbers a diagnosis' texts quote (``{peak}``, ``{epoch}``, ``{times}``, ``{baseline}``,
    ``{factor}``), in the session's decimal mark and without exponents (651,6; 940 times)."""
    from mlcore.evaluate.diagnosis import BLOWUP_FACTOR

    times = round(d.peak_times) if math.isfinite(d.peak_times) else None
    return {"peak": plain(d.peak_loss, 4), "epoch": d.peak_epoch, "times": plain(times, 3),
            "baseline": plain(d.baseline, 3), "factor": plain(BLOWUP_FACTOR, 2)}


def diagnosis_section(data, ctrl) -> None:
    from mlcore.evaluate.diagnosis import baseline_losses, diagnose_history
    from mlcore.plots import evaluate as eplots

    st.markdown(tr("eval.diag.text"))
    runs = st.session_state.get("runs") or []
    snap = ctrl.snapshot()
    options: dict[str, tuple[str, list, str | None]] = {}  # label, history, the run's regression loss
    if snap.state.history:
        options["current"] = (tr("eval.diag.current", epoch=snap.state.epoch), list(snap.state.history),
                              ctrl.model_cfg.loss)
    for r in reversed(runs):
        options[f"run{r.id}"] = (r.label, list(r.history), r.model_cfg.loss)
    if not options:
        st.info(tr("eval.diag.none"), icon="ℹ️")
        return

    baselines: dict = {}  # a constant prediction's loss on this training set, per loss (the runs share it)

    def baseline(loss):
        if loss not in baselines:
            baselines[loss] = baseline_losses(data.y_train, data.task, loss)
        return baselines[loss]

    choice = st.selectbox(tr("eval.diag.choose"), list(options), format_func=lambda k: options[k][0], **keep("e_diag_run"))
    label, history, run_loss = options.get(choice, next(iter(options.values())))
    d = diagnose_history(history, baseline(run_loss))
    rec = eplots.diagnosed_record(history, d.best_epoch)
    fig = _cached("diag", (choice, len(history), id(history[-1]), lang()), lambda: eplots.diagnosed_curves(rec, {
        "train": tr("split.train"), "val": tr("split.val"), "best": tr("eval.diag.best"),
        "epoch": tr("train.epoch"), "loss": tr("eval.loss")}, log_y=d.verdict == "unstable"))
    show_chart(st, fig, key="e_diag_fig", **CHART)
    from mlcore.evaluate import diagnosis as dg

    num = number_formatter()
    box = {"good": st.success, "overfit": st.error, "underfit": st.warning, "short": st.info,
           "unstable": st.error}[d.verdict]
    quoted = diagnosis_quotes(d)
    text = f"**{tr(f'diag.{d.verdict}.title')}** {tr(d.explanation_key, **quoted)}"
    if d.best_epoch is not None:
        text += " " + tr("eval.diag.best_at", epoch=d.best_epoch, loss=fnum(d.best_val_loss, ".4f"))
    box(text)
    for reason in d.reasons:
        st.markdown(f"- {tr(reason, **quoted)}")
    st.markdown(f"**{tr('eval.diag.next')}** {tr(d.advice_key)}")
    if len(options) > 1:  # every run's verdict at a glance
        rows = []
        for run_label, hist, loss in options.values():
            dd = diagnose_history(hist, baseline(loss))
            rows.append({tr("eval.diag.col.run"): run_label, tr("eval.diag.col.verdict"): tr(f"diag.{dd.verdict}.title"),
                         tr("eval.diag.col.best"): dd.best_epoch, tr("runs.col.epochs"): len(hist)})
        st.dataframe(rows, hide_index=True, width="stretch")
    with st.expander(tr("eval.diag.rules")):
        st.markdown(tr("eval.diag.rules.text", high=num(dg.HIGH_LOSS_RATIO), blowup=num(dg.BLOWUP_FACTOR), steep=num(dg.STEEP_DROP * 100),
                       tail=num(dg.TAIL_FRACTION * 100), rise=num(dg.OVERFIT_RISE * 100),
                       epochs=dg.OVERFIT_MIN_EPOCHS, window=dg.SMOOTH_WINDOW))
        st.caption(tr("eval.diag.values", ratio=num(d.loss_ratio), drop=num(d.tail_drop * 100), rise=num(d.rise * 100)))


def validation_section(data, ctrl) -> None:
    from ui.evaluate_metrics import metrics_panel

    snap = ctrl.snapshot()
    if snap.result is None or snap.result.val_pred is None:
        st.info(tr("train.no_results"), icon="ℹ️")
        return
    st.caption(tr("train.results_note", epoch=snap.state.epoch))
    metrics_panel(data, data.y_val, snap.result.val_pred, key="e_val")


# ---- cross-validation -------------------------------------------------------------------------------


def cv_section(data) -> None:
    from mlcore.evaluate import cv
    from mlcore.plots import evaluate as eplots
    from ui.training import arrays_for, model_cfg, train_cfg

    st.markdown(tr("eval.cv.text"))
    c1, c2 = st.columns(2)
    k = int(c1.slider(tr("eval.cv.k"), 2, 10, 5, **keep("e_cv_k")))
    c1.caption(tr("eval.cv.stratified" if data.task.is_classification else "eval.cv.plain"))
    with c2:
        epochs = section_epochs("e_cv_epochs", train_cfg().epochs)

    def make():
        return cv.cv_job(arrays_for(data), model_cfg(), replace(train_cfg(), epochs=epochs), k=k,
                         seed=train_cfg().seed)

    def render(job, token):
        result = cv.cv_result(job)
        metric = metric_label(data)
        _diverged_note(job.results, tr("eval.cv.folds"))
        m1, m2 = st.columns(2)
        m1.metric(tr("eval.cv.mean", metric=metric), f"{fnum(result.mean_metric, '.3f')} ± {fnum(result.std_metric, '.3f')}")
        m2.metric(tr("eval.cv.mean_loss"), f"{fnum(result.mean_loss, '.4f')} ± {fnum(result.std_loss, '.4f')}")
        f1, f2 = st.columns(2)
        strip = _cached("cv_strip", token, lambda: eplots.folds_strip(eplots.folds_record(result.fold_metric), {
            "metric": metric, "fold": tr("eval.cv.fold"), "mean": tr("eval.mean"), "decimal": decimal_mark()}))
        show_chart(f1, strip, key="e_cv_strip", **CHART)
        curve = _cached("cv_curve", token, lambda: eplots.mean_curve(
            result.epoch_train_loss, result.epoch_val_loss, result.epoch_val_std,
            {"train": tr("eval.cv.train_mean"), "val": tr("eval.cv.val_mean"), "epoch": tr("train.epoch"),
             "loss": tr("eval.loss")}))
        show_chart(f2, curve, key="e_cv_curve", **CHART)
        from mlcore.evaluate.diagnosis import baseline_losses, diagnose

        d = diagnose(result.epoch_train_loss, result.epoch_val_loss,
                     baseline_losses(data.y_train, data.task, model_cfg().loss))
        st.markdown(tr("eval.cv.diagnosis", verdict=tr(f"diag.{d.verdict}.title")))
        st.dataframe(number_table([{tr("eval.cv.fold"): i + 1, tr("eval.rows"): result.fold_rows[i],
                       tr("eval.train_loss"): round(float(result.fold_train_loss[i]), 4),
                       tr("eval.val_loss"): round(float(result.fold_loss[i]), 4),
                       metric: round(float(result.fold_metric[i]), 4),
                       tr("runs.col.status"): tr(f"train.status.{result.statuses[i]}")} for i in range(result.k)]),
                     hide_index=True, width="stretch")

    job_section("cv", data, make, f"k = {k} · {tr('eval.epochs')} {epochs}", render)


# ---- sweeps ------------------------------------------------------------------------------------------


def _sweep_render(data, kind: str, x_label: str, log_x: bool, key: str):
    from mlcore.evaluate.sweeps import sweep_bands
    from mlcore.plots import evaluate as eplots

    def render(job, token):
        bands = sweep_bands(job.results)
        _diverged_note(job.results, x_label)
        use_metric = st.session_state.get(f"{key}_y") == "metric"
        name = "metric" if use_metric else "loss"
        rec = eplots.sweep_record(bands[f"train_{name}"], bands[f"val_{name}"], higher_is_better=use_metric)
        fig = _cached(f"{key}_fig", (token, name), lambda: eplots.sweep_figure(rec, {
            "train": tr("split.train"), "val": tr("split.val"), "x": x_label, "best": tr("eval.sweep.best"),
            "y": metric_label(data) if use_metric else tr("eval.loss")}, log_x=log_x, show_best=kind == "capacity"))
        show_chart(st, fig, key=f"{key}_chart", **CHART)
        st.caption(tr("eval.sweep.band", seeds=len(job.results[0].scores)))
        if kind == "learning":
            rows = job.meta.get("rows", ())
            st.caption(tr("eval.learning.rows", rows=", ".join(str(r) for r in rows[:len(job.results)])))

    return render


def capacity_section(data) -> None:
    from mlcore.evaluate import sweeps
    from ui.training import arrays_for, model_cfg, train_cfg

    st.markdown(tr("eval.capacity.text"))
    c1, c2, c3 = st.columns(3)
    kind = c1.radio(tr("eval.capacity.kind"), sweeps.CAPACITY_KINDS, **keep("e_cap_kind"),
                    format_func=lambda v, l=lang(): _t(f"eval.capacity.{v}", l), horizontal=True)
    choices = WIDTH_CHOICES if kind == "width" else DEPTH_CHOICES
    default = [2, 4, 8, 16, 32] if kind == "width" else [1, 2, 3, 4]
    values = multiselect(c1, tr("eval.capacity.values"), choices, default=default, **keep(f"e_cap_values_{kind}"))
    seeds = int(c2.slider(tr("eval.seeds"), 1, 5, 3, **keep("e_cap_seeds")))
    with c3:
        epochs = section_epochs("e_cap_epochs", train_cfg().epochs)
    c2.radio(tr("eval.sweep.y"), ("loss", "metric"), **keep("e_cap_y"), horizontal=True,
             format_func=lambda v, l=lang(), m=metric_label(data): m if v == "metric" else _t("eval.loss", l))

    def make():
        return sweeps.capacity_job(arrays_for(data), model_cfg(), replace(train_cfg(), epochs=epochs), kind,
                                   values, n_seeds=seeds)

    x_label = tr(f"eval.capacity.{kind}")
    job_section("capacity", data, make, f"{x_label}: {', '.join(map(str, sorted(values)))} · "
                f"{tr('eval.seeds')} {seeds} · {tr('eval.epochs')} {epochs}",
                _sweep_render(data, "capacity", x_label, kind == "width", "e_cap"))


def learning_section(data) -> None:
    from mlcore.evaluate import sweeps
    from ui.training import arrays_for, model_cfg, train_cfg

    st.markdown(tr("eval.learning.text"))
    c1, c2, c3 = st.columns(3)
    fractions = multiselect(c1, tr("eval.learning.fractions"), FRACTION_CHOICES, default=[0.1, 0.2, 0.4, 0.6, 0.8, 1.0],
                            **keep("e_lc_fracs"), format_func=lambda f: f"{f:.0%}")
    seeds = int(c2.slider(tr("eval.seeds"), 1, 5, 1, **keep("e_lc_seeds")))
    with c3:
        epochs = section_epochs("e_lc_epochs", train_cfg().epochs)
    c2.radio(tr("eval.sweep.y"), ("loss", "metric"), **keep("e_lc_y"), horizontal=True,
             format_func=lambda v, l=lang(), m=metric_label(data): m if v == "metric" else _t("eval.loss", l))

    def make():
        return sweeps.learning_curve_job(arrays_for(data), model_cfg(), replace(train_cfg(), epochs=epochs),
                                         fractions, n_seeds=seeds, seed=train_cfg().seed)

    job_section("learning", data, make, f"{', '.join(f'{f:.0%}' for f in sorted(fractions))} · "
                f"{tr('eval.seeds')} {seeds} · {tr('eval.epochs')} {epochs}",
                _sweep_render(data, "learning", tr("eval.learning.x"), False, "e_lc"))


def _t(key: str, language: str) -> str:
    from mlcore.i18n import t

    return t(key, language)


# ---- bias-variance --------------------------------------------------------------------------------


def biasvar_section(data) -> None:
    from mlcore.evaluate import biasvar
    from mlcore.plots import evaluate as eplots
    from ui.training import arrays_for, model_cfg, train_cfg

    regression = data.task is Task.REGRESSION
    st.markdown(tr("eval.bv.text_reg" if regression else "eval.bv.text_clf"))
    toy = biasvar.known_toy(data)
    st.caption(tr("eval.bv.draws", noise=toy[1]) if toy else tr("eval.bv.bootstrap"))
    c1, c2, c3 = st.columns(3)
    widths = multiselect(c1, tr("eval.bv.widths"), WIDTH_CHOICES, default=[2, 8, 32], **keep("e_bv_widths"))
    m = int(c2.slider(tr("eval.bv.m"), 2, biasvar.MAX_M, biasvar.DEFAULT_M, **keep("e_bv_m")))
    with c3:
        epochs = section_epochs("e_bv_epochs", train_cfg().epochs)

    def make():
        return biasvar.biasvar_job(arrays_for(data), model_cfg(), replace(train_cfg(), epochs=epochs), widths, m,
                                   toy=toy, seed=train_cfg().seed)

    def render(job, token):
        decs = _cached("bv_decs", token, lambda: [biasvar.decompose_point(job, r, data.y_val) for r in job.results])
        xs = [r.key for r in job.results]
        _diverged_note(job.results, tr("eval.bv.widths"))
        if regression:
            parts = ("error", "bias2", "variance", "noise")
        else:
            parts = ("error", "bias", "net_variance", "variance")
        rec = eplots.biasvar_record(xs, decs, parts)
        fig = _cached("bv_fig", token, lambda: eplots.biasvar_figure(rec, {
            "error": tr("eval.bv.error"), "bias2": tr("eval.bv.bias2"), "variance": tr("eval.bv.variance"),
            "noise": tr("eval.bv.noise"), "bias": tr("eval.bv.bias"), "net_variance": tr("eval.bv.net_variance"),
            "x": tr("eval.capacity.width"), "y": tr("eval.bv.y_reg" if regression else "eval.bv.y_clf")}))
        show_chart(st, fig, key="e_bv_chart", **CHART)
        table = []
        for x, d in zip(xs, decs):
            row = {tr("eval.capacity.width"): x}
            for p in parts:
                v = getattr(d, p)
                row[tr(f"eval.bv.{p}")] = None if v is None else round(float(v), 4)
            table.append(row)
        st.dataframe(number_table(table), hide_index=True, width="stretch")
        if regression and job.meta.get("toy") is None:
            st.caption(tr("eval.bv.remainder"))
        if not regression:
            st.caption(tr("eval.bv.domingos"))
        if toy is not None and job.meta.get("toy") is not None:
            width = st.selectbox(tr("eval.bv.show_width"), xs, index=len(xs) - 1, **keep("e_bv_show"))
            res = next((r for r in job.results if r.key == width), job.results[-1])
            fit = _cached("bv_fit", (token, width), lambda: eplots.fitted_curves(
                job.eval_X[:, 0], [s.extra_pred for s in res.scores], job.truth,
                {"models": tr("eval.bv.models", m=len(res.scores)), "mean": tr("eval.bv.mean_model"),
                 "truth": tr("eval.bv.truth"), "data": tr("split.train"), "x": data.raw_feature_names[0],
                 "y": data.target_name, "title": tr("eval.bv.fit_title", width=width)},
                points=(data.X_train[:, 0], data.y_train)))
            show_chart(st, fit, key="e_bv_fit", **CHART)

    job_section("biasvar", data, make, f"{tr('eval.bv.widths')}: {', '.join(map(str, sorted(widths)))} · M = {m} · "
                f"{tr('eval.epochs')} {epochs}", render)


# ---- regularisation -----------------------------------------------------------------------------------


def regularisation_record(results):
    """The ONE record the regularisation figure and table are drawn from (each variant's curves
    and its final scores in evaluation mode)."""
    from mlcore.plots import evaluate as eplots

    scores = [r.scores[0] for r in results]
    return eplots.regularisation_record([r.key for r in results], [s.history for s in scores],
                                        [s.train_loss for s in scores], [s.val_loss for s in scores],
                                        [s.val_metric for s in scores])


def regularisation_table(rec, labels: dict[str, str], metric: str) -> list[dict]:
    """One row per variant, from ``rec``: its gap is the number the subplot title shows."""
    from mlcore.plots.evaluate import GAP_DIGITS

    return [{tr("eval.reg.variant"): labels[name], tr("runs.col.epochs"): epochs,
             tr("eval.train_loss"): round(train, 4), tr("eval.val_loss"): round(val, 4),
             tr("eval.reg.gap"): round(gap, GAP_DIGITS), metric: round(m, 4)}
            for name, epochs, train, val, gap, m in zip(rec.names, rec.epochs, rec.final_train, rec.final_val,
                                                        rec.final_gap, rec.final_metric)]


def regularisation_section(data) -> None:
    from mlcore.evaluate import regularise
    from mlcore.plots import evaluate as eplots
    from ui.training import arrays_for, model_cfg, train_cfg

    st.markdown(tr("eval.reg.text"))
    c1, c2, c3, c4 = st.columns(4)
    l2 = decimal_input(c1, tr("eval.reg.l2"), 0.0, 1.0, regularise.DEFAULT_L2, ".4g", **keep("e_reg_l2"))
    dropout = float(decimal_slider(c2, tr("eval.reg.dropout"), 0.05, 0.9, regularise.DEFAULT_DROPOUT, 0.05, **keep("e_reg_do")))
    patience = int(c3.number_input(tr("eval.reg.patience"), 1, 500, regularise.DEFAULT_PATIENCE, **keep("e_reg_pat")))
    with c4:
        epochs = section_epochs("e_reg_epochs", max(train_cfg().epochs, 200), cap=200)  # overfitting takes a while

    def make():
        return regularise.regularisation_job(arrays_for(data), model_cfg(), replace(train_cfg(), epochs=epochs),
                                             l2=l2, dropout=dropout, patience=patience)

    def render(job, token):
        rec = _cached("reg_rec", token, lambda: regularisation_record(job.results))
        labels = {n: tr(f"eval.reg.v.{n}") for n in regularise.VARIANTS}
        labels.update({"train": tr("split.train"), "val": tr("split.val"), "epoch": tr("train.epoch"),
                       "loss": tr("eval.loss"), "gap": tr("eval.reg.gap"), "decimal": decimal_mark()})
        fig = _cached("reg_fig", token, lambda: eplots.regularisation_figure(rec, labels))
        show_chart(st, fig, key="e_reg_chart", **CHART)
        from mlcore.plots.evaluate import GAP_DIGITS

        table = regularisation_table(rec, labels, metric_label(data))
        gap = {tr("eval.reg.gap"): f".{GAP_DIGITS}f"}  # printed as the subplot titles print it
        st.dataframe(number_table(table, formats=gap), hide_index=True, width="stretch")
        st.caption(tr("eval.reg.gap_note"))
        _diverged_note(job.results, tr("eval.reg.variant"))

    job_section("regularisation", data, make, f"L2 {fnum(l2, 'g')} · dropout {fnum(dropout, 'g')} · "
                f"{tr('eval.reg.patience')} {patience} · {tr('eval.epochs')} {epochs}", render)


__all__ = ["process_section", "test_section", "diagnosis_section", "validation_section", "cv_section",
           "capacity_section", "learning_section", "biasvar_section", "regularisation_section"]
