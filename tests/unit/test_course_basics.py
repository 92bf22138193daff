"""Course pages 1, 2, 3 and 5 (neuron, activations, forward pass, backprop): known answers.

- the neuron equals the hand-computed formula ``a(w . x + b)``;
- activation derivatives from autograd equal their closed forms;
- two linear layers equal the single product matrix ``W2 W1`` (and stop doing so with ReLU);
- the augmented-matrix forward pass (bias as a column of W, ones as a row of X) equals ``model(x)``
  for a real ``mlcore.model.MLP``;
- the backprop step-through equals ``torch.autograd`` for every weight and bias, and a fully
  hand-computed example gives the expected numbers.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import erf

from mlcore.config import LayerSpec, ModelConfig, Task
from mlcore.course import course_rows
from mlcore.course.activations import (
    ACTIVATIONS,
    activation_curve,
    dead_relu_scan,
    get_activation,
    linear_collapse,
)
from mlcore.course.backprop import (
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    PARAMS,
    Example,
    TinyNet,
    autograd_gradients,
    backprop_trace,
)
from mlcore.course.forward import build_network, dense_layers, forward_trace, time_batches
from mlcore.course.neuron import count_parameters, decision_line, evaluate_neuron, neuron_output, neuron_surface
from mlcore.dataset import PreparedData
from mlcore.errors import ConfigError
from mlcore.model import MLP
from mlcore.plots.course_basics import (
    backprop_labels,
    latex_matrix,
    latex_number,
    layer_figure,
    network_layout,
)

# ---------------------------------------------------------------------------------------------
# 1. The neuron
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "activation,expected",
    [
        ("sigmoid", 1 / (1 + math.exp(0.5))),  # z = 2*1 + (-1)*3 + 0.5 = -0.5
        ("tanh", math.tanh(-0.5)),
        ("relu", 0.0),
        ("leaky_relu", -0.005),
        ("elu", math.exp(-0.5) - 1),
        ("identity", -0.5),
    ],
)
def test_neuron_equals_hand_formula(activation, expected):
    ev = evaluate_neuron((2.0, -1.0), 0.5, (1.0, 3.0), activation)
    assert ev.terms == (2.0, -3.0)
    assert ev.z == pytest.approx(-0.5)
    assert ev.y == pytest.approx(expected, abs=1e-12)


def test_neuron_output_rows_and_shape_error():
    x = np.array([[1.0, 3.0], [0.0, 0.0], [2.0, 1.0]])
    y = neuron_output((2.0, -1.0), 0.5, x, "identity")
    np.testing.assert_allclose(y, [-0.5, 0.5, 3.5])
    with pytest.raises(ConfigError, match="Expected 2 input values per instance, got 3") as info:
        neuron_output((2.0, -1.0), 0.5, np.ones((1, 3)), "relu")
    assert info.value.key == "err.course.basics.shape"


def test_neuron_surface_grid_orientation_and_decision_line():
    s = neuron_surface(1.5, -2.0, 0.3, "sigmoid", lim=3.0, n=31)
    i, j = 7, 22  # row i is x2 = s.x2[i], column j is x1 = s.x1[j]
    z = 1.5 * s.x1[j] - 2.0 * s.x2[i] + 0.3
    assert s.z[i, j] == pytest.approx(z)
    assert s.y[i, j] == pytest.approx(1 / (1 + math.exp(-z)))
    xs, ys = s.line
    np.testing.assert_allclose(1.5 * xs - 2.0 * ys + 0.3, 0.0, atol=1e-12)
    assert np.all(np.abs(xs) <= 3.0 + 1e-9) and np.all(np.abs(ys) <= 3.0 + 1e-9)


def test_decision_line_missing_cases():
    assert decision_line(0.0, 0.0, 1.0, 3.0) is None  # no weights: no line
    assert decision_line(0.0, 1.0, 10.0, 3.0) is None  # x2 = -10 is outside the square
    xs, ys = decision_line(2.0, 0.0, -1.0, 3.0)  # vertical line x1 = 0.5
    np.testing.assert_allclose(xs, 0.5)


def test_count_parameters_and_layout_agree():
    sizes = (3, 4, 4, 1)
    assert count_parameters(3, sizes[1:]) == (3 + 1) * 4 + (4 + 1) * 4 + (4 + 1) * 1 == 41
    layout = network_layout(sizes)
    assert len(layout.nodes) == 12
    assert layout.n_weights == 3 * 4 + 4 * 4 + 4 * 1  # one edge per weight
    assert count_parameters(3, sizes[1:]) == layout.n_weights + sum(sizes[1:])
    # nodes of a layer are centred: their mean height is 0
    assert np.mean([n.y for n in layout.nodes if n.layer == 1]) == pytest.approx(0.0)


def test_unknown_activation_is_an_actionable_error():
    with pytest.raises(ConfigError, match="Unknown activation function 'swish'. Choose one of: relu") as info:
        evaluate_neuron((1.0, 1.0), 0.0, (1.0, 1.0), "swish")
    assert info.value.key == "err.course.basics.activation"


# ---------------------------------------------------------------------------------------------
# 2. Activation functions
# ---------------------------------------------------------------------------------------------


def _phi(x):
    return np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)


CLOSED_FORM_DERIVATIVES = {
    "sigmoid": lambda x: (1 / (1 + np.exp(-x))) * (1 - 1 / (1 + np.exp(-x))),
    "tanh": lambda x: 1 - np.tanh(x) ** 2,
    "relu": lambda x: (x > 0).astype(float),
    "leaky_relu": lambda x: np.where(x > 0, 1.0, 0.01),
    "elu": lambda x: np.where(x > 0, 1.0, np.exp(x)),
    "gelu": lambda x: 0.5 * (1 + erf(x / math.sqrt(2))) + x * _phi(x),
    "identity": lambda x: np.ones_like(x),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_autograd_derivative_equals_closed_form(name):
    c = activation_curve(name, -4.0, 4.0, n=161)
    np.testing.assert_allclose(c.df, CLOSED_FORM_DERIVATIVES[name](c.x), atol=1e-7)
    with torch.no_grad():
        np.testing.assert_allclose(c.f, get_activation(name)(torch.from_numpy(c.x)).numpy())


def test_saturation_zones_have_the_expected_edges():
    # sigmoid'(x) = s(1 - s) < 0.05  <=>  |x| > ln(s*/(1 - s*)), s* = (1 + sqrt(0.8)) / 2
    s_star = (1 + math.sqrt(0.8)) / 2
    edge = math.log(s_star / (1 - s_star))  # 2.887
    c = activation_curve("sigmoid", -5, 5, n=401, threshold=0.05)
    (a1, b1), (a2, b2) = c.saturated
    step = 10 / 400
    assert a1 == -5 and a2 == pytest.approx(edge, abs=step)
    assert b1 == pytest.approx(-edge, abs=step) and b2 == 5
    relu = activation_curve("relu", -5, 5, n=401, threshold=0.05)
    assert relu.saturated == ((-5.0, pytest.approx(0.0, abs=1e-9)),)
    assert relu.saturated_fraction == pytest.approx(0.5)
    assert activation_curve("identity").saturated == ()


def test_dead_relu_scan_matches_a_hand_count():
    rows = course_rows(None)  # iris, standardised
    scan = dead_relu_scan(rows.X, shift=-1.0, n_units=32, seed=3)
    # hand count: same seeded layer, z = X W^T + b - 1, a unit is dead when max over rows <= 0
    from mlcore.course.activations import _seeded_linear

    layer = _seeded_linear(rows.n_features, 32, 3)
    z = rows.X.astype(np.float64) @ layer.weight.detach().numpy().T + layer.bias.detach().numpy() - 1.0
    dead = (z <= 0).all(axis=0)
    np.testing.assert_array_equal(scan.dead, dead)
    np.testing.assert_allclose(scan.active_fraction, (z > 0).mean(axis=0))
    assert 0 < dead.sum() < 32  # the example shows both kinds
    # dead units get exactly zero gradient, live ones do not
    assert np.all(scan.grad_norm[scan.dead] == 0.0)
    assert np.all(scan.grad_norm[~scan.dead] > 0.0)
    # the scan is the same count over shifts, and it can only grow as the biases go down
    k = int(np.argmin(np.abs(scan.shifts - (-1.0))))
    assert scan.dead_fraction[k] == pytest.approx(dead.mean())
    assert np.all(np.diff(scan.dead_fraction) <= 0)
    assert scan.dead_fraction[0] == 1.0 and scan.dead_fraction[-1] == 0.0


def test_two_linear_layers_collapse_to_one_matrix():
    lc = linear_collapse(n_in=3, n_hidden=4, n_out=2, k=5, seed=0, activation="identity")
    np.testing.assert_allclose(lc.W, lc.W2 @ lc.W1)
    np.testing.assert_allclose(lc.b, lc.W2 @ lc.b1 + lc.b2)
    manual = lc.W2 @ (lc.W1 @ lc.X + lc.b1[:, None]) + lc.b2[:, None]
    np.testing.assert_allclose(lc.two_layers, manual, atol=1e-12)
    assert lc.collapses and lc.max_abs_diff < 1e-12


def test_relu_between_layers_breaks_the_collapse():
    lc = linear_collapse(seed=0, activation="relu")
    manual = lc.W2 @ np.maximum(lc.W1 @ lc.X + lc.b1[:, None], 0) + lc.b2[:, None]
    np.testing.assert_allclose(lc.two_layers, manual, atol=1e-12)
    assert not lc.collapses and lc.max_abs_diff > 0.1


# ---------------------------------------------------------------------------------------------
# 3. Forward pass as matrix multiplication
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation,seed,k", [("relu", 0, 1), ("tanh", 1, 3), ("sigmoid", 2, 8), ("gelu", 3, 5)])
def test_augmented_matrix_forward_equals_model(activation, seed, k):
    rows = course_rows(None)
    model = build_network(rows.n_features, 3, 2, activation, seed)
    assert isinstance(model, MLP)  # the project's own model
    trace = forward_trace(model, rows.X[:k])
    first, last = trace.steps
    assert first.W_aug.shape == (3, rows.n_features + 1) and first.X_aug.shape == (rows.n_features + 1, k)
    assert first.Z.shape == (3, k) and last.Y.shape == (2, k)
    np.testing.assert_array_equal(first.X_aug[-1], np.ones(k))  # the row of ones
    np.testing.assert_allclose(first.W_aug[:, -1], model.net[0].bias.detach().numpy(), rtol=1e-6)  # bias column
    np.testing.assert_allclose(first.X_aug[:-1], rows.X[:k].T, rtol=1e-6)  # one column per instance
    np.testing.assert_allclose(last.X_aug[:-1], first.Y)  # layer 2 reads layer 1's output
    with torch.no_grad():
        expected = model(torch.tensor(rows.X[:k])).numpy().T
    np.testing.assert_allclose(trace.output, expected, atol=1e-6)
    assert trace.max_abs_diff < 1e-6
    assert (first.activation, last.activation) == (activation, "identity")


def test_forward_trace_on_a_deeper_mlp_with_dropout_in_eval_mode():
    torch.manual_seed(0)
    model = MLP(ModelConfig(hidden=(LayerSpec(5, "tanh"), LayerSpec(3, "relu")), dropout=0.5), 4, 3)
    model.train()  # the trace must evaluate without dropout and leave the mode as it was
    x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    trace = forward_trace(model, x)
    assert [s.n_units for s in trace.steps] == [5, 3, 3]
    assert [s.activation for s in trace.steps] == ["tanh", "relu", "identity"]
    model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(trace.output, model(torch.from_numpy(x)).numpy().T, atol=1e-6)
    assert trace.max_abs_diff < 1e-6
    assert len(dense_layers(model)) == 3


def test_adding_instances_adds_columns():
    rows = course_rows(None)
    model = build_network(rows.n_features, 4, 2, "relu", 0)
    small, big = forward_trace(model, rows.X[:2]), forward_trace(model, rows.X[:6])
    for s, b in zip(small.steps, big.steps):
        np.testing.assert_array_equal(s.W_aug, b.W_aug)  # W does not change
        np.testing.assert_allclose(s.Z, b.Z[:, :2])  # the first columns are the same instances


def test_forward_rejects_wrong_width():
    model = build_network(4, 3, 2, "relu", 0)
    with pytest.raises(ConfigError, match="Expected 4 input values per instance, got 2"):
        forward_trace(model, np.zeros((3, 2), dtype=np.float32))


def test_build_network_is_seeded_and_thread_safe():
    a, b = build_network(4, 3, 2, "relu", 7), build_network(4, 3, 2, "relu", 7)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    c = build_network(4, 3, 2, "relu", 8)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is untouched
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))
    bound = 1 / math.sqrt(4)  # PyTorch's default init range
    assert float(a.net[0].weight.detach().abs().max()) <= bound


def test_time_batches_record():
    model = build_network(4, 8, 2, "relu", 0)
    timing = time_batches(model, 4, batch_sizes=(1, 4, 16), repeats=2)
    assert timing.batch_sizes == (1, 4, 16)
    assert all(t > 0 for t in timing.seconds_per_batch)
    assert timing.seconds_per_instance == tuple(t / b for t, b in zip(timing.seconds_per_batch, (1, 4, 16)))
    assert timing.speedup == pytest.approx(timing.seconds_per_instance[0] / timing.seconds_per_instance[-1])
    with pytest.raises(ConfigError):
        time_batches(model, 4, batch_sizes=(0, 4))


def tiny_data(n: int = 12, n_features: int = 2) -> PreparedData:
    """A small binary ``PreparedData`` (12 train, 4 val, 4 test rows)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n + 8, n_features)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    names = [f"f{i}" for i in range(n_features)]
    raw = pd.DataFrame(X, columns=names)
    return PreparedData(
        name="mini_moons", task=Task.BINARY,
        X_train=X[:n], y_train=y[:n], X_val=X[n:n + 4], y_val=y[n:n + 4], X_test=X[n + 4:], y_test=y[n + 4:],
        feature_names=names, raw_feature_names=names, class_names=["0", "1"],
        raw_train=raw.iloc[:n], raw_val=raw.iloc[n:n + 4], raw_test=raw.iloc[n + 4:], preprocessor=None,
    )


def test_course_rows_uses_the_current_dataset():
    data = tiny_data()
    rows = course_rows(data, max_rows=5)
    assert rows.name == "mini_moons" and not rows.builtin
    np.testing.assert_array_equal(rows.X, data.X_train[:5])
    builtin = course_rows(None)
    assert builtin.builtin and builtin.X.shape == (150, 4)
    np.testing.assert_allclose(builtin.X.mean(axis=0), 0, atol=1e-6)  # standardised
    np.testing.assert_allclose(builtin.X.std(axis=0), 1, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# 5. Backpropagation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("output", OUTPUT_ACTIVATIONS)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_chain_rule_equals_autograd_for_every_parameter(hidden, output, seed):
    rng = np.random.default_rng(100 + seed)
    ex = Example(*np.round(rng.uniform(-2, 2, size=3), 2).tolist())
    trace = backprop_trace(TinyNet.random(seed), ex, hidden, output, lr=0.3)
    assert [g.name for g in trace.grads] == list(PARAMS)
    for g in trace.grads:
        assert g.chain == pytest.approx(g.autograd, abs=1e-6), g.name
    assert trace.max_abs_diff < 1e-6
    # the factors really are the local derivatives: 5 for hidden weights, 3 for output ones
    assert len(trace.grad("w1_21").factors) == 5 and len(trace.grad("w2_1").factors) == 3


def test_backprop_hand_computed_example():
    """relu hidden, identity output, W1 = I, b1 = 0, w2 = (1, 1), b2 = 0, x = (1, 2), y = 1.

    h = (1, 2), y_hat = 3, L = (3 - 1)^2 = 4, dL/dy_hat = 4; every gradient is 4 * (input of its
    edge): dL/dw2 = (4, 8), dL/db2 = 4, dL/dw1_i1 = 4 * x1 = 4, dL/dw1_i2 = 4 * x2 = 8, dL/db1_i = 4.
    With alpha = 0.1 the update overshoots: both hidden ReLUs die, y_hat = b2 = -0.4, L = 1.96.
    """
    net = TinyNet(1, 0, 0, 1, 0, 0, 1, 1, 0)
    ex = Example(1, 2, 1)
    trace = backprop_trace(net, ex, "relu", "identity", lr=0.1)
    fw = trace.forward
    np.testing.assert_allclose(fw.z1, [1, 2])
    np.testing.assert_allclose(fw.h, [1, 2])
    assert (fw.z2, fw.y_hat, fw.loss) == (3, 3, 4)
    expected = {"w1_11": 4, "w1_12": 8, "w1_21": 4, "w1_22": 8, "b1_1": 4, "b1_2": 4, "w2_1": 4, "w2_2": 8, "b2": 4}
    for name, value in expected.items():
        assert trace.grad(name).chain == pytest.approx(value)
        assert trace.grad(name).autograd == pytest.approx(value)
    assert trace.new_net.as_dict() == pytest.approx(
        {"w1_11": 0.6, "w1_12": -0.8, "w1_21": -0.4, "w1_22": 0.2, "b1_1": -0.4, "b1_2": -0.4,
         "w2_1": 0.6, "w2_2": 0.2, "b2": -0.4}
    )
    assert trace.new_loss == pytest.approx(1.96)
    assert trace.delta2 == pytest.approx(4.0)
    np.testing.assert_allclose(trace.delta1, [4.0, 4.0])


def test_small_step_lowers_the_loss():
    for seed in range(5):
        trace = backprop_trace(TinyNet.random(seed), Example(0.5, -1.0, 1.0), "sigmoid", "sigmoid", lr=0.01)
        assert trace.new_loss < trace.forward.loss


def test_autograd_uses_mse_of_torch():
    net, ex = TinyNet.random(4), Example(0.3, 0.7, -0.2)
    grads = autograd_gradients(net, ex, "tanh", "identity")
    eps = 1e-6  # central finite differences as a third opinion
    from mlcore.course.backprop import forward

    for name in ("w1_12", "b2"):
        plus = TinyNet(**{**net.as_dict(), name: getattr(net, name) + eps})
        minus = TinyNet(**{**net.as_dict(), name: getattr(net, name) - eps})
        numeric = (forward(plus, ex, "tanh", "identity").loss - forward(minus, ex, "tanh", "identity").loss) / (2 * eps)
        assert grads[name] == pytest.approx(numeric, abs=1e-6)


def test_tiny_net_random_and_validation():
    a, b = TinyNet.random(5), TinyNet.random(5)
    assert a == b and a != TinyNet.random(6)
    assert all(-1 <= v <= 1 and round(v, 2) == v for v in a.as_dict().values())
    with pytest.raises(ConfigError, match="'w1_11' is nan") as info:
        TinyNet(float("nan"), 0, 0, 0, 0, 0, 0, 0, 0)
    assert info.value.key == "err.course.basics.number"
    with pytest.raises(ConfigError, match="'lr' is 0"):
        backprop_trace(a, Example(0, 0, 0), lr=0)
    with pytest.raises(ConfigError, match="Unknown activation function 'gelu'"):
        backprop_trace(a, Example(0, 0, 0), hidden="gelu")


def test_latex_chain_shows_each_factor_and_the_product():
    trace = backprop_trace(TinyNet(1, 0, 0, 1, 0, 0, 1, 1, 0), Example(1, 2, 1), "relu", "identity", lr=0.1)
    text = trace.grad("w1_12").latex_chain(digits=2)
    assert text.startswith(r"\frac{\partial L}{\partial w^{(1)}_{12}} = ")
    assert text.count(r"\underbrace") == 5
    assert text.endswith("= 8.00")
    assert "_{4.00}" in text and "_{2.00}" in text  # dL/dy_hat = 4 and x2 = 2


# ---------------------------------------------------------------------------------------------
# Figure records
# ---------------------------------------------------------------------------------------------


def test_backprop_labels_reveal_values_step_by_step():
    trace = backprop_trace(TinyNet.random(0), Example(0.5, -1.0, 1.0), "sigmoid", "sigmoid", lr=0.5)
    hidden_edges = ("w1_11", "w1_12", "w1_21", "w1_22")
    s0, s2, s3, s4, s5 = (backprop_labels(trace, s) for s in (0, 2, 3, 4, 5))
    assert "ŷ" not in s0.output and "L =" not in s0.output
    assert "L =" in s2.output and not any("∇" in t for t in s2.edges.values())
    assert all("∇" in s3.edges[w] for w in ("w2_1", "w2_2")) and not any("∇" in s3.edges[w] for w in hidden_edges)
    assert all("∇" in t for t in s4.edges.values())
    assert f"∇ {trace.grad('w1_22').chain:.3f}" in s4.edges["w1_22"]
    assert all("→" in t and "∇" not in t for t in s5.edges.values())
    assert f"→ {trace.grad('w2_1').new_value:.3f}" in s5.edges["w2_1"]


def test_layer_figure_has_the_four_matrices():
    model = build_network(4, 3, 2, "relu", 0)
    trace = forward_trace(model, course_rows(None).X[:2])
    fig = layer_figure(trace.steps[0], ["W", "X", "Z", "Y"], trace.instance_labels)
    shapes = [np.asarray(tr.z).shape for tr in fig.data]
    assert shapes == [(3, 5), (5, 2), (3, 2), (3, 2)]
    assert list(fig.data[1].y) == ["x₀", "x₁", "x₂", "x₃", "1"]


def test_latex_helpers():
    assert latex_number(-0.5) == "(-0.50)" and latex_number(-0.0001) == "0.00" and latex_number(1.234, 1) == "1.2"
    assert latex_matrix([[1, -2], [0.5, -0.001]], 1) == r"\begin{bmatrix}1.0 & -2.0 \\ 0.5 & 0.0\end{bmatrix}"
    assert latex_matrix([1, 2], 0) == r"\begin{bmatrix}1 \\ 2\end{bmatrix}"


def test_latex_numbers_take_the_decimal_comma_braced_and_the_diagram_its_mark():
    """In Spanish, LaTeX numbers carry a braced comma (a bare one is TeX punctuation, with a space
    after it); the chain rule and the backprop diagram write the same values with the mark."""
    assert latex_number(-0.5, 2, ",") == "(-0{,}50)" and latex_number(-0.0001, 2, ",") == "0{,}00"
    assert latex_matrix([[1, -2], [0.5, 3.25]], 1, ",") == r"\begin{bmatrix}1{,}0 & -2{,}0 \\ 0{,}5 & 3{,}2\end{bmatrix}"
    trace = backprop_trace(TinyNet(1, 0, 0, 1, 0, 0, 1, 1, 0), Example(1, 2, 1), "relu", "identity", lr=0.1)
    chain = trace.grad("w1_12").latex_chain(digits=2, decimal=",")
    assert chain.endswith("= 8{,}00") and "_{4{,}00}" in chain and "." not in chain
    from mlcore.course.activations import FORMULAS
    from mlcore.course.surfaces import SURFACES
    from mlcore.plots.style import tex_decimal

    leaky = tex_decimal(FORMULAS["leaky_relu"][0], ",")
    assert r"0{,}01\,x" in leaky and tex_decimal(leaky, ".") == leaky
    assert tex_decimal(r"w_{12} = 1.5 \cdot x_2", ",") == r"w_{12} = 1{,}5 \cdot x_2"
    for surface in SURFACES.values():  # every number of every formula (A's 1.5, Beale's 2.625)
        assert not re.search(r"\d\.\d", tex_decimal(surface.formula, ","))
    for step in range(6):
        dot, comma = backprop_labels(trace, step), backprop_labels(trace, step, ",")
        for a, b in zip([*dot.edges.values(), *dot.hidden, dot.output], [*comma.edges.values(), *comma.hidden, comma.output]):
            assert b == a.replace(".", ",") and not re.search(r"\d\.\d", b)
