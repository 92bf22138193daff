"""Exported scripts: valid Python, same network/initial weights/loss/optimizer, and they run."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest
import torch

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, Task, TrainConfig
from mlcore.export import export_code
from mlcore.model import MLP
from mlcore.optim import LARS, make_optimizer
from mlcore.system import MLPSystem

CASES = {
    "multiclass_adam_default": (
        ModelConfig(hidden=(LayerSpec(5, "relu"), LayerSpec(4, "gelu"))),
        TrainConfig(OptimConfig("adam", lr=0.02, beta1=0.8), batch_size=16, epochs=3, seed=3),
        3, 4, Task.MULTICLASS),
    "binary_logit_lars_kaiming": (
        ModelConfig(hidden=(LayerSpec(6, "leaky_relu"),), init="kaiming", l2=0.01, l1=0.001, dropout=0.1),
        TrainConfig(OptimConfig("lars", lr=0.5, trust_coef=0.01, weight_decay=0.001), batch_size=8, epochs=2,
                    seed=1, patience=2),
        2, 1, Task.BINARY),
    "regression_mae_rmsprop_xavier": (
        ModelConfig(hidden=(LayerSpec(7, "tanh"), LayerSpec(3, "elu")), init="xavier", loss="mae"),
        TrainConfig(OptimConfig("rmsprop", lr=0.01, alpha=0.9), batch_size=32, epochs=2, seed=2),
        4, 1, Task.REGRESSION),
    "binary_softmax_nesterov_zeros": (
        ModelConfig(hidden=(LayerSpec(3, "sigmoid"),), init="zeros", binary_head="softmax"),
        TrainConfig(OptimConfig("momentum", lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01)),
        2, 2, Task.BINARY),
    "huber_adamw_identity": (
        ModelConfig(hidden=(LayerSpec(2, "identity"),), loss="huber"),
        TrainConfig(OptimConfig("adamw", weight_decay=0.05)), 1, 1, Task.REGRESSION),
    "adagrad_sgd_no_hidden": (
        ModelConfig(hidden=()), TrainConfig(OptimConfig("adagrad", lr=0.1)), 3, 2, Task.MULTICLASS),
    "plain_sgd": (ModelConfig(), TrainConfig(OptimConfig("sgd", lr=0.1)), 2, 3, Task.MULTICLASS),
}


def load_script(tmp_path, name, code):
    path = tmp_path / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"exported_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return path, module


@pytest.mark.parametrize("name", list(CASES))
def test_exported_script_matches_the_app(tmp_path, name):
    model_cfg, train_cfg, n_in, n_out, task = CASES[name]
    code = export_code(model_cfg, train_cfg, n_in, n_out, task)
    assert "mlcore" not in code  # standalone
    _, module = load_script(tmp_path, name, code)

    # same layers and the same initial weights for the same seed
    torch.manual_seed(train_cfg.seed)
    theirs = module.MLPSystem()
    ours = MLPSystem(model_cfg, train_cfg.optim, n_in, n_out, task, seed=train_cfg.seed)
    assert [type(m) for m in theirs.model.net] == [type(m) for m in ours.model.net]
    for (k1, v1), (k2, v2) in zip(theirs.model.state_dict().items(), ours.model.state_dict().items()):
        assert k1 == k2
        assert torch.equal(v1, v2), k1

    # same loss on the same batch
    x = torch.randn(6, n_in, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 0, 1, 1, 0]) % max(n_out, 2) if task.is_classification else torch.randn(6)
    theirs.eval(), ours.eval()
    loss, _ = theirs._loss_and_metric((x, y))
    assert loss.item() == pytest.approx(ours.data_loss(ours.model(x), y).item(), rel=1e-6)

    # same optimizer class and hyperparameters
    opt_theirs = theirs.configure_optimizers()
    opt_ours = make_optimizer(ours.parameters(), train_cfg.optim)
    assert type(opt_theirs).__name__ == type(opt_ours).__name__
    skip = {"params", "fused", "foreach", "differentiable", "capturable", "maximize", "decoupled_weight_decay"}
    g_theirs = {k: v for k, v in opt_theirs.param_groups[0].items() if k not in skip}
    g_ours = {k: v for k, v in opt_ours.param_groups[0].items() if k not in skip}
    assert g_theirs == g_ours


def test_lars_source_is_included_only_when_chosen():
    cfg = ModelConfig()
    with_lars = export_code(cfg, TrainConfig(OptimConfig("lars")), 2, 2, "multiclass")
    without = export_code(cfg, TrainConfig(OptimConfig("adam")), 2, 2, "multiclass")
    assert "class LARS(torch.optim.Optimizer)" in with_lars and "torch has no LARS" in with_lars
    assert "class LARS" not in without and "torch.optim.Adam(" in without
    assert LARS.__doc__.splitlines()[0] in with_lars


def test_exported_script_runs_and_prints_the_parameter_count(tmp_path):
    # one subprocess only (importing Lightning takes seconds); the richest case: LARS, penalties,
    # dropout, Kaiming init, early stopping. The others are checked in-process above.
    model_cfg, train_cfg, n_in, n_out, task = CASES["binary_logit_lars_kaiming"]
    path = tmp_path / "mlp_lab_model.py"
    path.write_text(export_code(model_cfg, train_cfg, n_in, n_out, task), encoding="utf-8")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, str(path), "--epochs", "1", "--rows", "64"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    expected = MLP(model_cfg, n_in, n_out, seed=0).n_params
    assert re.search(rf"^parameters: {expected}$", proc.stdout, re.M), proc.stdout
    assert "val_loss:" in proc.stdout
