"""Figures for the loss-functions course page: a loss and its gradient against the prediction,
and the outlier example (each point's share of each regression loss). Records from
``mlcore.course.losses`` in, ``go.Figure`` out; labels come in translated. No torch here.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go

from mlcore.plots import fast
from mlcore.plots.style import base_layout

C_LOSS = "#1f77b4"
C_GRAD = "#d62728"
LOSS_COLORS = {"mse": "#1f77b4", "mae": "#2ca02c", "huber": "#ff7f0e"}


@fast.builder
def loss_figure(curve, loss_title: str, grad_title: str, x_label: str, target_label: str,
                height: int = 420) -> go.Figure:
    """Loss (left) and its gradient (right) against the prediction; the target marked."""
    fig = fast.make_subplots(rows=1, cols=2, subplot_titles=(loss_title, grad_title), horizontal_spacing=0.1)
    fig.add_trace(fast.Scatter(x=curve.x, y=curve.loss, mode="lines", line=dict(color=C_LOSS, width=4),
                               name=loss_title, showlegend=False), 1, 1)
    fig.add_trace(fast.Scatter(x=curve.x, y=curve.grad, mode="lines", line=dict(color=C_GRAD, width=4),
                               name=grad_title, showlegend=False), 1, 2)
    if not curve.is_classification:
        for col in (1, 2):
            fig.add_vline(x=curve.target, line=dict(color="#555", dash="dash", width=2), row=1, col=col)
        # inside the plot, at the top beside the line: above it, the subplot's centred title sits
        # at the same place when the target is near the middle (they were drawn over each other)
        fig.add_annotation(x=curve.target, y=1.0, yref="y domain", text=target_label, showarrow=False,
                           yanchor="top", xanchor="left", xshift=6, bgcolor="rgba(255,255,255,0.8)",
                           row=1, col=1)
    fig.update_xaxes(title=x_label, zeroline=True, zerolinecolor="#999")
    fig.update_yaxes(zeroline=True, zerolinecolor="#999")
    fig.update_annotations(font=dict(size=18))
    return base_layout(fig, height)


@fast.builder
def outlier_figure(example, names: Mapping[str, str], x_label: str, y_label: str, outlier_label: str,
                   height: int = 400) -> go.Figure:
    """Grouped bars: for each point, the gradient of its loss with respect to its prediction
    (how hard it pulls the fit). Under MSE the outlier pulls many times harder than the rest;
    under MAE and Huber its pull is capped."""
    n = len(example.y_true)
    labels = [f"#{i + 1}" if i != example.outlier_index else f"#{i + 1} ({outlier_label})" for i in range(n)]
    fig = fast.Figure()
    for name, grads in example.per_point_grad.items():
        fig.add_trace(fast.Bar(x=labels, y=np.asarray(grads), name=names.get(name, name),
                               marker_color=LOSS_COLORS.get(name), hovertemplate="%{x}: %{y:.2f}<extra></extra>"))
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.12, x=0))
    fig.update_xaxes(title=x_label)
    fig.update_yaxes(title=y_label, zeroline=True, zerolinecolor="#999")
    return base_layout(fig, height)
