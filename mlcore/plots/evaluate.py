"""Figures for the Evaluate page: the general process, diagnosed curves, cross-validation folds,
sweeps with a band over seeds, the bias-variance decomposition, regularisation side by side, and
ROC / precision-recall / residual plots.

Each builder first computes a small typed record (what is drawn; tests check it), then draws it.
Labels arrive already translated (``labels`` dicts), so this module stays language-free.

Legends sit ABOVE the plot area (``LEGEND_ABOVE``), not below it as ``mlcore.plots.train._layout``
puts them: a horizontal legend below is placed at a fraction of the plot height, so when it wraps
to a second row in a narrow column (two figures side by side at 1400 px) the margin it pushes
shrinks the plot and the legend climbs onto the x-axis title. Above the plot there is nothing to
cover, and a wrapped legend only grows the top margin. Titles over the plot area get room of their
own: ``fitted_curves`` puts its title at the top of the figure, and ``regularisation_figure`` its
legend (``LEGEND_TOP``) above the two-line subplot titles, each with a top margin that holds both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from mlcore.plots.style import number
from mlcore.plots.train import PALETTE, _layout

TRAIN_C, VAL_C, TEST_C = PALETTE[0], PALETTE[1], PALETTE[2]
LEGEND_ABOVE = dict(orientation="h", yref="paper", yanchor="bottom", y=1.02, xanchor="left", x=0)
LEGEND_TOP = dict(orientation="h", yref="container", yanchor="top", y=1.0, xanchor="left", x=0)
LEGEND_ROW_PX = 32  # the top margin one row of ``LEGEND_TOP`` needs (16 px font)


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


# ---- the general process --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessRecord:
    rows: tuple[int, int, int]  # train, validation, test
    shares: tuple[float, float, float]
    test_looks: int


def process_record(n_train: int, n_val: int, n_test: int, test_looks: int = 0) -> ProcessRecord:
    total = max(1, n_train + n_val + n_test)
    return ProcessRecord((n_train, n_val, n_test), (n_train / total, n_val / total, n_test / total), int(test_looks))


def process_diagram(rec: ProcessRecord, labels: dict[str, str]) -> go.Figure:
    """One bar split into train / validation / test (row counts), and below it the three steps:
    train on train, tune on validation (or cross-validation), one final evaluation on test."""
    names = (labels["train"], labels["val"], labels["test"])
    colors = (TRAIN_C, VAL_C, TEST_C)
    steps = (labels["step_train"], labels["step_tune"], labels["step_test"])
    fig = go.Figure()
    left = 0.0
    for name, rows, share, color, step in zip(names, rec.rows, rec.shares, colors, steps):
        if share <= 0:
            continue
        fig.add_shape(type="rect", x0=left, x1=left + share, y0=0.55, y1=1.0, fillcolor=_rgba(color, 0.85),
                      line=dict(color="white", width=3))
        fig.add_annotation(x=left + share / 2, y=0.775, text=f"<b>{name}</b><br>{rows}", showarrow=False,
                           font=dict(size=16, color="white"))
        fig.add_shape(type="rect", x0=left + 0.01, x1=left + share - 0.01, y0=0.0, y1=0.38,
                      fillcolor=_rgba(color, 0.12), line=dict(color=color, width=2))
        fig.add_annotation(x=left + share / 2, y=0.19, text=step, showarrow=False, font=dict(size=15, color="#222"))
        fig.add_annotation(x=left + share / 2, y=0.40, ax=left + share / 2, ay=0.54, xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=2, arrowwidth=2, arrowcolor=color, text="")
        if name == names[2] and rec.test_looks:  # the looks counter on the test step
            fig.add_annotation(x=left + share / 2, y=0.05, text=labels["looks"].format(n=rec.test_looks),
                               showarrow=False, font=dict(size=14, color=TEST_C if rec.test_looks < 2 else "#b45309"))
        left += share
    fig.update_xaxes(visible=False, range=[0, 1])
    fig.update_yaxes(visible=False, range=[-0.02, 1.02])
    return _layout(fig, height=260, margin=dict(l=5, r=5, t=10, b=5), showlegend=False)


# ---- curves with a diagnosis --------------------------------------------------------------------


@dataclass(frozen=True)
class DiagnosedCurves:
    epochs: np.ndarray
    train: np.ndarray
    val: np.ndarray
    best_epoch: int | None
    best_val: float


def diagnosed_record(history, best_epoch: int | None) -> DiagnosedCurves:
    epochs = np.array([r.epoch for r in history])
    val = np.array([r.val_loss for r in history], dtype=float)
    best_val = float(val[best_epoch - 1]) if best_epoch and best_epoch <= len(val) else float("nan")
    return DiagnosedCurves(epochs, np.array([r.train_loss for r in history], dtype=float), val, best_epoch, best_val)


def diagnosed_curves(rec: DiagnosedCurves, labels: dict[str, str], height: int = 400, log_y: bool = False) -> go.Figure:
    fig = go.Figure([
        go.Scatter(x=rec.epochs, y=rec.train, name=labels["train"], mode="lines", line=dict(color=TRAIN_C, width=3)),
        go.Scatter(x=rec.epochs, y=rec.val, name=labels["val"], mode="lines", line=dict(color=VAL_C, width=3)),
    ])
    if rec.best_epoch is not None and np.isfinite(rec.best_val):
        fig.add_trace(go.Scatter(x=[rec.best_epoch], y=[rec.best_val], name=labels["best"], mode="markers",
                                 marker=dict(symbol="star", size=18, color="#222")))
        fig.add_vline(x=rec.best_epoch, line=dict(color="#555", dash="dot"))
    fig.update_xaxes(title_text=labels["epoch"])
    fig.update_yaxes(title_text=labels["loss"])
    if log_y:  # a blow-up (651, then 0.69): on a linear axis everything after it is one flat line
        fig.update_yaxes(type="log")
    return _layout(fig, height=height, legend=LEGEND_ABOVE)


# ---- cross-validation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoldsRecord:
    folds: tuple[int, ...]  # 1-based
    values: np.ndarray
    mean: float
    std: float


def folds_record(values) -> FoldsRecord:
    values = np.asarray(values, dtype=float)
    return FoldsRecord(tuple(range(1, len(values) + 1)), values, float(np.nanmean(values)), float(np.nanstd(values)))


def folds_strip(rec: FoldsRecord, labels: dict[str, str]) -> go.Figure:
    """The score of each fold (labelled points over a box), with mean ± std (``labels["decimal"]``:
    the decimal mark of its numbers, "." by default)."""
    dec = labels.get("decimal", ".")
    fig = go.Figure([
        go.Box(y=rec.values, name=labels["metric"], boxpoints="all", jitter=0.4, pointpos=0,
               marker=dict(size=14, color=PALETTE[1]), line=dict(color=PALETTE[0]), fillcolor=_rgba(PALETTE[0], 0.15),
               hovertext=[f"{labels['fold']} {f}" for f in rec.folds], hoverinfo="text+y", showlegend=False),
    ])
    fig.add_hline(y=rec.mean, line=dict(color="#222", dash="dash"),
                  annotation_text=f"{labels['mean']} {number(rec.mean, '.3f', dec)} ± {number(rec.std, '.3f', dec)}",
                  annotation_font_size=15)
    fig.update_yaxes(title_text=labels["metric"])
    return _layout(fig, height=380, showlegend=False)


def mean_curve(epochs_train: np.ndarray, epochs_val: np.ndarray, val_std: np.ndarray, labels: dict[str, str]
               ) -> go.Figure:
    """Mean over folds of the per-epoch training and validation loss, with a ± std band."""
    x = np.arange(1, len(epochs_val) + 1)
    fig = go.Figure(_band_traces(x, epochs_val, val_std, labels["val"], VAL_C))
    fig.add_trace(go.Scatter(x=np.arange(1, len(epochs_train) + 1), y=epochs_train, name=labels["train"],
                             mode="lines", line=dict(color=TRAIN_C, width=3)))
    fig.update_xaxes(title_text=labels["epoch"])
    fig.update_yaxes(title_text=labels["loss"])
    return _layout(fig, height=380, legend=LEGEND_ABOVE)


# ---- sweeps ------------------------------------------------------------------------------------------


def _band_traces(x, mean, std, name, color) -> list:
    x = list(x)
    mean = np.asarray(mean, dtype=float)
    std = np.nan_to_num(np.asarray(std, dtype=float))
    return [
        go.Scatter(x=x + x[::-1], y=list(mean + std) + list((mean - std)[::-1]), fill="toself",
                   fillcolor=_rgba(color, 0.18), line=dict(width=0), hoverinfo="skip", showlegend=False),
        go.Scatter(x=x, y=mean, name=name, mode="lines+markers", line=dict(color=color, width=3),
                   marker=dict(size=9)),
    ]


@dataclass(frozen=True)
class SweepRecord:
    x: tuple
    train_mean: np.ndarray
    train_std: np.ndarray
    val_mean: np.ndarray
    val_std: np.ndarray
    best_x: object  # the x with the best mean validation value


def sweep_record(train_band, val_band, higher_is_better: bool = False) -> SweepRecord:
    """``best_x``: lowest mean validation loss, or highest metric with ``higher_is_better``."""
    pick = np.nanargmax if higher_is_better else np.nanargmin
    best = int(pick(val_band.mean)) if np.isfinite(val_band.mean).any() else 0
    return SweepRecord(tuple(val_band.x), train_band.mean, train_band.std, val_band.mean, val_band.std,
                       val_band.x[best] if val_band.x else None)


def _log_ticks(fig: go.Figure, xs, log_x: bool) -> None:
    """Log axes show exactly the swept values as ticks (plotly's 2, 3, ..., 10, 2, 3 is unreadable)."""
    if log_x:
        fig.update_xaxes(type="log", tickvals=list(xs), ticktext=[str(x) for x in xs])


def sweep_figure(rec: SweepRecord, labels: dict[str, str], log_x: bool = False, show_best: bool = True
                 ) -> go.Figure:
    """Final train and validation error (mean ± std over seeds) against capacity or data size."""
    fig = go.Figure(_band_traces(rec.x, rec.train_mean, rec.train_std, labels["train"], TRAIN_C)
                    + _band_traces(rec.x, rec.val_mean, rec.val_std, labels["val"], VAL_C))
    if show_best and rec.best_x is not None:  # a marker, not a vline: shapes on a log axis take log10 coordinates
        best_y = float(rec.val_mean[list(rec.x).index(rec.best_x)])
        fig.add_trace(go.Scatter(x=[rec.best_x], y=[best_y], mode="markers", name=labels.get("best", ""),
                                 marker=dict(symbol="star", size=20, color="#222")))
    fig.update_xaxes(title_text=labels["x"])
    _log_ticks(fig, rec.x, log_x)
    fig.update_yaxes(title_text=labels["y"])
    return _layout(fig, height=420, legend=LEGEND_ABOVE)


# ---- bias-variance -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BiasVarianceRecord:
    x: tuple
    parts: dict  # part name -> values per x (e.g. "bias2", "variance", "noise", "error")


def biasvar_record(xs, decompositions, parts: tuple[str, ...]) -> BiasVarianceRecord:
    return BiasVarianceRecord(tuple(xs), {p: np.array([getattr(d, p) if getattr(d, p) is not None else np.nan
                                                       for d in decompositions], dtype=float) for p in parts})


def biasvar_figure(rec: BiasVarianceRecord, labels: dict[str, str], log_x: bool = True) -> go.Figure:
    colors = {"error": "#222222", "bias2": PALETTE[0], "bias": PALETTE[0], "variance": PALETTE[1],
              "net_variance": PALETTE[4], "noise": PALETTE[7]}
    fig = go.Figure()
    for part, values in rec.parts.items():
        if np.isnan(values).all():
            continue
        fig.add_trace(go.Scatter(x=list(rec.x), y=values, name=labels[part], mode="lines+markers",
                                 line=dict(color=colors.get(part, PALETTE[3]), width=4 if part == "error" else 3,
                                           dash="dash" if part in ("noise", "error") else None),
                                 marker=dict(size=9)))
    fig.update_xaxes(title_text=labels["x"])
    _log_ticks(fig, rec.x, log_x)
    fig.update_yaxes(title_text=labels["y"])
    return _layout(fig, height=420, legend=LEGEND_ABOVE)


def fitted_curves(x: np.ndarray, preds: list[np.ndarray], truth: np.ndarray | None, labels: dict[str, str],
                  points: tuple[np.ndarray, np.ndarray] | None = None) -> go.Figure:
    """The M fitted curves of one capacity (thin), their mean, and the true function."""
    x = np.asarray(x, dtype=float).reshape(-1)
    fig = go.Figure()
    if points is not None:
        fig.add_trace(go.Scatter(x=points[0], y=points[1], mode="markers", name=labels["data"],
                                 marker=dict(size=6, color="#999", opacity=0.6)))
    for i, p in enumerate(preds):
        fig.add_trace(go.Scatter(x=x, y=np.asarray(p).reshape(-1), mode="lines", name=labels["models"],
                                 legendgroup="m", showlegend=i == 0, line=dict(color=_rgba(PALETTE[0], 0.35), width=1.5),
                                 hoverinfo="skip"))
    if preds:
        fig.add_trace(go.Scatter(x=x, y=np.mean([np.asarray(p).reshape(-1) for p in preds], axis=0), mode="lines",
                                 name=labels["mean"], line=dict(color=PALETTE[0], width=4)))
    if truth is not None:
        fig.add_trace(go.Scatter(x=x, y=truth, mode="lines", name=labels["truth"],
                                 line=dict(color="#222", width=3, dash="dash")))
    fig.update_xaxes(title_text=labels["x"])
    fig.update_yaxes(title_text=labels["y"])
    # title at the top, the legend between it and the plot area (a legend below would cover "x")
    return _layout(fig, height=420, margin=dict(l=50, r=20, t=50 + LEGEND_ROW_PX, b=45), legend=LEGEND_ABOVE,
                   title=dict(text=labels.get("title", ""), font=dict(size=17), yref="container", y=0.98,
                              yanchor="top"))


# ---- regularisation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegularisationRecord:
    """What the regularisation tab shows, the figure and the table alike.

    ``train`` / ``val``: the logged curves (per epoch: the mean loss over the epoch's mini-batches
    in training mode, so with dropout active; the validation loss at the epoch's end). ``final_*``:
    the trained model scored at the end in evaluation mode (no dropout) on the whole training and
    validation sets (``mlcore.evaluate.study.score_member``). The gap is ``final_val - final_train``:
    the one definition both the subplot titles and the table show. The last points of the curves
    can differ from it (dropout's training curve most), which the page says in a caption.
    """

    names: tuple[str, ...]
    train: tuple[np.ndarray, ...]
    val: tuple[np.ndarray, ...]
    final_train: tuple[float, ...]
    final_val: tuple[float, ...]
    final_metric: tuple[float, ...]  # validation accuracy or R², eval mode

    @property
    def epochs(self) -> tuple[int, ...]:
        return tuple(len(t) for t in self.train)

    @property
    def final_gap(self) -> tuple[float, ...]:
        """Final validation minus training loss per variant (eval mode, whole splits)."""
        return tuple(v - t for t, v in zip(self.final_train, self.final_val))


def regularisation_record(names, histories, final_train, final_val, final_metric=None) -> RegularisationRecord:
    """``histories``: each variant's ``EpochRecord`` list; ``final_*``: its final scores (eval mode)."""
    train = tuple(np.array([r.train_loss for r in h], dtype=float) for h in histories)
    val = tuple(np.array([r.val_loss for r in h], dtype=float) for h in histories)
    n = len(train)
    metric = tuple(float(m) for m in final_metric) if final_metric is not None else (float("nan"),) * n
    record = RegularisationRecord(tuple(names), train, val, tuple(float(x) for x in final_train),
                                  tuple(float(x) for x in final_val), metric)
    if not len(record.names) == n == len(record.final_train) == len(record.final_val) == len(record.final_metric):
        raise ValueError(f"regularisation_record: {len(record.names)} names, {n} histories, "
                         f"{len(record.final_train)} / {len(record.final_val)} / {len(record.final_metric)} "
                         "final train / val / metric values; give one of each per variant")
    return record


GAP_DIGITS = 4  # the gap in the subplot titles and in the table: the same rounding, the same number


def regularisation_figure(rec: RegularisationRecord, labels: dict[str, str]) -> go.Figure:
    """The variants side by side (shared y axis): training and validation loss per epoch; each
    subplot's title gives the variant's final gap (``rec.final_gap``, as the table does)."""
    from plotly.subplots import make_subplots

    n = max(1, len(rec.names))
    dec = labels.get("decimal", ".")
    titles = [f"{labels[name]}<br>{labels['gap']} {number(gap, f'.{GAP_DIGITS}f', dec)}"
              for name, gap in zip(rec.names, rec.final_gap)]
    fig = make_subplots(rows=1, cols=n, shared_yaxes=True, subplot_titles=titles, horizontal_spacing=0.03)
    for i, (tr, va) in enumerate(zip(rec.train, rec.val)):
        x = np.arange(1, len(tr) + 1)
        fig.add_trace(go.Scatter(x=x, y=tr, name=labels["train"], legendgroup="t", showlegend=i == 0,
                                 line=dict(color=TRAIN_C, width=3)), row=1, col=i + 1)
        fig.add_trace(go.Scatter(x=x, y=va, name=labels["val"], legendgroup="v", showlegend=i == 0,
                                 line=dict(color=VAL_C, width=3)), row=1, col=i + 1)
        fig.update_xaxes(title_text=labels["epoch"], row=1, col=i + 1)
    fig.update_yaxes(title_text=labels["loss"], row=1, col=1)
    # two-line subplot titles above the plots, the legend above them at the top of the figure
    fig = _layout(fig, height=420 + LEGEND_ROW_PX, margin=dict(l=50, r=20, t=80 + LEGEND_ROW_PX, b=45),
                  legend=LEGEND_TOP)
    fig.update_annotations(font=dict(size=15))
    return fig


# ---- ROC / PR / residuals ----------------------------------------------------------------------------------


def roc_figure(curves, labels: dict[str, str]) -> go.Figure:
    fig = go.Figure([go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="#999", dash="dash"),
                                name=labels["chance"])])
    for i, c in enumerate(curves):
        fig.add_trace(go.Scatter(x=c.x, y=c.y, mode="lines", line=dict(color=PALETTE[i % len(PALETTE)], width=3),
                                 name=f"{c.label} (AUC {number(c.auc, '.3f', labels.get('decimal', '.'))})"))
    fig.update_xaxes(title_text=labels["fpr"], range=[0, 1])
    fig.update_yaxes(title_text=labels["tpr"], range=[0, 1.02])
    return _layout(fig, height=420, legend=LEGEND_ABOVE)


def pr_figure(curves, labels: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    for i, c in enumerate(curves):
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=c.x, y=c.y, mode="lines", line=dict(color=color, width=3, shape="hv"),
                                 name=f"{c.label} (AP {number(c.auc, '.3f', labels.get('decimal', '.'))})"))
        fig.add_hline(y=c.prevalence, line=dict(color=color, dash="dot", width=1))
    fig.update_xaxes(title_text=labels["recall"], range=[0, 1])
    fig.update_yaxes(title_text=labels["precision"], range=[0, 1.02])
    return _layout(fig, height=420, showlegend=True, legend=LEGEND_ABOVE)  # the legend carries the AP


def residual_figure(res, labels: dict[str, str]) -> go.Figure:
    fig = go.Figure([go.Scatter(x=res.y_pred, y=res.residual, mode="markers",
                                marker=dict(size=7, color=PALETTE[0], opacity=0.7), showlegend=False)])
    fig.add_hline(y=0, line=dict(color="black", dash="dash"))
    fig.update_xaxes(title_text=labels["predicted"])
    fig.update_yaxes(title_text=labels["residual"])
    return _layout(fig, height=420)
