"""Figures for course pages 4 (gradient descent and optimizers), 6 (universal approximation) and
7 (why preprocess). Records from ``mlcore.course.surfaces``/``universal``/``preprocess`` in,
``go.Figure`` out; every text label comes in already translated. Projector-sized fonts (>= 14 px).

The descent figures are plotly animations: one frame per drawn step (at most ``MAX_FRAMES``), with
Play/Pause buttons and a step slider that run in the browser, so moving through the steps costs
no Streamlit rerun. Only the path traces change between frames (``go.Frame(traces=...)``), not the
contour. ``path_frames`` computes which step each frame shows; tests check that record.
"""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from mlcore.plots import fast
from mlcore.plots.style import FONT, SMALL, base_layout

MAX_FRAMES = 31  # 60 steps (the page's default) in frames 2 steps apart
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
METHOD_COLORS = {"gd": "#d62728", "sgd": COLORS[0], "momentum": COLORS[1], "adagrad": COLORS[2],
                 "rmsprop": COLORS[7], "adam": COLORS[4], "adamw": COLORS[5], "lars": COLORS[6]}
C_RAW = "#ff7f0e"
C_SCALED = "#1f77b4"
C_TRUTH = "#555555"
C_DATA = "rgba(110,110,110,0.55)"
SURFACE_SCALE = [[0.0, "#ffffff"], [0.35, "#d9e6f2"], [1.0, "#6b8fb3"]]


def _base(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    return base_layout(fig, height, title, legend_size=SMALL, annotation_size=17)


# ----------------------------------------------------------------------------------------------
# Page 4: paths on a loss surface
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathFrames:
    """Which step each animation frame shows; ``per_path[f][i]`` is the last point index of path
    ``i`` drawn in frame ``f`` (paths that stopped early stay at their last point)."""

    steps: tuple[int, ...]
    per_path: tuple[tuple[int, ...], ...]


def frame_stride(last: int, max_frames: int = MAX_FRAMES) -> int:
    """The smallest round stride (1, 2, 5, 10, 20, 50, ...) whose multiples up to ``last``, plus
    ``last``, make at most ``max_frames`` frames: the slider's labels read 0, 2, 4 ... 60 (evenly
    spaced steps rounded to integers read 0, 2, 4 ... 14, 17, 19)."""
    k = 1
    while True:
        for m in (1, 2, 5):
            stride = m * k
            if last // stride + 1 + (last % stride > 0) <= max(2, max_frames):
                return stride
        k *= 10


def path_frames(lengths: Sequence[int], max_frames: int = MAX_FRAMES) -> PathFrames:
    """Frames at the multiples of :func:`frame_stride` from 0 to the longest path's last step,
    and at that last step."""
    last = max(int(n) for n in lengths) - 1
    stride = frame_stride(last, max_frames)
    steps = tuple(range(0, last + 1, stride)) + ((last,) if last % stride else ())
    per_path = tuple(tuple(min(s, int(n) - 1) for n in lengths) for s in steps)
    return PathFrames(steps, per_path)


def _heads(paths, clipped, ends) -> dict:
    """The current point of every path as one marker trace: a dot, or an ✕ where it diverged."""
    pts = np.array([pts[end] for pts, end in zip(clipped, ends)]).reshape(-1, 2)
    symbols = ["x" if p.diverged and end == len(p.points) - 1 else "circle" for p, end in zip(paths, ends)]
    return dict(**_xy(pts), marker=dict(symbol=symbols))


def _xy(points: np.ndarray) -> dict:
    return dict(x=np.round(points[:, 0], 4).tolist(), y=np.round(points[:, 1], 4).tolist())


@fast.builder
def descent_figure(
    grid,
    surface,
    paths: Sequence,
    labels: Mapping[str, str],
    *,
    x_label: str = "w₁",
    y_label: str = "w₂",
    start_label: str = "start",
    minimum_label: str = "minimum",
    step_label: str = "step",
    play_label: str = "▶",
    pause_label: str = "⏸",
    colorbar_label: str = "L",
    title: str | None = None,
    height: int = 620,
    max_frames: int = MAX_FRAMES,
) -> go.Figure:
    """Contour of ``grid`` (a ``SurfaceGrid``) with each ``OptimPath`` drawn clipped to the window,
    its current point as a dot (an ✕ where it diverged), and an animation over the steps."""
    fig = fast.Figure()
    fig.add_trace(
        fast.Contour(
            x=grid.xs, y=grid.ys, z=np.round(grid.shown, 4), colorscale=SURFACE_SCALE, ncontours=25,
            contours=dict(coloring="fill", showlines=True), line=dict(color="rgba(60,80,110,0.35)", width=1),
            colorbar=dict(title=dict(text=colorbar_label), tickfont=dict(size=SMALL)),
            hovertemplate="w₁=%{x:.2f}<br>w₂=%{y:.2f}<extra></extra>",
        )
    )
    mins = np.array(surface.minima, dtype=float)
    fig.add_trace(
        fast.Scatter(x=mins[:, 0], y=mins[:, 1], mode="markers", name=minimum_label,
                     marker=dict(symbol="star", size=18, color="gold", line=dict(color="black", width=1.5)))
    )
    fig.add_trace(
        fast.Scatter(x=[surface.start[0]], y=[surface.start[1]], mode="markers", name=start_label,
                     marker=dict(symbol="circle-open", size=16, color="black", line=dict(width=3)))
    )
    clipped = [p.clipped(surface) for p in paths]
    first_path_trace = len(fig.data)
    for path, pts in zip(paths, clipped):
        color = METHOD_COLORS.get(path.method, COLORS[0])
        name = labels.get(path.method, path.method)
        fig.add_trace(
            fast.Scatter(**_xy(pts), mode="lines+markers", name=name, line=dict(color=color, width=3),
                         marker=dict(size=5, color=color),
                         hovertemplate=f"{name}<br>w₁=%{{x:.3f}}<br>w₂=%{{y:.3f}}<extra></extra>")
        )
    if paths:
        ends = [len(p) - 1 for p in clipped]
        heads = _heads(paths, clipped, ends)
        fig.add_trace(
            fast.Scatter(x=heads["x"], y=heads["y"], mode="markers", showlegend=False, hoverinfo="skip",
                         marker=dict(symbol=heads["marker"]["symbol"], size=16,
                                   color=[METHOD_COLORS.get(p.method, COLORS[0]) for p in paths],
                                   line=dict(color="black", width=1.5)))
        )
    fig.update_xaxes(range=list(surface.x_range), title_text=x_label, constrain="domain")
    fig.update_yaxes(range=list(surface.y_range), title_text=y_label, scaleanchor="x", scaleratio=1,
                     constrain="domain")
    _base(fig, height, title)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0))
    if paths and max(len(p.points) for p in paths) > 1:
        fig = _animate(fig, paths, clipped, first_path_trace, step_label, play_label, pause_label, max_frames)
    return fig


def _animate(fig, paths, clipped, first_trace, step_label, play_label, pause_label, max_frames) -> go.Figure:
    """Add frames, Play/Pause buttons and a step slider.

    A frame holds one line per path plus the one trace of current points; only those traces are
    listed in ``traces``, so the contour is sent once. Frames are attached as plain dicts, without
    plotly's per-property validation (``fast.with_frames``): validating them cost most of a second
    on every rerun.
    """
    plan = path_frames([len(p.points) for p in paths], max_frames)
    traces = list(range(first_trace, first_trace + len(paths) + 1))
    frames = []
    for step, ends in zip(plan.steps, plan.per_path):
        data = [dict(type="scatter", **_xy(pts[: end + 1])) for pts, end in zip(clipped, ends)]
        data.append(dict(type="scatter", **_heads(paths, clipped, ends)))
        frames.append(dict(data=data, traces=traces, name=str(step)))
    fig.update_layout(
        updatemenus=[dict(
            type="buttons", direction="left", showactive=False, x=0.0, y=-0.08, xanchor="left", yanchor="top",
            pad=dict(t=0, r=10), font=dict(size=SMALL),
            buttons=[
                dict(label=play_label, method="animate",
                     args=[None, dict(frame=dict(duration=120, redraw=False), transition=dict(duration=0),
                                      fromcurrent=False, mode="immediate")]),
                dict(label=pause_label, method="animate",
                     args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")]),
            ],
        )],
        sliders=[dict(
            active=len(plan.steps) - 1, x=0.18, y=-0.06, len=0.82, xanchor="left", yanchor="top",
            currentvalue=dict(prefix=f"{step_label}: ", font=dict(size=SMALL)), font=dict(size=SMALL),
            pad=dict(t=0),
            steps=[dict(method="animate", label=str(s),
                        args=[[str(s)], dict(frame=dict(duration=0, redraw=False), mode="immediate")])
                   for s in plan.steps],
        )],
        margin=dict(b=110),
    )
    return fast.with_frames(fast.finish(fig), frames)


def log_dtick(low: float, high: float) -> int:
    """Decades between a log axis's labels: every decade up to 6 of them, then every 2nd, 4th...
    so that a gap falling to 1e-16 is labelled 1, 10⁻⁴ ... 10⁻¹⁶, not in 17 crowded labels."""
    decades = math.log10(high / low) if high > 0 and low > 0 else 0.0
    dtick = 1
    while decades / dtick > 6:
        dtick *= 2
    return dtick


@fast.builder
def loss_gap_figure(paths: Sequence, labels: Mapping[str, str], min_value: float, *, x_label: str = "step",
                    y_label: str = "L − L*", title: str | None = None, height: int = 380) -> go.Figure:
    """``L(w_k) - L*`` on a log axis (``L*`` = the surface's minimum value), one line per method."""
    fig = fast.Figure()
    shown = []
    for path in paths:
        gap = np.maximum(np.asarray(path.losses, dtype=float) - min_value, 1e-16)
        shown.append(gap[np.isfinite(gap)])
        fig.add_trace(fast.Scatter(
            x=np.arange(len(gap)), y=gap, mode="lines", name=labels.get(path.method, path.method),
            line=dict(color=METHOD_COLORS.get(path.method, COLORS[0]), width=3)))
    values = np.concatenate(shown) if shown else np.empty(0)
    dtick = log_dtick(float(values.min()), float(values.max())) if values.size else 1
    fig.update_yaxes(type="log", title_text=y_label, exponentformat="power", dtick=dtick)
    fig.update_xaxes(title_text=x_label)
    return _base(fig, height, title)


@fast.builder
def minibatch_figure(noise, labels: Sequence[str], *, x_label: str = "epoch", y_label: str = "loss",
                     batch_label: str = "mini-batch", show_batch_loss: bool = True, title: str | None = None,
                     height: int = 460) -> go.Figure:
    """Training loss (whole training set) after every update against epochs, per batch size
    (``labels[i]`` names ``noise.curves[i]``); the loss of the mini-batch each update used as a
    faint line of the same colour."""
    fig = fast.Figure()
    for i, curve in enumerate(noise.curves):
        color = COLORS[i % len(COLORS)]
        name = labels[i] if i < len(labels) else str(curve.batch_size)
        if show_batch_loss and not curve.full_batch:
            batch = np.asarray(curve.batch_loss, dtype=float)
            fig.add_trace(fast.Scatter(
                x=curve.epochs[1:], y=np.where(np.isfinite(batch), batch, np.nan), mode="lines", name=f"{name} · {batch_label}",
                line=dict(color=color, width=1), opacity=0.25, legendgroup=name, hoverinfo="skip"))
        loss = np.asarray(curve.loss, dtype=float)
        fig.add_trace(fast.Scatter(x=curve.epochs, y=np.where(np.isfinite(loss), loss, np.nan), mode="lines",
                                   name=name, legendgroup=name, line=dict(color=color, width=3)))
    fig.update_xaxes(title_text=x_label)
    fig.update_yaxes(title_text=y_label, rangemode="tozero")
    return _base(fig, height, title)


# ----------------------------------------------------------------------------------------------
# Page 6: universal approximation
# ----------------------------------------------------------------------------------------------


@fast.builder
def universal_figure(fit, target, *, data_label: str, truth_label: str, output_label: str, pieces_label: str,
                     sum_label: str, bias_label: str, top_title: str, bottom_title: str, x_label: str = "x",
                     height: int = 760) -> go.Figure:
    """Top: the data, the true function and the network's output. Bottom: every hidden neuron's
    contribution ``v_j a(w_j x + b_j)`` as a thin line, the output bias, and their sum."""
    fig = fast.make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=(top_title, bottom_title))
    fig.add_trace(fast.Scatter(x=target.x, y=target.y, mode="markers", name=data_label,
                               marker=dict(size=6, color=C_DATA)), row=1, col=1)
    if target.truth is not None:
        fig.add_trace(fast.Scatter(x=target.x_grid, y=target.truth, mode="lines", name=truth_label,
                                   line=dict(color=C_TRUTH, width=2, dash="dash")), row=1, col=1)
    fig.add_trace(fast.Scatter(x=fit.x_grid, y=fit.output, mode="lines", name=output_label,
                               line=dict(color=COLORS[3], width=4)), row=1, col=1)
    n = fit.contributions.shape[0]
    for j in range(n):
        fig.add_trace(fast.Scatter(
            x=fit.x_grid, y=fit.contributions[j], mode="lines", name=pieces_label, legendgroup="pieces",
            showlegend=j == 0, line=dict(color=COLORS[j % len(COLORS)], width=1.5), opacity=0.8,
            hovertemplate=f"j={j + 1}: v={fit.v[j]:.3g}, w={fit.w[j]:.3g}, b={fit.b[j]:.3g}<extra></extra>"),
            row=2, col=1)
    fig.add_trace(fast.Scatter(x=[fit.x_grid[0], fit.x_grid[-1]], y=[fit.output_bias] * 2, mode="lines",
                               name=bias_label, line=dict(color="black", width=1.5, dash="dot")), row=2, col=1)
    fig.add_trace(fast.Scatter(x=fit.x_grid, y=fit.output_bias + fit.contributions.sum(axis=0), mode="lines",
                               name=sum_label, line=dict(color=COLORS[3], width=4)), row=2, col=1)
    fig.update_xaxes(title_text=x_label, row=2, col=1)
    _base(fig, height)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.04, x=0))
    return fig


@fast.builder
def width_sweep_figure(sweep, *, train_label: str, truth_label: str, x_label: str, y_label: str,
                       title: str | None = None, height: int = 420) -> go.Figure:
    """Mean squared error against the number of hidden neurons (log-log)."""
    fig = fast.Figure()
    fig.add_trace(fast.Scatter(x=sweep.widths, y=np.maximum(sweep.train_mse, 1e-16), mode="lines+markers",
                               name=train_label, line=dict(color=COLORS[0], width=3), marker=dict(size=10)))
    if sweep.truth_mse is not None:
        fig.add_trace(fast.Scatter(x=sweep.widths, y=np.maximum(sweep.truth_mse, 1e-16), mode="lines+markers",
                                   name=truth_label, line=dict(color=COLORS[1], width=3, dash="dash"),
                                   marker=dict(size=10)))
    fig.update_xaxes(type="log", title_text=x_label, tickvals=list(sweep.widths),
                     ticktext=[str(w) for w in sweep.widths])
    fig.update_yaxes(type="log", title_text=y_label, exponentformat="power", dtick=1)
    return _base(fig, height, title)


# ----------------------------------------------------------------------------------------------
# Page 7: why preprocess
# ----------------------------------------------------------------------------------------------


@fast.builder
def scaling_curves_figure(cmp, *, raw_title: str, scaled_title: str, x_label: str, y_label: str,
                          height: int = 420) -> go.Figure:
    """The two training-loss curves side by side, same (log) y axis."""
    fig = fast.make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=(raw_title, scaled_title),
                        horizontal_spacing=0.05)
    for col, curve, color in ((1, cmp.raw, C_RAW), (2, cmp.scaled, C_SCALED)):
        loss = np.asarray(curve.train_loss, dtype=float)
        loss = np.where(np.isfinite(loss), loss, np.nan)  # a diverged run leaves a gap, not a spike
        fig.add_trace(fast.Scatter(x=np.arange(len(loss)), y=loss, mode="lines+markers", showlegend=False,
                                   line=dict(color=color, width=3), marker=dict(size=4)), row=1, col=col)
        fig.update_xaxes(title_text=x_label, row=1, col=col)
    fig.update_yaxes(type="log", title_text=y_label, dtick=1, exponentformat="power", row=1, col=1)
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", row=1, col=2)
    return _base(fig, height)


@fast.builder
def slice_figure(raw, scaled, *, raw_title: str, scaled_title: str, optimum_label: str,
                 x_label: str = "w₁", y_label: str = "w₂", height: int = 480) -> go.Figure:
    """Contours of the logistic loss over ``(w1, w2)`` for raw and standardised features, each on a
    square window with equal axis scales, so a long narrow valley looks long and narrow."""
    fig = fast.make_subplots(rows=1, cols=2, subplot_titles=(raw_title, scaled_title), horizontal_spacing=0.12)
    for col, sl in ((1, raw), (2, scaled)):
        top = sl.min_loss + 3.0
        fig.add_trace(fast.Contour(
            x=sl.w1s, y=sl.w2s, z=np.minimum(sl.z, top), colorscale="Blues_r", showscale=False,
            contours=dict(start=sl.min_loss, end=top, size=0.25, coloring="fill"),
            line=dict(width=0.5, color="rgba(255,255,255,0.7)"),
            hovertemplate="w₁=%{x:.3g}<br>w₂=%{y:.3g}<br>L=%{z:.3f}<extra></extra>"), row=1, col=col)
        fig.add_trace(fast.Scatter(x=[sl.center[0]], y=[sl.center[1]], mode="markers", name=optimum_label,
                                   showlegend=col == 1,
                                   marker=dict(symbol="star", size=16, color="gold", line=dict(color="black", width=1))),
                      row=1, col=col)
        axis = "x" if col == 1 else "x2"
        fig.update_xaxes(title_text=f"{x_label} · {sl.features[0]}", constrain="domain", row=1, col=col)
        fig.update_yaxes(title_text=f"{y_label} · {sl.features[1]}", scaleanchor=axis, scaleratio=1,
                         constrain="domain", row=1, col=col)
    _base(fig, height)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0))
    return fig


@fast.builder
def feature_scales_figure(scales, *, raw_title: str, scaled_title: str, height: int | None = None) -> go.Figure:
    """Box plot of every feature: raw values (left) and standardised values (right)."""
    names = list(scales.feature_names)
    d = len(names)
    fig = fast.make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=(raw_title, scaled_title),
                        horizontal_spacing=0.04)
    for col, values, color in ((1, scales.raw, C_RAW), (2, scales.scaled, C_SCALED)):
        for j, name in enumerate(names):
            fig.add_trace(fast.Box(x=values[:, j], name=name, orientation="h", marker=dict(color=color, size=3),
                                   line=dict(width=1.5), showlegend=False, boxpoints="outliers"),
                          row=1, col=col)
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=names)
    return _base(fig, height or max(420, 26 * d + 120))
