"""MLP construction: shapes, parameter counts, init schemes, activations, layer outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from mlcore.config import ACTIVATIONS, LayerSpec, ModelConfig, Task
from mlcore.errors import ConfigError
from mlcore.model import MLP, expected_param_count, layer_outputs, output_size, param_table


def cfg(*units, act="relu", **kw) -> ModelConfig:
    return ModelConfig(hidden=tuple(LayerSpec(u, act) for u in units), **kw)


@pytest.mark.parametrize(
    "n_in,units,n_out,expected",
    [
        (2, (16, 16), 2, 2 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2),  # 354
        (30, (64,), 2, 30 * 64 + 64 + 64 * 2 + 2),  # 2114
        (64, (128,), 10, 64 * 128 + 128 + 128 * 10 + 10),  # 9610
        (4, (), 3, 4 * 3 + 3),  # no hidden layer: a linear model, 15
        (1, (1, 1, 1), 1, 2 + 2 + 2 + 2),
    ],
)
def test_param_counts_match_hand_computation(n_in, units, n_out, expected):
    model = MLP(cfg(*units), n_in, n_out, seed=0)
    assert model.n_params == expected
    assert expected_param_count(n_in, units, n_out) == expected
    assert sum(row.total for row in param_table(model)) == expected
    assert f"{expected} parameters" in repr(model)


def test_2_16_16_2_table():
    model = MLP(cfg(16, 16), 2, 2, seed=0)
    assert model.n_params == 48 + 272 + 34  # 354
    rows = param_table(model)
    assert [(r.name, r.n_in, r.n_out, r.weights, r.biases) for r in rows] == [
        ("hidden 1", 2, 16, 32, 16),
        ("hidden 2", 16, 16, 256, 16),
        ("output", 16, 2, 32, 2),
    ]
    assert rows[0].formula == "W: 16×2 + b: 16 = 48"
    assert rows[-1].activation is None


def test_forward_shape_and_no_output_activation():
    model = MLP(cfg(5, act="tanh"), 3, 4, seed=1)
    x = torch.randn(7, 3)
    out = model(x)
    assert out.shape == (7, 4)
    # the last module is the output Linear: raw scores, no softmax/sigmoid
    assert isinstance(model.net[-1], nn.Linear)
    # hand computation with the weights
    l1, l2 = model.linears
    manual = torch.tanh(x @ l1.weight.T + l1.bias) @ l2.weight.T + l2.bias
    torch.testing.assert_close(out, manual)


def test_each_activation_is_its_own_module_instance():
    hidden = tuple(LayerSpec(3, a) for a in ACTIVATIONS)  # 7 layers, one of each
    model = MLP(ModelConfig(hidden=hidden), 2, 1, seed=0)
    acts = [model.net[i] for i in model.activation_positions]
    assert len(acts) == len(ACTIVATIONS)
    assert len({id(a) for a in acts}) == len(acts)
    expected_types = [nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Identity]
    assert [type(a) for a in acts] == expected_types
    # same activation twice: still two distinct objects
    model2 = MLP(cfg(4, 4), 2, 1, seed=0)
    a, b = (model2.net[i] for i in model2.activation_positions)
    assert a is not b and type(a) is type(b) is nn.ReLU


def test_dropout_follows_each_activation():
    model = MLP(cfg(4, 4, dropout=0.5), 2, 1, seed=0)
    kinds = [type(m).__name__ for m in model.net]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]


@pytest.mark.parametrize(
    "task,n_classes,head,expected",
    [
        (Task.REGRESSION, 1, "logit", 1),
        (Task.BINARY, 2, "logit", 1),
        (Task.BINARY, 2, "softmax", 2),
        (Task.MULTICLASS, 10, "logit", 10),
        ("multiclass", 3, "softmax", 3),
    ],
)
def test_output_size(task, n_classes, head, expected):
    assert output_size(task, n_classes, head) == expected


def test_output_size_rejects_one_class_multiclass():
    with pytest.raises(ConfigError, match="at least 2 classes"):
        output_size(Task.MULTICLASS, 1)


def test_seed_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = MLP(cfg(8), 3, 2, seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    b = MLP(cfg(8), 3, 2, seed=7)
    c = MLP(cfg(8), 3, 2, seed=8)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.linears[0].weight, c.linears[0].weight)


def test_default_init_is_pytorch_uniform_bound():
    model = MLP(cfg(50), 20, 3, seed=0)
    bound = 1 / math.sqrt(20)
    w = model.linears[0].weight
    assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound


def test_xavier_init_bound_and_zero_bias():
    model = MLP(cfg(40, 30, init="xavier"), 20, 3, seed=0)
    for lin in model.linears:
        fan_in, fan_out = lin.in_features, lin.out_features
        bound = math.sqrt(6 / (fan_in + fan_out))
        assert lin.weight.abs().max() <= bound + 1e-7
        assert lin.weight.abs().max() > 0.8 * bound
        assert torch.count_nonzero(lin.bias) == 0


def test_kaiming_init_std_for_relu():
    model = MLP(cfg(400, init="kaiming"), 400, 1, seed=0)
    w = model.linears[0].weight
    expected_std = math.sqrt(2.0 / 400)  # He: gain sqrt(2) / sqrt(fan_in)
    assert abs(w.std().item() - expected_std) / expected_std < 0.02
    assert torch.count_nonzero(model.linears[0].bias) == 0


def test_zeros_init_keeps_hidden_units_identical_after_training():
    torch.manual_seed(0)
    # sigmoid(0) = 0.5, so the output layer gets a gradient (with tanh(0) = 0 nothing would move)
    model = MLP(cfg(6, 5, act="sigmoid", init="zeros"), 3, 2, seed=0)
    assert all(torch.count_nonzero(p) == 0 for p in model.parameters())
    x = torch.randn(32, 3)
    y = (x[:, 0] > 0).long()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(20):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    # the output layer did learn something ...
    assert model.linears[-1].weight.abs().sum() > 0
    # ... but every neuron of each hidden layer is the same neuron (symmetry never breaks)
    for lin in model.linears[:-1]:
        assert torch.allclose(lin.weight, lin.weight[:1].expand_as(lin.weight))
        assert torch.allclose(lin.bias, lin.bias[:1].expand_as(lin.bias))
    h1, h2 = layer_outputs(model, x.numpy())
    assert np.allclose(h1, h1[:, :1]) and np.allclose(h2, h2[:, :1])


def test_layer_outputs_are_post_activation_and_skip_dropout():
    model = MLP(cfg(4, 3, act="relu", dropout=0.5), 2, 1, seed=3)
    model.train()  # dropout active in train mode: layer_outputs must still ignore it
    x = np.array([[0.5, -1.0], [2.0, 0.25], [-1.5, 1.0]], dtype=np.float32)
    outs = layer_outputs(model, x)
    assert [o.shape for o in outs] == [(3, 4), (3, 3)]
    l1, l2, _ = model.linears
    with torch.no_grad():
        h1 = torch.relu(torch.from_numpy(x) @ l1.weight.T + l1.bias)
        h2 = torch.relu(h1 @ l2.weight.T + l2.bias)
    np.testing.assert_allclose(outs[0], h1.numpy(), rtol=1e-6)
    np.testing.assert_allclose(outs[1], h2.numpy(), rtol=1e-6)
    assert (outs[0] >= 0).all()


def test_layer_outputs_rejects_wrong_width():
    model = MLP(cfg(4), 2, 1, seed=0)
    with pytest.raises(ConfigError, match="expects a table with 2 columns"):
        layer_outputs(model, np.zeros((3, 5), dtype=np.float32))


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: LayerSpec(0, "relu"), "0 neurons"),
        (lambda: LayerSpec(513, "relu"), "between 1 and 512"),
        (lambda: LayerSpec(8, "swish"), "Unknown activation function 'swish'"),
        (lambda: ModelConfig(hidden=tuple(LayerSpec() for _ in range(9))), "9 hidden layers"),
        (lambda: ModelConfig(init="orthogonal"), "initialisation 'orthogonal'"),
        (lambda: ModelConfig(dropout=0.95), "Dropout is 0.95"),
        (lambda: ModelConfig(loss="hinge"), "regression loss 'hinge'"),
        (lambda: ModelConfig(binary_head="probit"), "binary output head 'probit'"),
    ],
)
def test_model_config_validation(make, match):
    with pytest.raises(ConfigError, match=match):
        make()


def test_model_config_is_hashable_and_accepts_numpy_ints():
    a = ModelConfig(hidden=[LayerSpec(np.int64(4), "tanh")])
    assert a.hidden == (LayerSpec(4, "tanh"),)
    assert type(a.hidden[0].units) is int
    assert hash(a) == hash(ModelConfig(hidden=(LayerSpec(4, "tanh"),)))
