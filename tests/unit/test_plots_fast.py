"""The fast figures (mlcore.plots.fast, plain dicts without plotly's validation) equal the figures
real validated plotly builds from the same builder code, for every registered builder."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from mlcore.plots import fast

# ---- inputs for every @fast.builder figure: (builder name, zero-argument callable) -------------


def _course_basics():
    from mlcore.course.activations import ACTIVATIONS, activation_curve, dead_relu_scan
    from mlcore.course import builtin_rows
    from mlcore.course.backprop import Example, TinyNet, backprop_trace
    from mlcore.course.forward import build_network, forward_trace, BatchTiming
    from mlcore.course.neuron import neuron_surface
    from mlcore.plots import course_basics as P

    rows = builtin_rows()
    yield "network_figure", lambda: P.network_figure(P.network_layout((2, 3, 1)), ["in", "hid", "out"],
                                                     node_text={0: "x₁"}, title="Net")
    yield "network_figure", lambda: P.network_figure(P.network_layout((12, 20, 3)), ["in", "hid", "out"])
    surf = neuron_surface(1.0, -0.5, 0.3, "sigmoid")
    yield "neuron_surface_figure", lambda: P.neuron_surface_figure(surf, point=(0.5, -1.0), line_label="z=0")
    for name in ("relu", "sigmoid", "tanh"):
        curve = activation_curve(name, threshold=0.05)
        yield "activation_figure", lambda c=curve: P.activation_figure(c, f_title="f", saturated_label="sat")
    curves = [activation_curve(a) for a in ACTIVATIONS]
    yield "derivatives_figure", lambda: P.derivatives_figure(curves, {"relu": "ReLU"}, title="All")
    for shift in (-3.0, 0.0):
        scan = dead_relu_scan(rows.X, shift, n_units=32, seed=0)
        yield "dead_relu_figure", lambda s=scan: P.dead_relu_figure(s)
    M = np.arange(12.0).reshape(3, 4) - 5
    yield "matrix_figure", lambda: P.matrix_figure(M, ["a", "b", "c"], ["1", "2", "3", "4"], title="M")
    model = build_network(rows.X.shape[1], 3, 2, "relu", seed=0)
    trace = forward_trace(model, rows.X[:4])
    yield "layer_figure", lambda: P.layer_figure(trace.steps[0], ["W", "X", "Z", "Y"], trace.instance_labels)
    timing = BatchTiming((1, 8, 64), (1e-4, 2e-4, 5e-4), 2, 3)
    yield "timing_figure", lambda: P.timing_figure(timing)
    bp = backprop_trace(TinyNet.random(0), Example(0.5, -1.0, 1.0), "sigmoid", "identity", 0.5)
    for step in (0, 3, 5):
        yield "backprop_figure", lambda s=step: P.backprop_figure(bp, s, ["in", "hidden", "out"])


CASES = [*_course_basics()]


def assert_same(a, b, path="fig"):
    """Deep equality of two ``to_dict()`` results; numpy arrays compared by value (and lists
    against arrays of the same values), floats exactly."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), f"{path}: keys differ: only fast {set(a) - set(b)}, only plotly {set(b) - set(a)}"
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        assert isinstance(a, np.ndarray) == isinstance(b, np.ndarray), f"{path}: {type(a)} vs {type(b)}"
        if isinstance(a, np.ndarray):
            assert a.shape == b.shape and a.dtype.kind == b.dtype.kind, f"{path}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f"{path}: arrays differ"
        else:
            assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
            for i, (x, y) in enumerate(zip(a, b)):
                assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert type(a) is type(b) or {type(a), type(b)} <= {int, float, np.float64, np.int64, bool} and not (
            isinstance(a, bool) ^ isinstance(b, bool)), f"{path}: {type(a).__name__} {a!r} vs {type(b).__name__} {b!r}"
        assert a == b, f"{path}: {a!r} vs {b!r}"


@pytest.mark.parametrize("name,make", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_fast_figure_equals_validated_plotly(name, make):
    fig = make()
    with fast.validated():
        ref = make()
    assert isinstance(fig, go.Figure) and isinstance(ref, go.Figure)
    assert_same(fig.to_dict(), ref.to_dict())
