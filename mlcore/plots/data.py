"""Figures for the Data page: class balance, target histogram, 2-D view and an image grid.

Each builder takes a record from ``mlcore.data.summary`` (or plain arrays) and the language for
its labels, and returns a ``go.Figure`` with projector-sized fonts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from mlcore.plots import fast
from mlcore.plots.train import PALETTE
from mlcore.data.summary import SPLITS, ClassBalance, TargetHistogram, View2D
from mlcore.i18n import t

FONT_SIZE = 16
SPLIT_COLORS = {"train": "#1f6feb", "val": "#E69F00", "test": "#009E73"}
SPLIT_SYMBOLS = {"train": "circle", "val": "diamond", "test": "x"}
# The Train page's class colours (its decision boundary: class 0 blue, class 1 red, then green...),
# so that a class keeps its colour from the Data page's scatter to the boundary.
CLASS_COLORS = tuple(PALETTE)


def class_color(i: int) -> str:
    return CLASS_COLORS[i % len(CLASS_COLORS)]


def _layout(fig: go.Figure, height: int = 420, **kwargs) -> go.Figure:
    layout = dict(height=height, font=dict(size=FONT_SIZE), margin=dict(l=60, r=20, t=30, b=60),
                  legend=dict(font=dict(size=FONT_SIZE), title=dict(font=dict(size=FONT_SIZE))),
                  hoverlabel=dict(font=dict(size=FONT_SIZE)), template="plotly_white")
    layout.update(kwargs)
    fig.update_layout(**layout)
    # Axis fonts set explicitly: a theme's template (Streamlit's included) would otherwise shrink them.
    axis_fonts = dict(tickfont=dict(size=FONT_SIZE - 1), title_font=dict(size=FONT_SIZE + 1))
    fig.update_xaxes(**axis_fonts)
    fig.update_yaxes(**axis_fonts)
    return fig


def _split_name(split: str, lang: str) -> str:
    return t(f"data.plot.split.{split}", lang)


@fast.builder
def class_balance_figure(balance: ClassBalance, lang: str = "es") -> go.Figure:
    """Grouped bars: rows per class, one bar colour per split; hover shows the share."""
    fig = fast.Figure()
    for split in SPLITS:
        counts = balance.counts[split]
        if sum(counts) == 0:
            continue
        shares = balance.proportions(split)
        fig.add_trace(fast.Bar(
            x=balance.class_names, y=counts, name=_split_name(split, lang), marker_color=SPLIT_COLORS[split],
            text=[f"{s:.0%}" for s in shares], textposition="outside", textfont=dict(size=FONT_SIZE - 1),
            hovertemplate="%{x}: %{y} (" + t("data.plot.share", lang) + " %{text})<extra></extra>",
        ))
    fig.update_layout(barmode="group", xaxis_title=t("data.plot.class", lang),
                      yaxis_title=t("data.plot.rows", lang))
    fig.update_xaxes(type="category")
    return _layout(fig)


@fast.builder
def target_histogram_figure(hist: TargetHistogram, target_name: str = "", lang: str = "es") -> go.Figure:
    """Stacked bars of the target's histogram, one colour per split, same bins for all."""
    centers = (hist.edges[:-1] + hist.edges[1:]) / 2
    width = float(hist.edges[1] - hist.edges[0]) if len(hist.edges) > 1 else 1.0
    fig = fast.Figure()
    for split in SPLITS:
        counts = np.asarray(hist.counts[split])
        if counts.sum() == 0:
            continue
        fig.add_trace(fast.Bar(x=centers, y=counts, width=width, name=_split_name(split, lang),
                               marker_color=SPLIT_COLORS[split]))
    fig.update_layout(barmode="stack", bargap=0.02, xaxis_title=target_name or t("data.plot.target", lang),
                      yaxis_title=t("data.plot.rows", lang))
    return _layout(fig)


@fast.builder
def scatter_2d_figure(view: View2D, lang: str = "es") -> go.Figure:
    """Points in the plane: colour = class (legend) or target value (colour bar);
    marker symbol = split (circle train, diamond validation, x test)."""
    fig = fast.Figure()
    symbols = [SPLIT_SYMBOLS[s] for s in view.split]
    hover_split = [_split_name(s, lang) for s in view.split]
    if view.class_names is not None:
        for k, name in enumerate(view.class_names):
            mask = view.color == k
            if not mask.any():
                continue
            fig.add_trace(fast.Scatter(
                x=view.x[mask], y=view.y[mask], mode="markers", name=name,
                marker=dict(color=class_color(k), size=8, opacity=0.8, line=dict(width=0.5, color="white"),
                            symbol=[s for s, m in zip(symbols, mask) if m]),
                text=[h for h, m in zip(hover_split, mask) if m],
                hovertemplate="%{text}<br>(%{x:.2f}, %{y:.2f})<extra>" + name + "</extra>",
            ))
    else:
        fig.add_trace(fast.Scatter(
            x=view.x, y=view.y, mode="markers", showlegend=False, text=hover_split,
            marker=dict(color=view.color, colorscale="Viridis", size=8, opacity=0.85, symbol=symbols,
                        colorbar=dict(title=dict(text=t("data.plot.target", lang)), tickfont=dict(size=14))),
            hovertemplate="%{text}<br>(%{x:.2f}, %{y:.2f})<extra></extra>",
        ))
    fig.update_layout(xaxis_title=view.x_label, yaxis_title=view.y_label)
    if view.method == "raw":
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    legend_title = t("data.plot.class", lang) if view.class_names else None
    return _layout(fig, height=480, legend_title_text=legend_title)


@dataclass(frozen=True)
class ImageGrid:
    """Images tiled into one canvas (NaN gaps between tiles) and where each label goes.

    Each tile has ``LABEL_ROWS`` empty pixel rows above it, where its label is written."""

    canvas: np.ndarray  # (rows * (h + LABEL_ROWS), cols * (w + 1) - 1)
    labels: list[str]
    label_xy: list[tuple[float, float]]  # (x, y) of each label, in canvas pixels (centred over its tile)
    n_cols: int
    tile_shape: tuple[int, int]


LABEL_ROWS = 3


def image_grid(images: np.ndarray, labels: list[str], n_cols: int = 10) -> ImageGrid:
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape
    n_cols = max(1, min(n_cols, n))
    n_rows = -(-n // n_cols)
    canvas = np.full((n_rows * (h + LABEL_ROWS), n_cols * (w + 1) - 1), np.nan)
    label_xy = []
    for i, img in enumerate(images):
        r, c = divmod(i, n_cols)
        top, left = r * (h + LABEL_ROWS) + LABEL_ROWS, c * (w + 1)
        canvas[top:top + h, left:left + w] = img
        label_xy.append((left + (w - 1) / 2, top - (LABEL_ROWS + 1) / 2))
    return ImageGrid(canvas, list(labels), label_xy, n_cols, (h, w))


@fast.builder
def image_grid_figure(grid: ImageGrid, lang: str = "es") -> go.Figure:  # noqa: ARG001 - uniform signature
    """One greyscale heatmap (ink dark on white) with each image's label above it."""
    fig = fast.Figure(fast.Heatmap(z=grid.canvas, colorscale="Greys", showscale=False, hoverinfo="skip"))
    for (x, y), label in zip(grid.label_xy, grid.labels):
        fig.add_annotation(x=x, y=y, text=f"<b>{label}</b>", showarrow=False,
                           font=dict(size=FONT_SIZE, color="#1f6feb"))
    n_rows = -(-len(grid.labels) // grid.n_cols)
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x", scaleratio=1)
    fig.update_xaxes(visible=False)
    return _layout(fig, height=120 * n_rows + 40, margin=dict(l=10, r=10, t=10, b=10))
