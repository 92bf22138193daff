"""Figures for the course pages on the neuron, activation functions, the forward pass and
backpropagation. Data (records from ``mlcore.course``) in, ``go.Figure`` out; text labels come in
already translated. Fonts are projector-sized (>= 14 px). This module never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from mlcore.plots import fast
from mlcore.plots.style import FONT, SMALL, base_layout, number, tex_number

BP_FONT = 16  # the backprop diagram is read from the back of the room
DIVERGING = "RdBu_r"  # negative blue, positive red, 0 white
C_MAIN = "#1f77b4"
C_GRAD = "#d62728"
C_SAT = "rgba(127,127,127,0.22)"
C_ZERO = "rgba(214,39,40,0.18)"
C_EDGE = "rgba(90,90,90,0.55)"


def _base(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    return base_layout(fig, height, title)


# ----------------------------------------------------------------------------------------------
# Network diagrams (a layer is m neurons; a network, q stacked layers)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiagramNode:
    x: float
    y: float
    layer: int  # 0 = inputs
    index: int  # position within its layer, from the top


@dataclass(frozen=True)
class NetworkDiagram:
    """Node positions and edges (every node of a layer to every node of the next one)."""

    layer_sizes: tuple[int, ...]
    nodes: tuple[DiagramNode, ...]
    edges: tuple[tuple[int, int], ...]  # indices into ``nodes``

    def node_index(self, layer: int, index: int) -> int:
        return sum(self.layer_sizes[:layer]) + index

    @property
    def n_weights(self) -> int:
        return len(self.edges)


def network_layout(layer_sizes: Sequence[int]) -> NetworkDiagram:
    """Layers at x = 0, 1, 2, ...; the nodes of each layer centred vertically, 1 unit apart."""
    sizes = tuple(int(s) for s in layer_sizes)
    nodes = []
    for layer, size in enumerate(sizes):
        for i in range(size):
            nodes.append(DiagramNode(float(layer), (size - 1) / 2.0 - i, layer, i))
    edges = []
    start = 0
    for layer in range(len(sizes) - 1):
        nxt = start + sizes[layer]
        for a in range(sizes[layer]):
            for b in range(sizes[layer + 1]):
                edges.append((start + a, nxt + b))
        start = nxt
    return NetworkDiagram(sizes, tuple(nodes), tuple(edges))


def _edge_trace(diagram: NetworkDiagram, width: float = 1.5) -> go.Scatter:
    xs: list = []
    ys: list = []
    for a, b in diagram.edges:
        na, nb = diagram.nodes[a], diagram.nodes[b]
        xs += [na.x, nb.x, None]
        ys += [na.y, nb.y, None]
    return fast.Scatter(x=xs, y=ys, mode="lines", line=dict(color=C_EDGE, width=width), hoverinfo="skip", showlegend=False)


_LAYER_COLOURS = ("#2ca02c", "#1f77b4", "#ff7f0e")  # input, hidden, output


@fast.builder
def network_figure(
    diagram: NetworkDiagram,
    layer_titles: Sequence[str],
    node_text: Mapping[int, str] | None = None,
    height: int = 420,
    title: str | None = None,
) -> go.Figure:
    """Nodes as circles (inputs green, hidden blue, outputs orange), edges as lines; one title per layer."""
    fig = fast.Figure(_edge_trace(diagram, width=1.2 if diagram.n_weights > 150 else 1.8))
    last = len(diagram.layer_sizes) - 1
    colours = [
        _LAYER_COLOURS[0] if n.layer == 0 else _LAYER_COLOURS[2] if n.layer == last else _LAYER_COLOURS[1]
        for n in diagram.nodes
    ]
    biggest = max(diagram.layer_sizes)
    size = 34 if biggest <= 6 else 24 if biggest <= 10 else 16
    texts = [node_text.get(i, "") if node_text else "" for i in range(len(diagram.nodes))]
    fig.add_trace(
        fast.Scatter(
            x=[n.x for n in diagram.nodes],
            y=[n.y for n in diagram.nodes],
            mode="markers+text",
            marker=dict(size=size, color=colours, line=dict(color="white", width=2)),
            text=texts,
            textposition="middle center",
            textfont=dict(size=SMALL, color="white"),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    top = (biggest - 1) / 2.0
    for layer, label in enumerate(layer_titles[: len(diagram.layer_sizes)]):
        fig.add_annotation(x=layer, y=top + 0.9, text=f"<b>{label}</b>", showarrow=False, font=dict(size=SMALL + 1))
    fig.update_xaxes(visible=False, range=[-0.5, last + 0.5])
    fig.update_yaxes(visible=False, range=[-top - 0.8, top + 1.3])
    return _base(fig, height, title)


# ----------------------------------------------------------------------------------------------
# The neuron
# ----------------------------------------------------------------------------------------------


@fast.builder
def neuron_surface_figure(
    surface,
    point: tuple[float, float] | None = None,
    y_label: str = "y",
    line_label: str = "z = 0",
    height: int = 520,
) -> go.Figure:
    """Heatmap of the neuron's output over the input plane, with the decision line ``z = 0``
    (dashed) and the current input point."""
    fig = fast.Figure(
        fast.Heatmap(
            x=surface.x1,
            y=surface.x2,
            z=surface.y,
            colorscale="Viridis",
            colorbar=dict(title=dict(text=y_label), tickfont=dict(size=SMALL)),
            hovertemplate="x₁=%{x:.2f}<br>x₂=%{y:.2f}<br>y=%{z:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        fast.Contour(
            x=surface.x1, y=surface.x2, z=surface.y, showscale=False, hoverinfo="skip",
            contours=dict(coloring="none", showlabels=True, labelfont=dict(size=SMALL, color="white")),
            line=dict(color="rgba(255,255,255,0.5)", width=1), ncontours=8, showlegend=False,
        )
    )
    if surface.line is not None:
        fig.add_trace(
            fast.Scatter(x=surface.line[0], y=surface.line[1], mode="lines", name=line_label,
                         line=dict(color="white", width=4, dash="dash"))
        )
    if point is not None:
        fig.add_trace(
            fast.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="x",
                         marker=dict(size=18, color="#d62728", symbol="x", line=dict(color="white", width=2)))
        )
    lim = float(surface.x1[-1])
    fig.update_xaxes(title="x₁", range=[-lim, lim], constrain="domain")
    fig.update_yaxes(title="x₂", range=[-lim, lim], scaleanchor="x", scaleratio=1)
    fig.update_layout(legend=dict(orientation="h", y=-0.12, x=0))
    return _base(fig, height)


# ----------------------------------------------------------------------------------------------
# Activation functions
# ----------------------------------------------------------------------------------------------


def _zero_intervals(curve) -> list[tuple[float, float]]:
    """Intervals where f' is exactly 0 (a ReLU's negative side)."""
    zero = curve.df == 0
    out = []
    start = None
    for i, z in enumerate(zero):
        if z and start is None:
            start = i
        if (not z or i == len(zero) - 1) and start is not None:
            end = i if z else i - 1
            if end > start:
                out.append((float(curve.x[start]), float(curve.x[end])))
            start = None
    return out


@fast.builder
def activation_figure(
    curve,
    f_title: str = "f(x)",
    df_title: str = "f′(x)",
    saturated_label: str = "|f′| < threshold",
    zero_label: str = "f′ = 0",
    height: int = 440,
) -> go.Figure:
    """``f`` and ``f'`` side by side; grey bands where ``|f'| < threshold`` (saturation: the
    gradient vanishes), red bands where ``f'`` is exactly 0."""
    fig = fast.make_subplots(rows=1, cols=2, subplot_titles=(f_title, df_title), horizontal_spacing=0.08)
    fig.add_trace(fast.Scatter(x=curve.x, y=curve.f, mode="lines", line=dict(color=C_MAIN, width=4), name="f"), 1, 1)
    fig.add_trace(fast.Scatter(x=curve.x, y=curve.df, mode="lines", line=dict(color=C_GRAD, width=4), name="f′"), 1, 2)
    zeros = _zero_intervals(curve)
    for col in (1, 2):
        for a, b in curve.saturated:
            if any(za <= a and b <= zb for za, zb in zeros):
                continue
            fig.add_vrect(x0=a, x1=b, fillcolor=C_SAT, line_width=0, layer="below", row=1, col=col)
        for a, b in zeros:
            fig.add_vrect(x0=a, x1=b, fillcolor=C_ZERO, line_width=0, layer="below", row=1, col=col)
    # legend entries for the bands
    fig.add_trace(fast.Scatter(x=[None], y=[None], mode="markers", marker=dict(size=14, color=C_SAT, symbol="square"),
                               name=saturated_label))
    if zeros:
        fig.add_trace(fast.Scatter(x=[None], y=[None], mode="markers", marker=dict(size=14, color=C_ZERO, symbol="square"),
                                   name=zero_label))
    fig.update_xaxes(title="x", zeroline=True, zerolinecolor="#999")
    fig.update_yaxes(zeroline=True, zerolinecolor="#999")
    fig.update_annotations(font=dict(size=18))
    fig.update_layout(legend=dict(orientation="h", y=-0.2, x=0))
    return _base(fig, height)


@fast.builder
def derivatives_figure(curves: Sequence, names: Mapping[str, str], title: str | None = None, height: int = 420) -> go.Figure:
    """All derivatives ``f'`` on one chart, to compare how much gradient each lets through."""
    fig = fast.Figure()
    for curve in curves:
        fig.add_trace(fast.Scatter(x=curve.x, y=curve.df, mode="lines", line=dict(width=3), name=names.get(curve.name, curve.name)))
    fig.update_xaxes(title="x")
    fig.update_yaxes(title="f′(x)", zeroline=True, zerolinecolor="#999")
    return _base(fig, height, title)


@fast.builder
def dead_relu_figure(
    scan,
    scan_title: str = "Dead units",
    units_title: str = "Active rows per unit",
    x_label: str = "bias shift",
    dead_label: str = "dead",
    alive_label: str = "alive",
    height: int = 420,
) -> go.Figure:
    """Left: share of dead units against the bias shift (current shift marked). Right: for each
    unit at the current shift, the share of rows where it is active (dead units in red)."""
    fig = fast.make_subplots(rows=1, cols=2, subplot_titles=(scan_title, units_title), horizontal_spacing=0.1,
                        column_widths=[0.5, 0.5])
    fig.add_trace(fast.Scatter(x=scan.shifts, y=100 * scan.dead_fraction, mode="lines", line=dict(color=C_GRAD, width=4),
                               showlegend=False, hovertemplate="%{x:.2f}: %{y:.0f}%<extra></extra>"), 1, 1)
    fig.add_trace(fast.Scatter(x=[scan.shift], y=[100 * scan.dead_now], mode="markers", showlegend=False,
                               marker=dict(size=16, color="black")), 1, 1)
    units = np.arange(1, scan.n_units + 1)
    for mask, colour, name in ((scan.dead, C_GRAD, dead_label), (~scan.dead, C_MAIN, alive_label)):
        fig.add_trace(fast.Bar(x=units[mask], y=100 * scan.active_fraction[mask], marker_color=colour, name=name,
                               hovertemplate="#%{x}: %{y:.0f}%<extra></extra>"), 1, 2)
    # dead units have height 0: draw a marker so they are visible
    fig.add_trace(fast.Scatter(x=units[scan.dead], y=np.zeros(int(scan.dead.sum())), mode="markers", showlegend=False,
                               marker=dict(symbol="x", size=10, color=C_GRAD), hoverinfo="skip"), 1, 2)
    fig.update_xaxes(title=x_label, row=1, col=1)
    fig.update_yaxes(title="%", range=[-3, 103], row=1, col=1)
    fig.update_xaxes(title="#", row=1, col=2)
    fig.update_yaxes(title="%", range=[-3, 103], row=1, col=2)
    fig.update_annotations(font=dict(size=18))
    fig.update_layout(legend=dict(orientation="h", y=-0.22, x=0.55), barmode="overlay")
    return _base(fig, height)


# ----------------------------------------------------------------------------------------------
# Matrices (forward pass)
# ----------------------------------------------------------------------------------------------


def _annotate(rows: int, cols: int) -> bool:
    return rows * cols <= 120 and cols <= 16


def _heatmap(M: np.ndarray, row_labels, col_labels, zmax: float, show_text: bool) -> go.Heatmap:
    return fast.Heatmap(
        z=M,
        x=list(col_labels),
        y=list(row_labels),
        zmin=-zmax,
        zmax=zmax,
        colorscale=DIVERGING,
        showscale=False,
        xgap=2,
        ygap=2,
        texttemplate="%{z:.2f}" if show_text else None,
        textfont=dict(size=SMALL),
        hovertemplate="%{y}, %{x}: %{z:.4f}<extra></extra>",
    )


@fast.builder
def matrix_figure(M: np.ndarray, row_labels, col_labels, title: str | None = None, height: int | None = None) -> go.Figure:
    """One matrix as a coloured grid with its values written in (rows top to bottom)."""
    M = np.atleast_2d(np.asarray(M, dtype=float))
    zmax = float(np.max(np.abs(M))) or 1.0
    fig = fast.Figure(_heatmap(M, row_labels, col_labels, zmax, _annotate(*M.shape)))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", type="category")
    return _base(fig, height or 90 + 48 * M.shape[0], title)


@fast.builder
def layer_figure(step, titles: Sequence[str], instance_labels: Sequence[str], height: int | None = None) -> go.Figure:
    """``W_aug``, ``X_aug``, ``Z = W X`` and ``Y = a(Z)`` of one layer side by side, each panel as
    wide as its number of columns, every value written in its cell (small matrices)."""
    mats = [
        (step.W_aug, step.unit_labels, step.input_labels[:-1] + ("b",)),
        (step.X_aug, step.input_labels, instance_labels),
        (step.Z, step.unit_labels, instance_labels),
        (step.Y, tuple(u.replace("z", "y", 1) for u in step.unit_labels), instance_labels),
    ]
    widths = [min(max(m.shape[1], 1.5), 10) for m, _, _ in mats]  # a very wide W must not squash the others
    fig = fast.make_subplots(rows=1, cols=4, column_widths=[w / sum(widths) for w in widths], subplot_titles=list(titles),
                        horizontal_spacing=0.045)
    zmax = max(float(np.max(np.abs(m))) for m, _, _ in mats) or 1.0
    for col, (M, rlab, clab) in enumerate(mats, start=1):
        fig.add_trace(_heatmap(M, rlab, clab, zmax, _annotate(*M.shape)), 1, col)
        fig.update_yaxes(autorange="reversed", type="category", row=1, col=col)
        fig.update_xaxes(side="bottom", type="category", tickangle=0, row=1, col=col)
    fig.update_annotations(font=dict(size=17))
    rows = max(m.shape[0] for m, _, _ in mats)
    return _base(fig, height or 140 + min(42 * rows, 720))


@fast.builder
def timing_figure(timing, x_label: str = "batch size", y_label: str = "µs per instance", height: int = 420) -> go.Figure:
    """Measured forward time per instance against the batch size (both axes logarithmic)."""
    per = np.array(timing.seconds_per_instance) * 1e6
    fig = fast.Figure(
        fast.Scatter(x=list(timing.batch_sizes), y=per, mode="lines+markers+text", line=dict(color=C_MAIN, width=4),
                   marker=dict(size=10), text=[f"{v:.2g}" for v in per], textposition="top right",
                   textfont=dict(size=SMALL), hovertemplate="%{x}: %{y:.3g} µs<extra></extra>")
    )
    fig.update_xaxes(title=x_label, type="log", tickvals=list(timing.batch_sizes), ticktext=[str(b) for b in timing.batch_sizes])
    fig.update_yaxes(title=y_label, type="log", dtick=1)
    return _base(fig, height)


# ----------------------------------------------------------------------------------------------
# Backpropagation diagram (2-2-1)
# ----------------------------------------------------------------------------------------------


def _fd(v: float, digits: int = 3, decimal: str = ".") -> str:
    return number(v, f".{digits}f", decimal)


_BP_X = {0: 0.0, 1: 1.6, 2: 2.7}  # more room for the four crossing input edges
_GREEN = "#2ca02c"


@dataclass(frozen=True)
class BackpropLabels:
    """What the 2-2-1 diagram writes at one step: ``edges`` by weight name (``w1_11`` ...),
    ``hidden`` (two texts, one per hidden neuron) and ``output`` (the output neuron's text)."""

    step: int
    edges: dict
    hidden: tuple[str, str]
    output: str


def backprop_labels(trace, step: int, decimal: str = ".") -> BackpropLabels:
    """Texts known at ``step`` (index into ``mlcore.course.backprop.STEPS``): forward values from
    step 0, ŷ from 1, the loss from 2; gradients ``∇ = ∂L/∂w`` (red) of the output layer from 3 and
    of the hidden layer from 4; at the update step (5) each parameter's ``old → new`` (green);
    numbers with the ``decimal`` mark."""
    fw, net, ex = trace.forward, trace.net, trace.example

    def _f(v: float, digits: int = 3) -> str:
        return _fd(v, digits, decimal)

    grads = {g.name: g for g in trace.grads}
    update = step >= 5

    def param(name: str, grad_from: int, prefix: str = "", sep: str = "<br>") -> str:
        text = f"{prefix}{_f(getattr(net, name), 2)}"
        if update:
            return text + f" <span style='color:{_GREEN}'>→ {_f(grads[name].new_value)}</span>"
        if step >= grad_from:
            text += f"{sep}<span style='color:{C_GRAD}'>∇ {_f(grads[name].chain)}</span>"
        return text

    edges = {f"w1_{i}{j}": param(f"w1_{i}{j}", 4) for i in (1, 2) for j in (1, 2)}
    edges.update({f"w2_{i}": param(f"w2_{i}", 3) for i in (1, 2)})
    hidden = []
    for i in range(2):
        sub = "₁₂"[i]
        text = (f"z⁽¹⁾{sub} = {_f(fw.z1[i])}<br>h{sub} = {_f(fw.h[i])}<br>"
                + param(f"b1_{i + 1}", 4, prefix=f"b⁽¹⁾{sub} = ", sep=" "))
        if 4 <= step < 5:
            text += f"<br><span style='color:{C_GRAD}'>δ⁽¹⁾{sub} = {_f(trace.delta1[i])}</span>"
        hidden.append(text)
    out = param("b2", 3, prefix="b⁽²⁾ = ", sep=" ")
    if step >= 1:
        out = f"z⁽²⁾ = {_f(fw.z2)}<br>ŷ = {_f(fw.y_hat)}<br>" + out
    if step >= 2:
        out += f"<br>y = {_f(ex.y, 2)}<br><b>L = (ŷ − y)² = {_f(fw.loss, 4)}</b>"
    if 3 <= step < 5:
        out += f"<br><span style='color:{C_GRAD}'>δ⁽²⁾ = {_f(trace.delta2)}</span>"
    return BackpropLabels(step, edges, (hidden[0], hidden[1]), out)


@fast.builder
def backprop_figure(trace, step: int, node_titles: Sequence[str], height: int = 560, decimal: str = ".") -> go.Figure:
    """The 2-2-1 network with the texts of ``backprop_labels(trace, step, decimal)``."""
    base = network_layout((2, 2, 1))
    diagram = NetworkDiagram(
        base.layer_sizes, tuple(DiagramNode(_BP_X[n.layer], n.y, n.layer, n.index) for n in base.nodes), base.edges
    )
    labels = backprop_labels(trace, step, decimal)
    fig = fast.Figure(_edge_trace(diagram, width=2))
    box = dict(showarrow=False, font=dict(size=BP_FONT), bgcolor="rgba(255,255,255,0.85)")
    for a, b in diagram.edges:
        na, nb = diagram.nodes[a], diagram.nodes[b]
        if na.layer == 0:
            name = f"w1_{nb.index + 1}{na.index + 1}"
            t = 0.6 if na.index == nb.index else 0.32  # straight edges mid-way, crossing ones near the input
        else:
            name = f"w2_{na.index + 1}"
            t = 0.45
        fig.add_annotation(x=na.x + t * (nb.x - na.x), y=na.y + t * (nb.y - na.y), text=labels.edges[name], **box)
    colours = [_LAYER_COLOURS[0]] * 2 + [_LAYER_COLOURS[1]] * 2 + [_LAYER_COLOURS[2]]
    fig.add_trace(fast.Scatter(x=[n.x for n in diagram.nodes], y=[n.y for n in diagram.nodes], mode="markers",
                               hoverinfo="skip", showlegend=False,
                               marker=dict(size=46, color=colours, line=dict(color="white", width=2))))
    ex = trace.example
    for y, text in ((0.5, f"x₁ = {_fd(ex.x1, 2, decimal)}"), (-0.5, f"x₂ = {_fd(ex.x2, 2, decimal)}")):
        fig.add_annotation(x=0, y=y, text=text, xshift=-28, xanchor="right", showarrow=False, font=dict(size=BP_FONT + 2))
    x_hidden = _BP_X[1]
    fig.add_annotation(x=x_hidden, y=0.5, text=labels.hidden[0], yshift=28, yanchor="bottom", **box)
    fig.add_annotation(x=x_hidden, y=-0.5, text=labels.hidden[1], yshift=-28, yanchor="top", **box)
    fig.add_annotation(x=_BP_X[2], y=0, text=labels.output, xshift=30, xanchor="left", align="left",
                       **{**box, "font": dict(size=BP_FONT + 1)})
    for layer, label in enumerate(node_titles[:3]):
        fig.add_annotation(x=_BP_X[layer], y=1.6, text=f"<b>{label}</b>", showarrow=False, font=dict(size=BP_FONT + 1))
    fig.update_xaxes(visible=False, range=[-0.9, 4.1])
    fig.update_yaxes(visible=False, range=[-1.65, 1.8])
    return _base(fig, height)


# ----------------------------------------------------------------------------------------------
# LaTeX snippets (language-neutral)
# ----------------------------------------------------------------------------------------------


def latex_number(v: float, digits: int = 2, decimal: str = ".") -> str:
    """A number for LaTeX: negatives in parentheses so ``w \\cdot x`` stays readable; ``decimal``
    is the session language's mark (``mlcore.plots.style.tex_number``)."""
    text = tex_number(v, digits, decimal)
    return f"({text})" if text.startswith("-") else text


def latex_matrix(M, digits: int = 2, decimal: str = ".") -> str:
    """``\\begin{bmatrix}...\\end{bmatrix}`` of a vector (as a column) or a matrix."""
    M = np.asarray(M, dtype=float)
    if M.ndim == 1:
        M = M[:, None]
    rows = [" & ".join(tex_number(v, digits, decimal) for v in row) for row in M]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"
