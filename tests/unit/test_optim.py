"""Optimizer registry, LARS against hand-computed numbers, state memory against the course table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from mlcore.config import OPTIMIZERS, LayerSpec, ModelConfig, OptimConfig
from mlcore.errors import ConfigError
from mlcore.model import MLP
from mlcore.optim import LARS, OPTIMIZER_INFO, apply_hyperparameters, make_optimizer, measure_state_bytes

I18N = Path(__file__).resolve().parents[2] / "mlcore" / "i18n"


def _lars_param(w, g):
    p = nn.Parameter(torch.tensor(w, dtype=torch.float64))
    p.grad = torch.tensor(g, dtype=torch.float64)
    return p


def test_lars_two_steps_with_momentum_match_hand_computation():
    # eta=0.1, lr=0.5, weight decay=0.1, momentum=0.9
    p = _lars_param([3.0, 4.0], [0.6, 0.8])
    opt = LARS([p], lr=0.5, momentum=0.9, weight_decay=0.1, trust_coef=0.1)
    opt.step()
    # ||w||=5, ||g||=1 -> local = 0.1*5/(1+0.1*5) = 1/3
    # v1 = 0.5 * 1/3 * (g + 0.1 w) = 1/6 * [0.9, 1.2] = [0.15, 0.2];  w1 = w - v1
    torch.testing.assert_close(p.data, torch.tensor([2.85, 3.8], dtype=torch.float64))
    torch.testing.assert_close(opt.state[p]["momentum_buffer"], torch.tensor([0.15, 0.2], dtype=torch.float64))
    p.grad = torch.tensor([0.3, 0.4], dtype=torch.float64)
    opt.step()
    # ||w1||=4.75, ||g||=0.5 -> local = 0.475/0.975 = 19/39
    # update = 0.5*19/39*(g + 0.1 w1) = 9.5/39*[0.585, 0.78] = [0.1425, 0.19]
    # v2 = 0.9*[0.15, 0.2] + update = [0.2775, 0.37];  w2 = w1 - v2
    torch.testing.assert_close(p.data, torch.tensor([2.5725, 3.43], dtype=torch.float64))
    torch.testing.assert_close(opt.state[p]["momentum_buffer"], torch.tensor([0.2775, 0.37], dtype=torch.float64))


def test_lars_zero_weight_norm_uses_trust_ratio_one_and_no_buffer_without_momentum():
    p = _lars_param([0.0, 0.0], [1.0, 2.0])
    opt = LARS([p], lr=0.1, momentum=0.0, weight_decay=0.0, trust_coef=0.001)
    opt.step()
    torch.testing.assert_close(p.data, torch.tensor([-0.1, -0.2], dtype=torch.float64))
    assert measure_state_bytes(opt) == 0


def test_lars_zero_gradient_leaves_weights_unchanged():
    p = _lars_param([1.0, -2.0], [0.0, 0.0])
    LARS([p], lr=1.0, momentum=0.0, trust_coef=0.01).step()
    torch.testing.assert_close(p.data, torch.tensor([1.0, -2.0], dtype=torch.float64))


def test_lars_rejects_bad_arguments():
    with pytest.raises(ValueError, match="learning rate"):
        LARS([nn.Parameter(torch.zeros(1))], lr=0.0)


def _separable():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return x, y


# learning rates that suit each optimizer on this tiny problem
LRS = {"sgd": 0.5, "momentum": 0.1, "adagrad": 0.1, "rmsprop": 0.01, "adam": 0.02, "adamw": 0.02, "lars": 5.0}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_reduces_the_loss(name):
    x, y = _separable()
    model = MLP(ModelConfig(hidden=(LayerSpec(8, "tanh"),)), 2, 2, seed=0)
    opt = make_optimizer(model.parameters(), OptimConfig(name=name, lr=LRS[name], trust_coef=0.01))
    before = nn.functional.cross_entropy(model(x), y).item()
    for _ in range(30):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    after = nn.functional.cross_entropy(model(x), y).item()
    assert after < 0.7 * before, (name, before, after)


def test_registry_builds_the_right_classes_and_hyperparameters():
    params = list(nn.Linear(2, 2).parameters())
    mom = make_optimizer(params, OptimConfig(name="momentum", lr=0.3, momentum=0.8, nesterov=True))
    assert type(mom) is torch.optim.SGD
    assert (mom.param_groups[0]["momentum"], mom.param_groups[0]["nesterov"]) == (0.8, True)
    sgd = make_optimizer(params, OptimConfig(name="sgd", momentum=0.8))
    assert sgd.param_groups[0]["momentum"] == 0.0  # plain SGD ignores the momentum field
    adam = make_optimizer(params, OptimConfig(name="adam", beta1=0.8, beta2=0.99))
    assert type(adam) is torch.optim.Adam and adam.param_groups[0]["betas"] == (0.8, 0.99)
    assert type(make_optimizer(params, OptimConfig(name="adamw"))) is torch.optim.AdamW
    assert type(make_optimizer(params, OptimConfig(name="adagrad"))) is torch.optim.Adagrad
    rms = make_optimizer(params, OptimConfig(name="rmsprop", alpha=0.9))
    assert type(rms) is torch.optim.RMSprop and rms.param_groups[0]["alpha"] == 0.9
    lars = make_optimizer(params, OptimConfig(name="lars", trust_coef=0.02))
    assert type(lars) is LARS and lars.param_groups[0]["trust_coef"] == 0.02


def test_nesterov_without_momentum_is_a_config_error():
    with pytest.raises(ConfigError, match="Nesterov momentum needs a momentum above 0"):
        OptimConfig(name="momentum", momentum=0.0, nesterov=True)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(name="lbfgs"), "Unknown optimizer 'lbfgs'"),
        (dict(lr=0.0), "learning rate is 0.0"),
        (dict(lr=11.0), "at most 10"),
        (dict(beta2=1.0), "'beta2' is 1.0"),
        (dict(momentum=-0.1), "'momentum' is -0.1"),
    ],
)
def test_optim_config_validation(kw, match):
    with pytest.raises(ConfigError, match=match):
        OptimConfig(**kw)


def test_apply_hyperparameters_keeps_state():
    model = nn.Linear(3, 1)
    opt = make_optimizer(model.parameters(), OptimConfig(name="adam", lr=0.01))
    model(torch.ones(2, 3)).sum().backward()
    opt.step()
    exp_avg = opt.state[model.weight]["exp_avg"].clone()
    apply_hyperparameters(opt, OptimConfig(name="adam", lr=0.5, beta1=0.8))
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["betas"] == (0.8, 0.999)
    assert torch.equal(opt.state[model.weight]["exp_avg"], exp_avg)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_measured_state_bytes_match_course_formula(name):
    model = MLP(ModelConfig(hidden=(LayerSpec(16, "relu"), LayerSpec(16, "relu"))), 2, 2, seed=0)
    n = model.n_params  # 338
    n_tensors = len(list(model.parameters()))  # 6 (W and b of 3 layers)
    opt = make_optimizer(model.parameters(), OptimConfig(name=name, lr=0.01))
    model(torch.randn(5, 2)).sum().backward()
    opt.step()
    # float32 copies of the parameters (the course's 0 / 4n / 8n) + a 4-byte step counter per tensor
    step_counters = {"sgd": 0, "momentum": 0, "lars": 0, "adagrad": 4, "rmsprop": 4, "adam": 4, "adamw": 4}
    expected = {"sgd": 0, "momentum": 4 * n, "lars": 4 * n, "adagrad": 4 * n, "rmsprop": 4 * n,
                "adam": 8 * n, "adamw": 8 * n}[name]
    assert OPTIMIZER_INFO[name].expected_state_bytes(n) == expected
    assert measure_state_bytes(opt) == expected + step_counters[name] * n_tensors


def test_optimizer_info_matches_course_table_and_catalogues():
    table = {k: (v.state_formula, v.n_tunable) for k, v in OPTIMIZER_INFO.items()}
    assert table == {
        "sgd": ("0", 1), "momentum": ("4n", 2), "adagrad": ("~4n", 1), "rmsprop": ("~4n", 3),
        "adam": ("~8n", 3), "adamw": ("~8n", 3), "lars": ("~4n", 3),
    }
    fields = set(OptimConfig.__dataclass_fields__)
    for info in OPTIMIZER_INFO.values():
        assert len(info.hyperparameters) == info.n_tunable
        assert set(info.fields) <= fields
    for lang in ("es", "en"):
        cat = json.loads((I18N / lang / "model.json").read_text(encoding="utf-8"))
        for info in OPTIMIZER_INFO.values():
            for key in (info.label_key, info.strengths_key, info.weaknesses_key):
                assert cat[key].strip(), (lang, key)
            for f in info.fields:
                assert cat[f"optim.field.{f}"].strip()
