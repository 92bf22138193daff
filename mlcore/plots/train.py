"""Figures for the Build and Train pages: network diagram, curves, boundaries, metrics.

Labels arrive already translated (``labels`` dicts), so this module stays language-free.

The live view's figures (``learning_curves``, ``decision_boundary``, ``neuron_maps``,
``fit_curve``) are rebuilt after every training chunk for every student who is training, on the
one server process. They are written as plain dicts and wrapped with plotly's validation off
(``go.Figure(spec, _validate=False)``): the same figure, about 40 times cheaper to build (measured
1-2 ms instead of 40-100 ms each), and a test checks they equal the validated figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from mlcore.plots import fast
from mlcore.plots.style import FONT, SMALL

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22"]
POS, NEG = "#d62728", "#1f77b4"  # positive weights red, negative blue (as in the live maps)
_RDBU_R = [[round(float(v), 6), c] for v, c in get_colorscale("RdBu_r")]  # spelled out: unvalidated specs keep names as-is


def _fast_figure(traces: list[dict], layout: dict, height: int, axes: tuple[str, ...] = ("xaxis", "yaxis"),
                 **kw) -> go.Figure:
    """A figure from plain dicts with the same layout ``_layout`` gives, built without plotly's
    per-property validation (the specs here are fixed in code and tested against validated ones)."""
    kw.setdefault("margin", dict(l=50, r=20, t=50, b=45))
    kw.setdefault("legend", dict(orientation="h", yanchor="top", y=-0.18, x=0))
    layout = {**layout, "font": dict(FONT), "height": height, **kw}
    for name in axes:
        axis = dict(layout.get(name, {}))
        axis["tickfont"] = dict(size=SMALL)
        axis["title"] = {**axis.get("title", {}), "font": dict(size=FONT["size"])}
        layout[name] = axis
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


def _layout(fig: go.Figure, height: int = 420, **kw) -> go.Figure:
    kw.setdefault("margin", dict(l=50, r=20, t=50, b=45))
    kw.setdefault("legend", dict(orientation="h", yanchor="top", y=-0.18, x=0))
    fig.update_layout(font=FONT, height=height, **kw)
    # explicit axis fonts: Streamlit's chart theme would otherwise shrink tick labels
    fig.update_xaxes(tickfont=dict(size=SMALL), title_font=dict(size=FONT["size"]))
    fig.update_yaxes(tickfont=dict(size=SMALL), title_font=dict(size=FONT["size"]))
    return fig


# ---- network diagram ------------------------------------------------------------------------


@dataclass(frozen=True)
class DiagramRecord:
    """Nodes per layer (capped) and the edges drawn between them."""

    layer_sizes: tuple[int, ...]  # true sizes
    shown: tuple[int, ...]  # nodes drawn per layer (large layers are capped)
    edges: tuple[tuple[int, int, int, float], ...]  # (layer, from node, to node, weight)
    max_abs: float


def diagram_record(weights: list[np.ndarray], max_nodes: int = 12) -> DiagramRecord:
    """``weights[l]`` has shape (out, in) as in ``nn.Linear``."""
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    shown = [min(s, max_nodes) for s in sizes]
    edges = []
    for layer, w in enumerate(weights):
        for j in range(shown[layer + 1]):
            for i in range(shown[layer]):
                edges.append((layer, i, j, float(w[j, i])))
    max_abs = max((abs(e[3]) for e in edges), default=1.0) or 1.0
    return DiagramRecord(tuple(sizes), tuple(shown), tuple(edges), max_abs)


@fast.builder
def network_diagram(weights: list[np.ndarray], layer_names: list[str], max_nodes: int = 12,
                    height: int = 420) -> go.Figure:
    rec = diagram_record(weights, max_nodes)

    def y_of(layer: int, node: int) -> float:
        n = rec.shown[layer]
        return (node - (n - 1) / 2) / max(max(rec.shown) - 1, 1)

    fig = fast.Figure()
    # One trace per (sign, width bucket) keeps the figure light even with hundreds of edges.
    buckets: dict[tuple[str, int], tuple[list, list]] = {}
    for layer, i, j, w in rec.edges:
        width = 1 + int(round(5 * abs(w) / rec.max_abs))
        xs, ys = buckets.setdefault((POS if w >= 0 else NEG, width), ([], []))
        xs += [layer, layer + 1, None]
        ys += [y_of(layer, i), y_of(layer + 1, j), None]
    for (color, width), (xs, ys) in sorted(buckets.items(), key=lambda kv: kv[0][1]):
        fig.add_trace(fast.Scatter(x=xs, y=ys, mode="lines", line=dict(color=color, width=width),
                                   opacity=0.25 + 0.1 * width, hoverinfo="skip", showlegend=False))
    for layer, n in enumerate(rec.shown):
        ys = [y_of(layer, k) for k in range(n)]
        fig.add_trace(fast.Scatter(x=[layer] * n, y=ys, mode="markers",
                                   marker=dict(size=22, color="white", line=dict(width=2, color="#333")),
                                   hovertext=[f"{layer_names[layer]} · {k + 1}" for k in range(n)],
                                   hoverinfo="text", showlegend=False))
        more = rec.layer_sizes[layer] - n
        label = f"{layer_names[layer]}<br>({rec.layer_sizes[layer]})" + (f"<br>+{more}…" if more else "")
        fig.add_annotation(x=layer, y=-0.62, text=label, showarrow=False, font=dict(size=15))
    fig.update_xaxes(visible=False, range=[-0.4, len(rec.shown) - 0.6])
    fig.update_yaxes(visible=False, range=[-0.75, 0.6])
    return _layout(fig, height=height, plot_bgcolor="white")


# ---- curves ---------------------------------------------------------------------------------


def learning_curves(history, labels: dict[str, str], metric_label: str) -> go.Figure:
    """Loss and metric, train vs validation, from a list of ``EpochRecord``: two panels side by side
    on plain axes (``make_subplots`` costs ~20 ms a call, too much for a live figure)."""
    epochs = np.array([r.epoch for r in history], dtype=np.int32)
    series = [("train_loss", "", PALETTE[0], labels["train"]), ("val_loss", "", PALETTE[1], labels["val"]),
              ("train_metric", "2", PALETTE[0], labels["train"]), ("val_metric", "2", PALETTE[1], labels["val"])]
    traces = []
    for attr, axis, color, name in series:
        values = np.array([getattr(r, attr) for r in history], dtype=np.float32)
        traces.append(dict(type="scatter", x=epochs, y=values, mode="lines+markers", marker=dict(size=4),
                           line=dict(color=color, width=3), name=name, legendgroup=name, showlegend=not axis,
                           xaxis=f"x{axis}", yaxis=f"y{axis}"))
    x_title = dict(text=labels["epoch"])
    annotations = [dict(x=x, y=1.0, xref="paper", yref="paper", yanchor="bottom", text=title, showarrow=False,
                        font=dict(size=FONT["size"]))
                   for x, title in ((0.23, labels["loss"]), (0.77, metric_label))]
    layout = dict(xaxis=dict(domain=[0.0, 0.46], title=x_title), xaxis2=dict(domain=[0.54, 1.0], anchor="y2",
                  title=x_title), yaxis=dict(), yaxis2=dict(anchor="x2"), annotations=annotations)
    return _fast_figure(traces, layout, 400, ("xaxis", "xaxis2", "yaxis", "yaxis2"),
                        margin=dict(l=50, r=20, t=40, b=40))


@fast.builder
def overlay_runs(runs: list[tuple[str, list]], labels: dict[str, str]) -> go.Figure:
    """Validation loss (left) and metric (right) of several recorded runs on shared axes."""
    fig = fast.make_subplots(rows=1, cols=2, subplot_titles=(labels["val_loss"], labels["val_metric"]))
    for k, (name, history) in enumerate(runs):
        color = PALETTE[k % len(PALETTE)]
        epochs = [r.epoch for r in history]
        fig.add_trace(fast.Scatter(x=epochs, y=[r.val_loss for r in history], name=name, legendgroup=name,
                                   line=dict(color=color, width=3)), row=1, col=1)
        fig.add_trace(fast.Scatter(x=epochs, y=[r.val_metric for r in history], name=name, legendgroup=name,
                                   showlegend=False, line=dict(color=color, width=3)), row=1, col=2)
    fig.update_xaxes(title_text=labels["epoch"])
    return _layout(fig, height=400)


# ---- input-space views ----------------------------------------------------------------------


def _class_scalar(probs: np.ndarray) -> tuple[np.ndarray, int]:
    probs = np.asarray(probs)
    if probs.ndim == 1 or probs.shape[1] == 1:
        return probs.reshape(-1), 2
    if probs.shape[1] == 2:
        return probs[:, 1], 2
    return probs.argmax(axis=1), probs.shape[1]


def boundary_grid(probs: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, int]:
    """(z, number of classes): P(class 1) in whole percent for two classes, else the predicted
    class, as ``uint8``: the live view resends this grid every update, and one byte per cell
    keeps it small (plotly sends numpy arrays as typed binary)."""
    z, k = _class_scalar(probs)
    if k == 2:
        z = np.rint(np.clip(z, 0.0, 1.0) * 100)
    return z.reshape(shape).astype(np.uint8), k


def decision_boundary(axes, probs: np.ndarray, points: list[tuple[str, np.ndarray, np.ndarray, str]],
                      class_names: list[str], axis_names: tuple[str, str], height: int = 760) -> go.Figure:
    """Heatmap of P(class 1) in % (binary) or the predicted class (multiclass) over the plane.

    ``points``: (legend name, raw X (n, 2), class ids (n,), marker symbol) per split.
    """
    x1, x2 = axes
    z, k = boundary_grid(probs, (len(x2), len(x1)))
    traces: list[dict] = []
    if k == 2:
        traces.append(dict(type="heatmap", x=x1, y=x2, z=z, zmin=0, zmax=100, colorscale=_RDBU_R, opacity=0.55,
                           colorbar=dict(title=dict(text="P %"), thickness=12, orientation="h", y=-0.2, yanchor="top",
                                         len=0.6, x=0.5), hoverinfo="skip"))
        traces.append(dict(type="contour", x=x1, y=x2, z=z, contours=dict(start=50, end=50, coloring="none"),
                           line=dict(color="black", width=2), showscale=False, hoverinfo="skip",
                           showlegend=False))
    else:
        scale = [[i / (k - 1), PALETTE[i % len(PALETTE)]] for i in range(k)]
        traces.append(dict(type="heatmap", x=x1, y=x2, z=z, zmin=0, zmax=k - 1, colorscale=scale, opacity=0.35,
                           showscale=False, hoverinfo="skip"))
    for name, X, y, symbol in points:
        for c in range(max(k, len(class_names))):
            mask = y == c
            if not mask.any():
                continue
            color = (NEG, POS)[c] if k == 2 else PALETTE[c % len(PALETTE)]
            label = class_names[c] if c < len(class_names) else str(c)
            traces.append(dict(type="scatter", x=X[mask, 0], y=X[mask, 1], mode="markers", name=f"{label} · {name}",
                               marker=dict(color=color, symbol=symbol, size=8, line=dict(width=1, color="white"))))
    # a square plot area (as in TensorFlow Playground), whatever the two ranges: y is tied to x
    ratio = (float(x1[-1]) - float(x1[0])) / max(1e-12, float(x2[-1]) - float(x2[0]))
    layout = dict(xaxis=dict(title=dict(text=axis_names[0]), range=[float(x1[0]), float(x1[-1])], constrain="domain"),
                  yaxis=dict(title=dict(text=axis_names[1]), range=[float(x2[0]), float(x2[-1])], constrain="domain",
                             scaleanchor="x", scaleratio=ratio))
    legend = dict(orientation="h", yanchor="top", y=-0.3 if k == 2 else -0.15, x=0)  # below the colour bar
    return _fast_figure(traces, layout, height, legend=legend)


GAP = -128  # int8 value of the cells between tiles
# -128 (gap) white; -100 blue; 0 near-white; 100 red (RdBu-like, on the int8 range -128..100)
_MOSAIC_SCALE = [[0.0, "white"], [27 / 228, "white"], [28 / 228, "#2166ac"], [128 / 228, "#f7f7f7"],
                 [1.0, "#b2182b"]]


@dataclass(frozen=True)
class NeuronMosaic:
    """Every hidden neuron's map tiled into one image (one heatmap trace is far cheaper to build
    and send than one subplot per neuron). Each map is scaled to [-100, 100] by its own largest
    absolute value and flipped so its top row is the largest x2 (the mosaic is drawn top-down);
    ``GAP`` cells (drawn white) separate the tiles. One byte per cell keeps the
    live updates small."""

    z: np.ndarray  # int8 (rows, cols); GAP marks the cells between tiles
    tiles: tuple[tuple[int, int, int, int], ...]  # (layer, neuron, first row, first column)
    layer_rows: tuple[int, ...]  # first mosaic row of each layer


def neuron_mosaic(hidden_out: list[np.ndarray], shape: tuple[int, int], max_per_layer: int = 8,
                  per_row: int = 4, gap: int = 2) -> NeuronMosaic:
    h, w = shape
    tiles, layer_rows = [], []
    row = 0
    for layer, out in enumerate(hidden_out):
        count = min(max_per_layer, out.shape[1])
        layer_rows.append(row)
        for k in range(count):
            tiles.append((layer, k, row + (k // per_row) * (h + gap), (k % per_row) * (w + gap)))
        row += -(-count // per_row) * (h + gap)
    z = np.full((max(row - gap, h), per_row * (w + gap) - gap), GAP, dtype=np.int8)
    for layer, k, r, c in tiles:
        values = hidden_out[layer][:, k].reshape(h, w)[::-1]  # top row = largest x2, as in a plot
        scale = float(np.max(np.abs(values))) or 1.0
        z[r:r + h, c:c + w] = np.round(100 * values / scale)
    return NeuronMosaic(z, tuple(tiles), tuple(layer_rows))


def neuron_maps(axes, hidden_out: list[np.ndarray], layer_label: str, max_per_layer: int = 8,
                per_row: int = 4) -> go.Figure:
    """Small maps of each hidden neuron's output over the input plane (TensorFlow Playground
    style): red where the neuron fires positively, blue negatively, each on its own scale."""
    x1, x2 = axes
    mosaic = neuron_mosaic(hidden_out, (len(x2), len(x1)), max_per_layer, per_row)
    traces = [dict(type="heatmap", z=mosaic.z, colorscale=_MOSAIC_SCALE, zmin=GAP, zmax=100, showscale=False,
                   hoverinfo="skip")]
    annotations = [dict(x=mosaic.z.shape[1] + 1, y=first + len(x2) / 2, text=layer_label.format(i=layer + 1),
                        showarrow=False, textangle=90, xanchor="left", font=dict(size=SMALL))
                   for layer, first in enumerate(mosaic.layer_rows)]
    layout = dict(xaxis=dict(visible=False, range=[-0.5, mosaic.z.shape[1] + 6]),
                  yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"),
                  annotations=annotations, plot_bgcolor="white")
    rows = mosaic.z.shape[0] / max(len(x2), 1)
    return _fast_figure(traces, layout, int(max(140, 110 * rows + 20)), margin=dict(l=5, r=5, t=10, b=5))


def fit_curve(x_grid: np.ndarray, y_grid: np.ndarray, points: list[tuple[str, np.ndarray, np.ndarray]],
              axis_names: tuple[str, str], model_label: str, height: int = 460) -> go.Figure:
    traces = [dict(type="scatter", x=x, y=y, mode="markers", name=name,
                   marker=dict(size=6, color=PALETTE[k], opacity=0.6)) for k, (name, x, y) in enumerate(points)]
    traces.append(dict(type="scatter", x=x_grid, y=np.asarray(y_grid).reshape(-1), mode="lines", name=model_label,
                       line=dict(color="black", width=4)))
    layout = dict(xaxis=dict(title=dict(text=axis_names[0])), yaxis=dict(title=dict(text=axis_names[1])))
    return _fast_figure(traces, layout, height)


# ---- metrics --------------------------------------------------------------------------------


@fast.builder
def confusion_matrix(cm: np.ndarray, labels: list[str], axis_labels: tuple[str, str]) -> go.Figure:
    fig = fast.Figure(fast.Heatmap(z=cm, x=labels, y=labels, colorscale="Blues", showscale=False,
                               text=cm, texttemplate="%{text}", textfont=dict(size=18)))
    fig.update_xaxes(title_text=axis_labels[1], type="category")
    fig.update_yaxes(title_text=axis_labels[0], type="category", autorange="reversed")
    return _layout(fig, height=max(320, 60 * len(labels) + 120))


@fast.builder
def predicted_vs_actual(y_true: np.ndarray, y_pred: np.ndarray, axis_labels: tuple[str, str]) -> go.Figure:
    lo = float(min(y_true.min(), y_pred.min()))
    hi = float(max(y_true.max(), y_pred.max()))
    fig = fast.Figure([
        fast.Scatter(x=y_true, y=y_pred, mode="markers", marker=dict(size=7, color=PALETTE[0], opacity=0.7),
                   showlegend=False),
        fast.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(color="black", dash="dash"),
                   showlegend=False),
    ])
    fig.update_xaxes(title_text=axis_labels[0])
    fig.update_yaxes(title_text=axis_labels[1])
    return _layout(fig, height=420)
