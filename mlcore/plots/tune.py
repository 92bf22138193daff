"""Study figures for the Tune page: Optuna's own ``optuna.visualization`` plots, drawn by Optuna
(plotly figures), with the page's fonts and translated labels laid on top.

Labels arrive already translated, so this module stays language-free (``labels`` dict):

- ``title``, optionally ``x``/``y`` (the axis names of one-axis plots);
- ``target``: the objective's name, which Optuna itself takes (``target_name``) where a plot
  accepts it (history, importances, parallel coordinate, contour, slice, EDF);
- ``words``: English text -> translation, for the texts Optuna sets itself and offers no
  argument for (:data:`OPTUNA_TEXTS`: axis titles, legend names such as "Best Value", trial states,
  colour-bar titles; plus the parameter names, which become axis titles and hover labels).
  :func:`translate_figure` replaces them after the figure is built, nothing is redrawn. The
  hover boxes' JSON of a trial (``number``, ``params``...) are Optuna's field names and stay.

:func:`study_figure` returns ``None`` when a plot cannot be drawn yet (for example importances
with fewer than two finished trials), so the page can say why.
"""

from __future__ import annotations

import math
import re
import warnings

import plotly.colors as pc
import plotly.graph_objects as go

from mlcore.plots.style import SMALL, base_layout

PLOTS = ("history", "importances", "parallel", "contour", "slice", "intermediate", "timeline", "edf")
# the least each plot needs: (finished trials, parameters that vary)
_NEEDS = {"history": (1, 0), "importances": (2, 1), "parallel": (1, 1), "contour": (2, 2), "slice": (1, 1),
          "intermediate": (1, 0), "timeline": (1, 0), "edf": (2, 0)}  # one value: an EDF with no step to draw


# The English texts optuna.visualization (5.0) sets itself, and their catalogue keys.
OPTUNA_TEXTS = {
    "Objective Value": "tune.fig.objective",
    "Best Value": "tune.fig.best",
    "Trial": "tune.fig.trial",
    "Step": "tune.fig.step",
    "Intermediate Value": "tune.fig.intermediate",
    "Cumulative Probability": "tune.fig.cumulative",
    "Datetime": "tune.fig.datetime",
    "Hyperparameter": "tune.fig.hyperparameter",
    "Hyperparameter Importance": "tune.fig.importance",
    "Feasible Trial": "tune.fig.feasible",
    "Infeasible Trial": "tune.fig.infeasible",
    "COMPLETE": "tune.state.complete",
    "PRUNED": "tune.state.pruned",
    "FAIL": "tune.state.fail",
    "RUNNING": "tune.state.running",
    "WAITING": "tune.state.waiting",
}
_TRIAL_N = re.compile(r"^Trial(\d+)$")  # plot_intermediate_values: one line per trial, "Trial<number>"
_OF_STUDY = re.compile(r"^(.+) of (.+)$")  # several studies: "Best Value of <study>"
_EXTRA = re.compile(r"<extra>([^<]*)</extra>")  # the timeline's hover box names the trial state
LEGEND_MAX_TRIALS = 12  # the intermediate values name their lines in a legend up to this many trials
_TARGETED = ("history", "importances", "parallel", "contour", "slice", "edf")  # plot_* take target_name


def translate_figure(fig: go.Figure, words: dict[str, str]) -> go.Figure:
    """Replace the English texts Optuna set (exact matches of ``words``' keys) in titles, axis
    titles and tick labels, legend names, colour-bar titles, annotations, hover labels."""
    if not words:
        return fig

    def word(text):
        if not isinstance(text, str):
            return text
        if text in words:
            return words[text]
        m = _TRIAL_N.match(text)
        if m and "Trial" in words:
            return f"{words['Trial']} {m.group(1)}"
        m = _OF_STUDY.match(text)
        if m and m.group(1) in words:
            return f"{words[m.group(1)]} · {m.group(2)}"
        return text

    def walk(node, key=None):
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [walk(v, key) for v in node]
        if key == "hovertemplate" and isinstance(node, str):
            return _EXTRA.sub(lambda m: f"<extra>{word(m.group(1))}</extra>", node)
        if key in ("text", "name", "ticktext", "customdata", "label"):
            return word(node)
        return node

    d = fig.to_dict()
    data = []
    for trace in d.get("data", []):
        trace = dict(trace)
        text = trace.pop("text", None)  # a trial's JSON in the hover box: data, not labels
        trace = walk(trace)
        if trace.get("type") == "bar":  # importances: one bar per parameter, named on its category axis
            for axis in ("x", "y"):
                if trace.get(axis) is not None:
                    trace[axis] = [word(v) for v in trace[axis]]
        if text is not None:
            trace["text"] = text
        data.append(trace)
    return go.Figure(data=data, layout=walk(d.get("layout", {})))


def _counts(study) -> tuple[int, int]:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    names = {name for t in trials for name in t.params}
    varying = [n for n in names if len({repr(t.params.get(n)) for t in trials}) > 1]
    return len(trials), len(varying)


def can_draw(kind: str, study) -> bool:
    finished, varying = _counts(study)
    need_trials, need_params = _NEEDS[kind]
    if kind in ("intermediate", "timeline"):
        return len(study.get_trials(deepcopy=False)) >= 1
    return finished >= need_trials and varying >= need_params


def study_figure(kind: str, study, labels: dict, height: int = 440) -> go.Figure | None:
    """Optuna's ``plot_<kind>`` of ``study``; None when it cannot be drawn yet."""
    import optuna.visualization as vis

    if not can_draw(kind, study):
        return None
    draw = {
        "history": vis.plot_optimization_history,
        "importances": vis.plot_param_importances,
        "parallel": vis.plot_parallel_coordinate,
        "contour": vis.plot_contour,
        "slice": vis.plot_slice,
        "intermediate": vis.plot_intermediate_values,
        "timeline": vis.plot_timeline,
        "edf": vis.plot_edf,
    }[kind]
    kwargs = {"target_name": labels["target"]} if labels.get("target") and kind in _TARGETED else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "experimental" notes and plotly deprecations
        fig = draw(study, **kwargs)
    if kind in ("history", "intermediate"):
        _integer_axis(fig)
        _flat_y(fig)
    if kind == "intermediate" and len(fig.data) <= LEGEND_MAX_TRIALS:  # few lines: say which trial is which
        for trace in fig.data:
            trace.showlegend = True
        fig.update_layout(showlegend=True)  # Optuna turns the whole legend off
    if kind == "timeline":
        _integer_axis(fig, "y")
    if kind == "parallel":
        _visible_lines(fig)
    if kind == "contour":  # an n x n matrix of contours: rows tall enough for their axis titles
        n = math.isqrt(sum(1 for key in fig.layout if key.startswith("xaxis")))
        height = max(height, 200 * n + 80)
    fig = _dress(fig, labels, height)
    if kind == "parallel":
        _readable_axes(fig)  # (after the translation: the parameters' names grow)
    for key in fig.layout:  # log axes over less than a decade: ticks at 2 and 5, not at every digit
        if key.startswith(("xaxis", "yaxis")) and fig.layout[key].type == "log":
            fig.layout[key].dtick = "D2"
    return fig


def _wrap(text: str, width: int = 18) -> str:
    """A label longer than ``width`` on two lines, broken at the space nearest its middle."""
    if len(text) <= width or " " not in text:
        return text
    spaces = [i for i, c in enumerate(text) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut] + "<br>" + text[cut + 1:]


def _readable_axes(fig: go.Figure) -> None:
    """The parallel coordinate's axis values are annotations at 10 px: at the page's tick size;
    its axis names (the objective's is long) on two lines, and room for the first one, which
    plotly dropped when it ran past the plot's left edge."""
    fig.update_annotations(font_size=SMALL - 1)
    ticks = fig.layout.xaxis.ticktext
    if ticks:
        fig.update_xaxes(ticktext=[_wrap(str(t)) for t in ticks])
    if fig.layout.xaxis.range:  # room left of the first axis for its centred name
        lo, hi = fig.layout.xaxis.range
        fig.update_xaxes(range=[min(lo, -0.5), hi])


def compare_history(studies: list, labels: dict, height: int = 460) -> go.Figure:
    """Best-so-far of several studies overlaid (Optuna's optimisation history of a list).

    Optuna names each study's traces "<objective> of <study>" and "Best Value of <study>" (in
    English, and long): here they are ``labels["names"][study]`` (the sampler's name, say) and
    "<that name> · <best value's word>"."""
    import optuna.visualization as vis

    kwargs = {"target_name": labels["target"]} if labels.get("target") else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = vis.plot_optimization_history(studies, **kwargs)
    names = labels.get("names") or {}
    best = (labels.get("words") or {}).get("Best Value", "Best Value")
    for trace in fig.data:
        m = _OF_STUDY.match(trace.name or "")
        if m:
            who = names.get(m.group(2), m.group(2))
            trace.name = f"{who} · {best}" if m.group(1) == "Best Value" else who
    _integer_axis(fig)
    _flat_y(fig)
    return _dress(fig, labels, height)


def _flat_y(fig: go.Figure) -> None:
    """One finished trial (or all alike): plotly would stretch the axis to about ±1 around the one
    value (an accuracy of 0.78 on an axis from 0 to 1.6); a narrow band around it instead."""
    ys = [float(v) for trace in fig.data if trace.y is not None for v in trace.y
          if isinstance(v, (int, float)) and math.isfinite(v)]
    if ys and max(ys) - min(ys) < 1e-12:
        pad = 0.05 * max(abs(ys[0]), 1e-3)
        fig.update_yaxes(range=[ys[0] - pad, ys[0] + pad])


# Optuna colours the parallel coordinate's lines from plotly's Blues, whose palest end is
# rgb(247, 251, 255): drawn at half opacity, the worst trial's line vanished on the white page.
_VISIBLE_BLUES = [[i / 5, c] for i, c in enumerate(pc.sequential.Blues[3:])]  # 6 stops


def _visible_lines(fig: go.Figure) -> None:
    """Recolour the parallel coordinate's lines from Blues without its three palest stops (and its
    colour bar to match). Each line's first point is its objective value normalised to 0..1, which
    is where Optuna samples its colour from (reversed when the colour bar is)."""
    bar = next((t for t in fig.data if t.type == "scatter" and t.marker is not None and t.marker.showscale), None)
    if bar is None:
        return
    reverse = bool(bar.marker.reversescale)
    bar.marker.colorscale = _VISIBLE_BLUES
    for trace in fig.data:
        if trace.type == "scatter" and trace.mode == "lines" and trace.y is not None and len(trace.y) \
                and isinstance(trace.line.color, str) and trace.y[0] is not None:
            v = min(1.0, max(0.0, float(trace.y[0])))
            trace.line.color = pc.sample_colorscale(_VISIBLE_BLUES, 1.0 - v if reverse else v)[0]
            trace.opacity = 0.8


def _integer_axis(fig: go.Figure, axis: str = "x") -> None:
    """Trial numbers and epochs are whole: over a short range plotly would tick at 0.5, 1.5...
    (``axis``: "x", or "y" for the timeline, whose trials run up its y axis)."""
    vs = [v for trace in fig.data if trace[axis] is not None for v in trace[axis] if isinstance(v, (int, float))]
    if vs and max(vs) - min(vs) < 10:
        (fig.update_xaxes if axis == "x" else fig.update_yaxes)(dtick=1)


def _dress(fig: go.Figure, labels: dict, height: int) -> go.Figure:
    fig = translate_figure(fig, labels.get("words") or {})
    base_layout(fig, height, labels.get("title"), legend_size=13)
    # Optuna puts legends on the right, where they took up to half of a column's width (the
    # history's "<metric> in validation" / "Best value"): below the plot, as the app's own figures
    if any(getattr(t, "showlegend", None) is not False and getattr(t, "name", None) for t in fig.data):
        fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))
    if labels.get("x") and "xaxis" in fig.layout and not _has_subplots(fig):
        fig.update_layout(xaxis_title=labels["x"])
    if labels.get("y") and "yaxis" in fig.layout and not _has_subplots(fig):
        fig.update_layout(yaxis_title=labels["y"])
    return fig


def _has_subplots(fig: go.Figure) -> bool:
    return "xaxis2" in fig.layout
