"""Study figures for the Tune page: Optuna's own ``optuna.visualization`` plots, drawn by Optuna
(plotly figures), with the page's fonts and translated titles and axis names laid on top.

Labels arrive already translated (``labels`` dict: ``title``, optionally ``x``/``y``), so this
module stays language-free. :func:`study_figure` returns ``None`` when a plot cannot be drawn yet
(for example importances with fewer than two finished trials), so the page can say why.
"""

from __future__ import annotations

import warnings

import plotly.graph_objects as go

from mlcore.plots.style import base_layout

PLOTS = ("history", "importances", "parallel", "contour", "slice", "intermediate", "timeline", "edf")
# the least each plot needs: (finished trials, parameters that vary)
_NEEDS = {"history": (1, 0), "importances": (2, 1), "parallel": (1, 1), "contour": (2, 2), "slice": (1, 1),
          "intermediate": (1, 0), "timeline": (1, 0), "edf": (1, 0)}


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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "experimental" notes and plotly deprecations
        fig = draw(study)
    return _dress(fig, labels, height)


def compare_history(studies: list, labels: dict, height: int = 460) -> go.Figure:
    """Best-so-far of several studies overlaid (Optuna's optimisation history of a list)."""
    import optuna.visualization as vis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = vis.plot_optimization_history(studies)
    return _dress(fig, labels, height)


def _dress(fig: go.Figure, labels: dict, height: int) -> go.Figure:
    base_layout(fig, height, labels.get("title"), legend_size=13)
    if labels.get("x") and "xaxis" in fig.layout and not _has_subplots(fig):
        fig.update_layout(xaxis_title=labels["x"])
    if labels.get("y") and "yaxis" in fig.layout and not _has_subplots(fig):
        fig.update_layout(yaxis_title=labels["y"])
    return fig


def _has_subplots(fig: go.Figure) -> bool:
    return "xaxis2" in fig.layout
