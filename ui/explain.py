"""Streamlit side of the Explain page: the session's model as an explanation context, the job
panels (start, progress, out-of-date marks) and one renderer per technique.

Results live in the session's job controllers (``ui.jobs``); each job records the fingerprint of
the model and data it explained, so a later training step or another dataset marks it out of date
instead of silently showing numbers about another model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from mlcore.config import Task
from ui.common import (class_names, data_token, decimal_input, decimal_mark, fmt, fnum, guarded, keep, lang,
                       multiselect, number_formatter, number_table, parse_decimal, plain, tr)
from ui.projector import show_chart

N_ROWS = 100  # rows explained by SHAP (validation split)
N_BACKGROUND = 100  # background rows (training split)
CHART = {"config": {"displayModeBar": False}}
MAX_SURROGATE_DEPTH = 5  # deeper trees give rules too long to read out in class


@dataclass
class ExplainContext:
    data: object
    layout: object
    ref: object  # mlcore.explain.jobs.ModelRef
    model: object
    n_outputs: int
    fingerprint: tuple
    epoch: int

    @property
    def task(self) -> Task:
        return self.data.task

    @property
    def is_regression(self) -> bool:
        return self.data.task is Task.REGRESSION

    def class_label(self, c: int) -> str:
        names = class_names(self.data)
        return str(names[c]) if names and c < len(names) else str(c)

    @property
    def classes(self) -> list[int]:
        return list(range(max(2, self.data.n_classes)))


def has_trained_weights(ctrl, snap) -> bool:
    """True after at least one epoch (the Tune page's best trial, once adopted, comes with its
    epochs), or when the weights were loaded from a file and differ from the seeded initial ones."""
    if snap.state.epoch > 0:
        return True
    key = (id(ctrl), snap.generation)
    cached = st.session_state.get("_explain_trained")
    if cached is not None and cached[0] == key:
        return cached[1]
    from mlcore.train import init_state

    fresh = init_state(ctrl.arrays, ctrl.model_cfg, ctrl.train_cfg).model_state
    changed = any(not np.array_equal(np.asarray(fresh[k]), np.asarray(v)) for k, v in snap.state.model_state.items()
                  if k in fresh)
    st.session_state["_explain_trained"] = (key, changed)
    return changed


def context(data, ctrl) -> ExplainContext:
    """The explanation context of the session's current model (kept while the model is unchanged)."""
    from mlcore.explain.features import feature_layout
    from mlcore.explain.jobs import ModelRef, load

    snap = ctrl.snapshot()
    fp = (id(data), id(ctrl), snap.generation, snap.state.epoch)
    cached = st.session_state.get("_explain_ctx")
    if cached is not None and cached.fingerprint == fp:
        return cached
    arrays = ctrl.arrays
    n_out = arrays.n_outputs(ctrl.model_cfg)
    ref = ModelRef.from_state(ctrl.model_cfg, arrays.n_features, n_out, snap.state)
    layout_cached = st.session_state.get("_explain_layout")
    if layout_cached is not None and layout_cached[0] is data:
        layout = layout_cached[1]
    else:
        layout = feature_layout(data)
        st.session_state["_explain_layout"] = (data, layout)
    ctx = ExplainContext(data, layout, ref, load(ref), n_out, fp, snap.state.epoch)
    st.session_state["_explain_ctx"] = ctx
    return ctx


def _fmt_value(value) -> str:
    """A feature value or threshold: numbers with 4 significant digits, no exponent (24963, not
    2,496e+04), in the session language's decimal mark; labels as they are."""
    if isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(value, bool):
        return plain(value, 4)
    return str(value)


def chart(where, key: str, owner, extra, build) -> None:
    """``show_chart(where, build())``, the figure rebuilt only when the result it draws (``owner``,
    compared by identity), ``extra`` settings or the language change: building plotly figures is
    most of a page run's cost on the shared server. The cache keeps ``owner`` alive, so its id
    cannot be reused by a newer result."""
    figs = st.session_state.setdefault("_explain_figs", {})
    token = (id(owner), extra, lang())
    cached = figs.get(key)
    if cached is None or cached[0] != token:
        cached = (token, build(), owner)
        figs[key] = cached
    show_chart(where, cached[1], key=key, **CHART)


# ---- job panels ---------------------------------------------------------------------------------


def job_panel(name: str, ctx: ExplainContext, make_job, render, params=(), auto: bool = False,
              button_key: str = "explain.run") -> None:
    """A Run button, then (in a fragment that polls while the job runs) progress and ``render(job)``.

    ``params`` are the settings the result depends on; a job made for other settings, or for another
    model, is shown marked out of date; one made on other features (another dataset) is not drawn
    (its rankings and tables would be read against the current features), only said to be old."""
    from mlcore.jobs import RUNNING
    from ui.jobs import (is_running, job_controller, make_and_start, poll_interval, settle_polling,
                         show_job_status, show_start_error)

    key = f"explain_job_{name}"
    names = tuple(ctx.layout.names)  # the features a result speaks of: its tables and figures name them
    wanted = {"fp": ctx.fingerprint, "params": params, "names": names}

    def _start() -> None:
        make_and_start(key, make_job, wanted)

    ctrl = job_controller(key)
    if auto and (ctrl is None or getattr(ctrl.job, "meta", {}) != wanted
                 and ctrl.mode != RUNNING and not ctrl.busy):  # cheap: always about the current model
        _start()
        ctrl = job_controller(key)
    running = is_running(ctrl)
    st.button(tr(button_key), key=f"{key}_run", on_click=_start, type="primary", disabled=running,
              icon=":material/play_arrow:")
    show_start_error(key)
    if ctrl is None:
        st.caption(tr("explain.not_run"))
        return

    @st.fragment(run_every=poll_interval() if running else None)
    @guarded
    def live() -> None:
        snap = ctrl.snapshot()
        job = snap.job
        meta = getattr(job, "meta", {})
        if snap.mode == RUNNING or not job.done():
            st.progress(snap.progress, text=tr("explain.running") if snap.mode == RUNNING else tr("explain.stopped"))
        show_job_status(snap)
        if job.done():
            if meta.get("names") != names:  # another dataset: its results cannot be drawn on these features
                st.warning(tr("explain.stale_data"), icon="⚠️")
            else:
                if meta.get("fp") != ctx.fingerprint:
                    st.warning(tr("explain.stale_model"), icon="⚠️")
                elif meta.get("params") != params:
                    st.warning(tr("explain.stale_settings"), icon="⚠️")
                render(job)
        settle_polling(ctrl, running)

    live()


# ---- SHAP ---------------------------------------------------------------------------------------


def _rows(data, n: int, seed: int = 0) -> np.ndarray:
    X = data.X_val if len(data.X_val) else data.X_train
    return X[:n]


def _background(data, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = data.X_train
    if len(X) <= n:
        return X
    return X[np.sort(rng.choice(len(X), n, replace=False))]


def output_label(ctx: ExplainContext, kind: str, cls: int) -> str:
    if ctx.is_regression:
        return tr("explain.output.value", target=ctx.data.target_name)
    return tr(f"explain.output.{kind}", cls=ctx.class_label(cls))


def shap_tab(ctx: ExplainContext) -> None:
    from mlcore.explain.jobs import ShapJob
    from mlcore.explain.shap_values import output_specs

    st.markdown(tr("explain.shap.intro"))
    c1, c2, c3 = st.columns(3)
    kind = "value"
    cls = 0
    if not ctx.is_regression:
        kind = c1.radio(tr("explain.shap.kind"), ["logit", "probability"], **keep("x_shap_kind"),
                        format_func=fmt("explain.kind."), horizontal=True)
        default = 1 if len(ctx.classes) == 2 else 0
        cls = c2.selectbox(tr("explain.shap.class"), ctx.classes, index=default, **keep("x_shap_class", per_data=True),
                           format_func=ctx.class_label)
    group = True  # one column per feature unless there are one-hot groups to split
    if ctx.layout.has_groups:
        group = c3.toggle(tr("explain.shap.group"), value=True, **keep("x_shap_group"),
                          help=tr("explain.shap.group.help"))
    specs = output_specs(ctx.task, ctx.n_outputs, ctx.data.n_classes, "logit" if kind == "value" else kind)
    X, B = _rows(ctx.data, N_ROWS), _background(ctx.data, N_BACKGROUND)

    def render(job) -> None:
        _shap_results(ctx, job.result, cls if not ctx.is_regression else 0, kind, group)

    job_panel("shap", ctx, lambda: ShapJob(ctx.ref, X, B, specs), render, params=(kind,), auto=True,
              button_key="explain.recompute")


def _shap_results(ctx, res, cls: int, kind: str, group: bool) -> None:
    from mlcore.plots import explain as plots

    num = number_formatter()
    k = min(cls, res.values.shape[1] - 1)
    layout = ctx.layout
    values = res.grouped(layout)[:, k, :] if group else res.values[:, k, :]
    names = layout.names if group else list(layout.column_names)
    if res.notice is not None:
        st.warning(tr(res.notice[0], **res.notice[1]) + " " + tr("explain.shap.fallback_rows", n=len(res.X)),
                   icon="🔁")
    st.markdown(tr("explain.shap.explained", output=output_label(ctx, kind, cls),
                   method=tr(f"explain.method.{res.method}"), n=len(res.X), m=N_BACKGROUND))
    m1, m2, m3 = st.columns(3)
    m1.metric(tr("explain.shap.base"), num(float(res.base[k]), 4))
    m2.metric(tr("explain.shap.additivity"), fnum(res.additivity_error, ".1e"),
              help=tr("explain.shap.additivity.help"))
    m3.metric(tr("explain.shap.seconds"), f"{res.seconds * 1000:.0f} ms" if res.seconds else "–")
    raw = layout.to_original(res.X)
    if group:
        feature_values = np.column_stack([
            raw[f.name].to_numpy(dtype=np.float64) if not f.is_categorical else
            np.asarray([f.categories.index(v) for v in raw[f.name]], dtype=np.float64)
            for f in layout.features])
    else:  # one value per model column: numbers in original units, one-hot columns as 0/1
        feature_values = np.asarray(res.X, dtype=np.float64).copy()
        for f in layout.features:
            if not f.is_categorical:
                feature_values[:, f.columns[0]] = raw[f.name].to_numpy(dtype=np.float64)
    g1, g2 = st.columns(2)
    xlabel = tr("explain.shap.mean_abs")
    token = (k, group)
    chart(g1, "x_shap_bar", res, token,
          lambda: plots.bar_figure(plots.bar_record(values, names), xlabel, tr("explain.shap.bar")))
    chart(g2, "x_shap_bee", res, token,
          lambda: plots.beeswarm_figure(plots.beeswarm_record(values, feature_values, names), tr("explain.shap.value"),
                                        tr("explain.low"), tr("explain.high"), tr("explain.shap.beeswarm")))
    st.subheader(tr("explain.shap.local"))
    l1, l2 = st.columns([1, 2])
    row = int(l1.number_input(tr("explain.shap.row"), 0, len(res.X) - 1, 0,
                              **keep("x_shap_row", hi=len(res.X) - 1, per_data=True)))
    x_raw = raw.iloc[row]
    if group:
        labels = [f"{f.name} = {_fmt_value(x_raw[f.name])}" for f in layout.features]
    else:
        labels = [f"{name} = {_fmt_value(v)}" for name, v in zip(names, feature_values[row])]
    labels.append(tr("explain.shap.others"))
    rec = plots.waterfall_record(values[row], float(res.base[k]), labels)
    chart(l2, "x_shap_waterfall", res, (token, row),
          lambda: plots.waterfall_figure(rec, tr("explain.shap.base_short"), tr("explain.shap.fx"),
                                         decimal=decimal_mark()))
    gap = float(res.outputs[row, k] - res.base[k])
    l1.markdown(tr("explain.shap.row_check", fx=num(float(res.outputs[row, k]), 4), base=num(float(res.base[k]), 4),
                   total=num(float(values[row].sum()), 6), gap=num(gap, 6),
                   err=fnum(abs(values[row].sum() - gap), ".1e")))
    if ctx.data.image_shape is not None and values.shape[1] == ctx.layout.n_columns:
        shape = ctx.data.image_shape
        img = _image(ctx, res.X[row])
        chart(st, "x_shap_img", res, (token, row), lambda: plots.images_figure([
            plots.ImagePanel(tr("explain.sal.digit"), img, False),
            plots.ImagePanel(tr("explain.shap.image"), values[row].reshape(shape), True, img)], height=300))
    st.subheader(tr("explain.shap.dependence"))
    feature = st.selectbox(tr("explain.shap.feature"), names, index=int(np.argmax(np.abs(values).mean(0))),
                           **keep("x_shap_dep", per_data=True))
    j = names.index(feature)
    cats = None
    if group and layout.by_name(feature).is_categorical:
        cats = list(layout.by_name(feature).categories)
    rec = plots.DependenceRecord(feature_values[:, j], values[:, j], None)
    one_hot = not group and layout.column_features()[j] != feature
    chart(st, "x_shap_dep_fig", res, (token, feature), lambda: plots.dependence_figure(
        rec, feature + ("" if cats or one_hot else tr("explain.original_units")),
        tr("explain.shap.value_of", feature=feature), categories=cats))


# ---- counterfactuals ----------------------------------------------------------------------------


def _predicted(ctx, X) -> np.ndarray:
    from mlcore.train import predict

    out = predict(ctx.model, X, ctx.task)
    return out if out.ndim == 1 else out.argmax(axis=1)


def counterfactual_tab(ctx: ExplainContext) -> None:
    from mlcore.explain import jobs as ej
    from mlcore.explain.counterfactuals import Constraint, Target

    st.markdown(tr("explain.cf.intro"))
    data, layout = ctx.data, ctx.layout
    X = _rows(data, N_ROWS)
    preds = _predicted(ctx, X)
    c1, c2 = st.columns(2)
    row = int(c1.number_input(tr("explain.cf.row"), 0, len(X) - 1, 0, **keep("x_cf_row", hi=len(X) - 1,
                                                                                  per_data=True)))
    num = number_formatter()
    if ctx.is_regression:
        value = float(preds[row])
        c1.markdown(tr("explain.cf.now_value", value=num(value, 4)))
        spread = float(np.std(data.y_train)) or 1.0
        lo = decimal_input(c2, tr("explain.cf.low"), None, None, value + 0.5 * spread, None,
                           **keep(f"x_cf_lo_{row}", per_data=True))
        hi = decimal_input(c2, tr("explain.cf.high"), None, None, value + 1.5 * spread, None,
                           **keep(f"x_cf_hi_{row}", per_data=True))
        target = Target(low=float(min(lo, hi)), high=float(max(lo, hi)))
    else:
        now = int(preds[row])
        c1.markdown(tr("explain.cf.now_class", cls=ctx.class_label(now)))
        others = [c for c in ctx.classes if c != now]
        cls = c2.selectbox(tr("explain.cf.target"), others, **keep(f"x_cf_target_{row}", per_data=True),
                           format_func=ctx.class_label)
        target = Target(cls=int(cls))
    names = layout.names
    with st.expander(tr("explain.cf.constraints"), expanded=False):
        frozen = multiselect(st, tr("explain.cf.frozen"), names, default=[], **keep("x_cf_frozen", per_data=True))
        numeric = [f for f in layout.features if not f.is_categorical]
        ranges = _remembered_ranges({f.name: (float(f.low), float(f.high)) for f in numeric})
        low, high = tr("explain.cf.col.low"), tr("explain.cf.col.high")
        table = _ranges_table(ranges, tr("explain.cf.col.feature"), low, high)
        # the ranges as text in the session's decimal mark: the editor's number cells read a typed
        # "0,25" as 5 (they drop the comma), as Streamlit's number box does
        right = {c: st.column_config.TextColumn(alignment="right") for c in (low, high)}
        edited = st.data_editor(table, key="x_cf_ranges", hide_index=True, disabled=[tr("explain.cf.col.feature")],
                                column_config=right, width="stretch", height=min(400, 38 * (len(table) + 1)))
        ranges, bad = _read_ranges(edited, ranges)
        if bad:
            st.error(tr("explain.cf.bad_range", cells="; ".join(f"{name}: «{text}»" for name, text in bad)), icon="⚠️")
        st.caption(tr("explain.cf.constraints.note"))
    constraints = {}
    st.session_state["_x_cf_ranges"] = (data_token(), ranges)
    for f in layout.features:
        lo_hi = ranges.get(f.name, (None, None))
        constraints[f.name] = Constraint(f.name not in frozen, *lo_hi)
    stds = data.X_train.std(axis=0)
    x0 = X[row]
    params = (row, target, tuple(sorted(frozen)), tuple(sorted(ranges.items())))

    def make():
        return ej.StepsJob([("cf", ej.counterfactual_chunk,
                             (ctx.ref, layout, x0, target, ctx.task, constraints, stds, 3, 0))])

    job_panel("cf", ctx, make, lambda job: _cf_results(ctx, job.results["cf"]), params=params,
              button_key="explain.cf.run")


def _remembered_ranges(defaults: dict) -> dict:
    """The ranges the editor starts from: the student's last ones on this dataset, else
    ``defaults`` (the training ranges). ``st.data_editor`` has no ``persist_state``: its edits
    are gone once a run does not draw it (another tab or page), so the ranges are kept apart
    and, when the editor starts afresh, become its table. While the editor is drawn its table
    stays the same (a new table would remount it mid-edit)."""
    ss = st.session_state
    owner = (lang(), data_token())
    base = ss.get("_x_cf_base")
    if "x_cf_ranges" in ss and base is not None and base[0] == owner:
        return base[1]
    token, kept = ss.get("_x_cf_ranges", (None, {}))
    ranges = {name: kept.get(name, lo_hi) if token == owner[1] else lo_hi for name, lo_hi in defaults.items()}
    ss["_x_cf_base"] = (owner, ranges)
    return ranges


def _ranges_table(ranges: dict, feature: str, low: str, high: str) -> pd.DataFrame:
    """The bounds as text: 6 significant digits in the session's decimal mark."""
    return pd.DataFrame({feature: list(ranges), low: [plain(lo, 6) for lo, _ in ranges.values()],
                         high: [plain(hi, 6) for _, hi in ranges.values()]})


def _read_ranges(edited: pd.DataFrame, shown: dict) -> tuple[dict, list]:
    """The ranges in the edited table, and the cells that are no number ((feature, text)): those
    keep the bound the table started from. A cell left as it was printed is that bound exactly
    (the print has 6 digits, the training range more)."""
    mark = decimal_mark()
    ranges, bad = {}, []
    for name, *texts in edited.itertuples(index=False):
        bounds = []
        for text, before in zip(texts, shown.get(name, (None, None))):
            text = "" if text is None else str(text)
            if before is not None and text == plain(before, 6):
                bounds.append(before)
                continue
            try:
                bounds.append(parse_decimal(text, mark))
            except ValueError:
                bad.append((name, text))
                bounds.append(before)
        ranges[name] = tuple(bounds)
    return ranges, bad


def _cf_results(ctx, res) -> None:
    num = number_formatter()
    if not res.found:
        st.warning(tr("explain.cf.none") + " " + tr(res.hint or "explain.cf.hint.target"), icon="🔍")
        return
    st.success(tr("explain.cf.found", n=len(res.items), seconds=num(res.seconds, 2),
                  method=tr(f"explain.cf.method.{res.method}")), icon="✅")
    for i, cf in enumerate(res.items, start=1):
        outcome = (_fmt_value(cf.prediction) if ctx.is_regression else ctx.class_label(int(cf.prediction)))
        st.markdown(tr("explain.cf.item", i=i, outcome=outcome, valid=tr("explain.yes") if cf.valid else tr("explain.no"),
                       proximity=num(cf.proximity, 3), sparsity=cf.sparsity))
        st.dataframe(pd.DataFrame({
            tr("explain.cf.col.feature"): [c[0] for c in cf.changes],
            tr("explain.cf.col.before"): [_fmt_value(c[1]) for c in cf.changes],
            tr("explain.cf.col.after"): [_fmt_value(c[2]) for c in cf.changes],
        }), hide_index=True, width="stretch")
    st.caption(tr("explain.cf.metrics_note"))


# ---- saliency maps (images) -----------------------------------------------------------------


def _image(ctx, x_model: np.ndarray) -> np.ndarray:
    raw = ctx.layout.to_original(x_model[None, :]).iloc[0].to_numpy(dtype=np.float64)
    return raw.reshape(ctx.data.image_shape)


def saliency_tab(ctx: ExplainContext) -> None:
    from mlcore.explain import jobs as ej
    from mlcore.explain.counterfactuals import Constraint, Target
    from mlcore.plots import explain as plots

    st.markdown(tr("explain.sal.intro"))
    if ctx.data.image_shape is None:
        st.info(tr("explain.sal.only_images"), icon="🖼️")
        return
    X = _rows(ctx.data, N_ROWS)
    preds = _predicted(ctx, X)
    y = ctx.data.y_val[:len(X)] if len(ctx.data.X_val) else ctx.data.y_train[:len(X)]
    c1, c2 = st.columns(2)
    row = int(c1.number_input(tr("explain.sal.row"), 0, len(X) - 1, 0, **keep("x_sal_row", hi=len(X) - 1,
                                                                                    per_data=True)))
    c1.caption(tr("explain.sal.row_info", true=ctx.class_label(int(y[row])), pred=ctx.class_label(int(preds[row]))))
    target = c2.selectbox(tr("explain.sal.target"), ctx.classes, index=int(preds[row]), **keep(f"x_sal_t_{row}", per_data=True),
                          format_func=ctx.class_label)
    # baseline: a blank image (0 in original units)
    blank = np.array([ctx.layout.numeric_to_model(f, 0.0) for f in ctx.layout.features], dtype=np.float32)

    def render(job) -> None:
        maps = job.results["maps"]
        shape = ctx.data.image_shape

        def figure():
            img = _image(ctx, maps.x)  # the image these maps are about (the row may have changed since)
            return plots.images_figure([
                plots.ImagePanel(tr("explain.sal.digit"), img, False),
                plots.ImagePanel(tr("explain.sal.gradient"), maps.gradient.reshape(shape), False, img),
                plots.ImagePanel(tr("explain.sal.smoothgrad"), maps.smoothgrad.reshape(shape), False, img),
                plots.ImagePanel(tr("explain.sal.ig"), maps.integrated.reshape(shape), True, img)])

        chart(st, "x_sal_fig", maps, None, figure)
        st.caption(tr("explain.sal.ig_check", delta=fnum(maps.ig_delta, ".1e")))

    job_panel("sal", ctx, lambda: ej.StepsJob([("maps", ej.saliency_chunk, (ctx.ref, X[row], int(target), blank))]),
              render, params=(row, int(target)), button_key="explain.sal.run")

    st.subheader(tr("explain.sal.cf_title"))
    st.markdown(tr("explain.sal.cf_intro"))
    src, dst = (3, 8) if ctx.data.n_classes > 8 else (0, 1)
    rows = np.flatnonzero((y == src) & (preds == src))
    if not len(rows):
        st.info(tr("explain.sal.cf_no_source", src=ctx.class_label(src)), icon="ℹ️")
        return
    i = int(rows[0])
    constraints = {f.name: Constraint(True, 0.0, 16.0) for f in ctx.layout.features}
    stds = ctx.data.X_train.std(axis=0)

    def render_cf(job) -> None:
        res = job.results["cf"]
        if not res.found:
            st.warning(tr("explain.cf.none"), icon="🔍")
            return
        best = min(res.items, key=lambda c: c.proximity)
        before, after = _image(ctx, X[i]), _image(ctx, best.x)
        panels = [plots.ImagePanel(tr("explain.sal.before", cls=ctx.class_label(src)), before, False),
                  plots.ImagePanel(tr("explain.sal.after", cls=ctx.class_label(int(best.prediction))), after, False),
                  plots.ImagePanel(tr("explain.sal.difference"), after - before, True)]
        chart(st, "x_sal_cf_fig", res, None, lambda: plots.images_figure(panels))
        st.caption(tr("explain.sal.cf_note", n=best.sparsity))

    job_panel("sal_cf", ctx, lambda: ej.StepsJob([("cf", ej.counterfactual_chunk,
                                                   (ctx.ref, ctx.layout, X[i], Target(cls=dst), ctx.task,
                                                    constraints, stds, 3, 0))]),
              render_cf, params=(i, dst), button_key="explain.sal.cf_run")


# ---- prototypes ---------------------------------------------------------------------------------


def prototypes_tab(ctx: ExplainContext) -> None:
    from mlcore.explain.prototypes import prototypes, regression_groups, training_rows
    from mlcore.model import layer_outputs
    from mlcore.plots import explain as plots

    st.markdown(tr("explain.proto.intro"))
    data = ctx.data
    X = data.X_train
    hidden = layer_outputs(ctx.model, X)
    H = hidden[-1] if hidden else X
    if ctx.is_regression:
        labels = regression_groups(data.y_train)
        label_of = lambda c: tr(f"explain.proto.third.{c}")  # noqa: E731
    else:
        labels = data.y_train
        label_of = ctx.class_label
    key = ("proto", ctx.fingerprint)
    cached = st.session_state.get("_explain_proto")
    if cached is not None and cached[0] == key:
        out = cached[1]
    else:
        out = prototypes(H, labels, k=3, n_criticisms=2)
        st.session_state["_explain_proto"] = (key, out)
    shown = out[:10]
    for p in shown:
        st.markdown(tr("explain.proto.class", cls=label_of(p.cls)))
        if data.image_shape is not None:
            def figure(p=p):
                panels = [plots.ImagePanel(tr("explain.proto.prototype", share=int(round(100 * s))),
                                           _image(ctx, X[r]), False) for r, s in zip(p.prototype_rows, p.prototype_cover)]
                panels += [plots.ImagePanel(tr("explain.proto.criticism"), _image(ctx, X[r]), False)
                           for r in p.criticism_rows]
                return plots.images_figure(panels, height=230)

            chart(st, f"x_proto_{p.cls}", out, None, figure)
        else:
            table = training_rows(data, ctx.layout, np.concatenate([p.prototype_rows, p.criticism_rows]))
            kinds = ([tr("explain.proto.prototype", share=int(round(100 * s))) for s in p.prototype_cover]
                     + [tr("explain.proto.criticism")] * len(p.criticism_rows))
            table.insert(0, tr("explain.proto.kind"), kinds)
            st.dataframe(number_table(table), hide_index=True, width="stretch")
    st.caption(tr("explain.proto.note"))


# ---- surrogate ---------------------------------------------------------------------------------


def fidelity_note(fidelity: float, metric: str, depth: int) -> str:
    """The catalogue key of the surrogate's verdict: good (at least 90 % agreement, or R² 0.8), low
    (try a deeper tree), or low at the deepest tree on offer, where that advice cannot be followed."""
    if fidelity >= (0.9 if metric == "accuracy" else 0.8):
        return "explain.sur.good_fidelity"
    return "explain.sur.low_fidelity" if depth < MAX_SURROGATE_DEPTH else "explain.sur.low_fidelity_max"


def surrogate_tab(ctx: ExplainContext) -> None:
    from mlcore.explain.jobs import surrogate_chunk

    st.markdown(tr("explain.sur.intro"))
    depth = st.slider(tr("explain.sur.depth"), 1, MAX_SURROGATE_DEPTH, 3, **keep("x_sur_depth"))
    key = ("sur", ctx.fingerprint, depth)
    cached = st.session_state.get("_explain_sur")
    if cached is not None and cached[0] == key:
        sur = cached[1]
    else:  # a few milliseconds: no job needed
        X_val = ctx.data.X_val if len(ctx.data.X_val) else ctx.data.X_train
        sur = surrogate_chunk(ctx.ref, ctx.task, ctx.layout, ctx.data.X_train, X_val, depth, 0)
        st.session_state["_explain_sur"] = (key, sur)
    num = number_formatter()
    c1, c2 = st.columns(2)
    label = tr(f"explain.sur.fidelity.{sur.metric}")
    c1.metric(label, f"{fnum(100 * sur.fidelity, '.1f')} %" if sur.metric == "accuracy" else num(sur.fidelity, 3))
    c2.metric(tr("explain.sur.fidelity_train"),
              f"{fnum(100 * sur.fidelity_train, '.1f')} %" if sur.metric == "accuracy" else num(sur.fidelity_train, 3))
    note = fidelity_note(sur.fidelity, sur.metric, depth)
    (st.success if note == "explain.sur.good_fidelity" else st.warning)(tr(note), icon="✅" if
                                                                         note == "explain.sur.good_fidelity" else "⚠️")
    lines = []
    for r in sur.rules:
        conds = f" {tr('explain.sur.and')} ".join(_condition(c) for c in r.conditions) or tr("explain.sur.always")
        outcome = _fmt_value(r.prediction) if ctx.is_regression else ctx.class_label(int(r.prediction))
        lines.append(tr("explain.sur.rule", conds=conds, outcome=outcome, n=r.samples,
                        purity=int(round(100 * r.purity))))
    st.markdown("\n".join(f"- {line}" for line in lines))
    st.caption(tr("explain.sur.note"))


def _condition(c) -> str:
    sym = {"<=": "≤", ">": ">", "==": "=", "!=": "≠"}[c.op]
    return f"`{c.feature} {sym} {_fmt_value(c.value)}`"


# ---- disagreement -------------------------------------------------------------------------------


def disagreement_tab(ctx: ExplainContext) -> None:
    from mlcore.explain import jobs as ej
    from mlcore.explain.shap_values import OutputSpec

    st.markdown(tr("explain.dis.intro"))
    data, layout = ctx.data, ctx.layout
    X = _rows(data, 60)
    B = _background(data, 60)
    y_val = data.y_val if len(data.X_val) else data.y_train
    X_val = data.X_val if len(data.X_val) else data.X_train
    if ctx.is_regression:
        spec, target = OutputSpec("value"), 0
    else:
        cls = 1 if len(ctx.classes) == 2 else int(np.bincount(data.y_train).argmax())
        spec, target = OutputSpec("logit", cls), cls
    base = data.X_train.mean(axis=0)
    ig_model_target = target if not (ctx.is_regression and ctx.n_outputs == 1) else 1

    def make():
        return ej.StepsJob([
            ("shap", ej.shap_scores_chunk, (ctx.ref, X, B, (spec,), layout)),
            ("permutation", ej.permutation_chunk, (ctx.ref, ctx.task, X_val, y_val, layout, 0)),
            ("grad_input", ej.grad_input_chunk, (ctx.ref, X, ig_model_target, base, layout)),
            ("integrated", ej.integrated_chunk, (ctx.ref, X, ig_model_target, base, layout)),
            ("surrogate", ej.surrogate_chunk, (ctx.ref, ctx.task, layout, data.X_train, X_val, 3, 0)),
        ])

    explained = output_label(ctx, spec.kind if not ctx.is_regression else "value", target)
    st.caption(tr("explain.dis.output", output=explained))
    job_panel("dis", ctx, make, lambda job: _dis_results(ctx, job), params=(), button_key="explain.dis.run")


def top_table(rank, labels: list[str], methods: list[str], n: int = 5) -> pd.DataFrame:
    """The ``n`` most important features by each method (a column each), rows #1..: as many as
    there are features when there are fewer than ``n``, so no row is empty."""
    n = min(n, len(rank.features))
    top = pd.DataFrame({label: list(rank.order(m)[:n]) for label, m in zip(labels, methods)})
    top.index = [f"#{i}" for i in range(1, n + 1)]
    return top


def _dis_results(ctx, job) -> None:
    from mlcore.explain.disagreement import METHODS, Rankings, rank_correlations, weakest_pair
    from mlcore.plots import explain as plots

    res = dict(job.results)
    scores = {m: np.asarray(res[m] if m != "surrogate" else res[m].importances, dtype=np.float64) for m in METHODS}
    labels = {m: tr(f"explain.dis.method.{m}") for m in METHODS}
    corr = rank_correlations(scores)
    rank = Rankings(ctx.layout.names, scores, corr, list(METHODS))
    c1, c2 = st.columns(2)
    chart(c1, "x_dis_matrix", job, None, lambda: plots.matrix_figure(corr, [labels[m] for m in METHODS],
                                                                   tr("explain.dis.matrix"), decimal_mark()))
    chart(c2, "x_dis_rank", job, None, lambda: plots.rankings_figure(ctx.layout.names, scores, labels,
                                                                   title=tr("explain.dis.rankings")))
    st.dataframe(top_table(rank, [labels[m] for m in METHODS], list(METHODS)), width="stretch")
    pair = weakest_pair(rank)
    if pair is not None:
        st.markdown(tr("explain.dis.weakest", a=labels[pair[0]], b=labels[pair[1]],
                       r=number_formatter()(pair[2], 2)))
    st.markdown(tr("explain.dis.why", fidelity=f"{100 * res['surrogate'].fidelity:.0f}"
                   if res["surrogate"].metric == "accuracy" else number_formatter()(res["surrogate"].fidelity, 2)))
