"""Figures for the Explain page: SHAP bar, beeswarm, waterfall and dependence plots, image maps and
the rank-correlation matrix.

As in Optuna's visualization module, each figure is built from a small typed record computed
first (``*_record`` functions), and tests assert on the records. Labels arrive translated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from mlcore.plots import fast
from mlcore.plots.style import base_layout, number

POS, NEG = "#d62728", "#1f77b4"
MAX_BARS = 15


# ---- global importance ----------------------------------------------------------------------


@dataclass(frozen=True)
class BarRecord:
    features: tuple[str, ...]  # most important first
    values: tuple[float, ...]


def bar_record(values: np.ndarray, features: list[str], top: int = MAX_BARS) -> BarRecord:
    """Mean |SHAP| per feature from ``values`` (n, d), the ``top`` largest first."""
    imp = np.abs(np.asarray(values)).mean(axis=0)
    order = np.argsort(-imp, kind="stable")[:top]
    return BarRecord(tuple(features[i] for i in order), tuple(float(imp[i]) for i in order))


@fast.builder
def bar_figure(rec: BarRecord, xlabel: str, title: str | None = None) -> go.Figure:
    fig = fast.Figure(fast.Bar(x=list(rec.values)[::-1], y=list(rec.features)[::-1], orientation="h",
                           marker_color=POS))
    fig.update_xaxes(title_text=xlabel)
    return base_layout(fig, max(300, 34 * len(rec.features) + 120), title)


@dataclass(frozen=True)
class BeeswarmRecord:
    features: tuple[str, ...]  # top first
    shap: tuple[np.ndarray, ...]  # per feature, the values of every row
    color: tuple[np.ndarray, ...]  # feature value scaled to 0..1 within the feature (nan: categorical)
    jitter: tuple[np.ndarray, ...]


def beeswarm_record(values: np.ndarray, feature_values: np.ndarray, features: list[str], top: int = 12,
                    seed: int = 0) -> BeeswarmRecord:
    values = np.asarray(values)
    fv = np.asarray(feature_values, dtype=np.float64)
    order = np.argsort(-np.abs(values).mean(axis=0), kind="stable")[:top]
    rng = np.random.default_rng(seed)
    shap, color, jitter = [], [], []
    for j in order:
        col = fv[:, j]
        span = np.nanmax(col) - np.nanmin(col) if np.isfinite(col).any() else 0.0
        color.append((col - np.nanmin(col)) / span if span > 0 else np.full(len(col), 0.5))
        shap.append(values[:, j])
        jitter.append(rng.uniform(-0.3, 0.3, len(col)))
    return BeeswarmRecord(tuple(features[j] for j in order), tuple(shap), tuple(color), tuple(jitter))


@fast.builder
def beeswarm_figure(rec: BeeswarmRecord, xlabel: str, low: str, high: str, title: str | None = None) -> go.Figure:
    fig = fast.Figure()
    n = len(rec.features)
    for k, name in enumerate(rec.features):
        y = (n - 1 - k) + rec.jitter[k]
        fig.add_trace(fast.Scattergl(
            x=rec.shap[k], y=y, mode="markers", name=name, showlegend=False,
            marker=dict(size=7, color=rec.color[k], colorscale="RdBu_r", cmin=0, cmax=1, opacity=0.8,
                        colorbar=dict(title=dict(text=""), tickvals=[0, 1], ticktext=[low, high], len=0.6)
                        if k == 0 else None, showscale=k == 0),
            hovertemplate=f"{name}: %{{x:.3g}}<extra></extra>"))
    fig.update_yaxes(tickvals=list(range(n)), ticktext=list(rec.features)[::-1])
    fig.update_xaxes(title_text=xlabel, zeroline=True, zerolinecolor="#888")
    return base_layout(fig, max(320, 36 * n + 120), title)


# ---- local --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaterfallRecord:
    base: float
    labels: tuple[str, ...]  # "feature = value", largest |contribution| first, then "other"
    contributions: tuple[float, ...]
    output: float


def waterfall_record(values: np.ndarray, base: float, labels: list[str], top: int = 10) -> WaterfallRecord:
    """One row's contributions (d,) from ``base`` = E[f] to f(x); beyond ``top``, one "others" bar
    (its label is the last entry of ``labels`` when ``len(labels) == d + 1``)."""
    values = np.asarray(values, dtype=np.float64)
    d = len(values)
    order = np.argsort(-np.abs(values), kind="stable")
    keep, rest = order[:top], order[top:]
    names = [labels[i] for i in keep]
    contrib = [float(values[i]) for i in keep]
    if len(rest):
        names.append(labels[d] if len(labels) > d else "...")
        contrib.append(float(values[rest].sum()))
    return WaterfallRecord(float(base), tuple(names), tuple(contrib), float(base + values.sum()))


@fast.builder
def waterfall_figure(rec: WaterfallRecord, base_label: str, out_label: str, title: str | None = None,
                     decimal: str = ".") -> go.Figure:
    n = len(rec.labels)
    fig = fast.Figure(fast.Waterfall(
        orientation="h", measure=["absolute", *(["relative"] * n), "total"],
        y=[base_label, *rec.labels, out_label],
        x=[rec.base, *rec.contributions, rec.output],
        increasing=dict(marker=dict(color=POS)), decreasing=dict(marker=dict(color=NEG)),
        totals=dict(marker=dict(color="#555")),
        text=[number(rec.base, ".3g", decimal), *(number(c, "+.3g", decimal) for c in rec.contributions),
              number(rec.output, ".3g", decimal)],
        textposition="auto", cliponaxis=False,
    ))
    fig.update_yaxes(autorange="reversed")
    return base_layout(fig, max(340, 34 * (n + 2) + 120), title)


@dataclass(frozen=True)
class DependenceRecord:
    x: np.ndarray  # feature value (original units)
    y: np.ndarray  # its SHAP value
    color: np.ndarray | None  # another feature's value, for colour


@fast.builder
def dependence_figure(rec: DependenceRecord, xlabel: str, ylabel: str, color_label: str | None = None,
                      categories: list[str] | None = None) -> go.Figure:
    marker = dict(size=8, opacity=0.8, color=POS)
    if rec.color is not None:
        marker = dict(size=8, opacity=0.8, color=rec.color, colorscale="RdBu_r", showscale=True,
                      colorbar=dict(title=dict(text=color_label or "")))
    x = rec.x
    fig = fast.Figure(fast.Scatter(x=x, y=rec.y, mode="markers", marker=marker,
                                   hovertemplate="%{x}: %{y:.3g}<extra></extra>"))
    if categories is not None:
        fig.update_xaxes(tickvals=list(range(len(categories))), ticktext=categories)
    fig.update_xaxes(title_text=xlabel)
    fig.update_yaxes(title_text=ylabel, zeroline=True, zerolinecolor="#888")
    return base_layout(fig, 380)


# ---- images -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImagePanel:
    title: str
    image: np.ndarray  # (h, w)
    diverging: bool  # centre the colour scale at 0
    overlay: np.ndarray | None = None  # a digit drawn see-through over the map


@fast.builder
def images_figure(panels: list[ImagePanel], height: int = 330) -> go.Figure:
    fig = fast.make_subplots(rows=1, cols=len(panels), subplot_titles=[p.title for p in panels],
                        horizontal_spacing=0.04)
    for k, p in enumerate(panels, start=1):
        img = np.asarray(p.image, dtype=np.float64)
        if p.diverging:
            lim = float(np.abs(img).max()) or 1.0
            trace = fast.Heatmap(z=img, colorscale="RdBu_r", zmin=-lim, zmax=lim, showscale=False)
        else:  # a magnitude map in colour, so that the grey ink drawn over it stays readable
            scale = "YlOrRd" if p.overlay is not None else "Greys"
            trace = fast.Heatmap(z=img, colorscale=scale, showscale=False)
        fig.add_trace(trace, row=1, col=k)
        if p.overlay is not None:  # the digit's ink drawn over the map, as a see-through grey layer
            fig.add_trace(fast.Heatmap(z=p.overlay, colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0.45)"]],
                                       showscale=False, hoverinfo="skip"), row=1, col=k)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{k if k > 1 else ''}", showticklabels=False,
                         showgrid=False, zeroline=False, row=1, col=k)
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=k)
    fig = base_layout(fig, height)
    fig.update_layout(showlegend=False)
    fig.update_annotations(font=dict(size=15))
    return fig


# ---- disagreement -------------------------------------------------------------------------------


@fast.builder
def matrix_figure(corr: np.ndarray, labels: list[str], title: str | None = None, decimal: str = ".") -> go.Figure:
    corr = np.asarray(corr, dtype=np.float64)
    text = [["–" if not np.isfinite(v) else number(v, ".2f", decimal) for v in row] for row in corr]
    fig = fast.Figure(fast.Heatmap(z=corr, x=labels, y=labels, zmin=-1, zmax=1, colorscale="RdBu_r",
                               text=text, texttemplate="%{text}", textfont=dict(size=16)))
    fig.update_yaxes(autorange="reversed")
    return base_layout(fig, 460, title)


@fast.builder
def rankings_figure(features: list[str], scores: dict[str, np.ndarray], labels: dict[str, str],
                    top: int = 10, title: str | None = None) -> go.Figure:
    """Each technique's importances scaled to their maximum, for the top features of the first."""
    first = next(iter(scores.values()))
    order = np.argsort(-first, kind="stable")[:top]
    fig = fast.Figure()
    for method, s in scores.items():
        s = np.asarray(s, dtype=np.float64)
        peak = float(np.max(np.abs(s))) or 1.0
        fig.add_trace(fast.Bar(name=labels.get(method, method), x=[features[i] for i in order],
                               y=[float(s[i]) / peak for i in order]))
    fig = base_layout(fig, 480, title)
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.45, font=dict(size=14)))
    fig.update_xaxes(tickangle=-35)
    return fig
