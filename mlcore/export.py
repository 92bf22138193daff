"""Export a configuration as a standalone Python script (PyTorch + Lightning, no mlcore).

``export_code(...)`` returns the source of a script that builds the same network (same layers,
same initialisation, so the same initial weights for the same seed), the same training system
(loss, L1/L2 penalties, optimizer and its hyperparameters; the LARS class source is included when
LARS is chosen, since torch has none), random toy data of the right shape, and the Lightning
``Trainer`` call with this configuration. Learners can read it, run it
(``python mlp_lab_model.py --epochs 5``) and replace the toy data with their own.

The script uses Lightning's ordinary automatic optimization and a ``DataLoader``: one optimizer
step per mini-batch, as in the app (the app feeds batches differently only for speed).
"""

from __future__ import annotations

import inspect
import textwrap

from mlcore.config import ModelConfig, Task, TrainConfig
from mlcore.model import _KAIMING_NONLINEARITY, _LEAKY_SLOPE, loss_name

__all__ = ["export_code"]

_ACTIVATION_CODE = {
    "relu": "nn.ReLU()",
    "leaky_relu": f"nn.LeakyReLU({_LEAKY_SLOPE})",
    "elu": "nn.ELU()",
    "gelu": "nn.GELU()",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "identity": "nn.Identity()",
}

_LOSS_CODE = {
    "ce": "nn.CrossEntropyLoss()",
    "bce": "nn.BCEWithLogitsLoss()",
    "mse": "nn.MSELoss()",
    "mae": "nn.L1Loss()",
    "huber": "nn.HuberLoss()",
}


def _layers_code(model_cfg: ModelConfig, n_inputs: int, n_outputs: int) -> str:
    lines = []
    width = n_inputs
    for i, spec in enumerate(model_cfg.hidden, start=1):
        lines.append(f"# hidden layer {i}: {spec.units} neurons, W {spec.units}x{width} + b {spec.units}")
        lines.append(f"nn.Linear({width}, {spec.units}),")
        lines.append(f"{_ACTIVATION_CODE[spec.activation]},")
        if model_cfg.dropout > 0:
            lines.append(f"nn.Dropout({model_cfg.dropout!r}),")
        width = spec.units
    lines.append(f"# output layer: raw scores (logits), W {n_outputs}x{width} + b {n_outputs}")
    lines.append(f"nn.Linear({width}, {n_outputs}),")
    return textwrap.indent("\n".join(lines), " " * 12)


def _init_code(model_cfg: ModelConfig) -> str:
    if model_cfg.init == "default":
        return "        pass  # PyTorch's default initialisation of nn.Linear is kept (init='default')\n"
    head = "        linears = [m for m in self.net if isinstance(m, nn.Linear)]\n"
    if model_cfg.init == "xavier":
        body = (
            "        for linear in linears:  # Xavier / Glorot uniform, zero biases\n"
            "            nn.init.xavier_uniform_(linear.weight)\n"
            "            nn.init.zeros_(linear.bias)\n"
        )
    elif model_cfg.init == "kaiming":
        nonlin = [_KAIMING_NONLINEARITY[s.activation] for s in model_cfg.hidden] + ["linear"]
        body = (
            f"        nonlinearities = {nonlin!r}  # the activation after each layer\n"
            "        for linear, nonlinearity in zip(linears, nonlinearities):  # Kaiming / He normal, zero biases\n"
            f"            nn.init.kaiming_normal_(linear.weight, a={_LEAKY_SLOPE}, mode=\"fan_in\", nonlinearity=nonlinearity)\n"
            "            nn.init.zeros_(linear.bias)\n"
        )
    else:
        body = (
            "        for linear in linears:  # all zeros: every neuron of a layer stays identical (symmetry)\n"
            "            nn.init.zeros_(linear.weight)\n"
            "            nn.init.zeros_(linear.bias)\n"
        )
    return head + body


def _optimizer_code(train_cfg: TrainConfig) -> str:
    o = train_cfg.optim
    wd = f", weight_decay={o.weight_decay!r}" if o.weight_decay else ""
    if o.name == "sgd":
        return f"torch.optim.SGD(self.parameters(), lr={o.lr!r}{wd})"
    if o.name == "momentum":
        nesterov = ", nesterov=True" if o.nesterov else ""
        return f"torch.optim.SGD(self.parameters(), lr={o.lr!r}, momentum={o.momentum!r}{nesterov}{wd})"
    if o.name == "adagrad":
        return f"torch.optim.Adagrad(self.parameters(), lr={o.lr!r}, eps={o.eps!r}{wd})"
    if o.name == "rmsprop":
        return f"torch.optim.RMSprop(self.parameters(), lr={o.lr!r}, alpha={o.alpha!r}, eps={o.eps!r}{wd})"
    if o.name in ("adam", "adamw"):
        cls = "Adam" if o.name == "adam" else "AdamW"
        wd_arg = f", weight_decay={o.weight_decay!r}" if (o.weight_decay or o.name == "adamw") else ""
        return f"torch.optim.{cls}(self.parameters(), lr={o.lr!r}, betas=({o.beta1!r}, {o.beta2!r}), eps={o.eps!r}{wd_arg})"
    return (f"LARS(self.parameters(), lr={o.lr!r}, momentum={o.momentum!r}, "
            f"weight_decay={o.weight_decay!r}, trust_coef={o.trust_coef!r})")


def _lars_source() -> str:
    from mlcore.optim import LARS

    return inspect.getsource(LARS) + "\n\n"


def export_code(model_cfg: ModelConfig, train_cfg: TrainConfig, n_inputs: int, n_outputs: int, task: Task | str) -> str:
    """The standalone script for this network and training configuration (see module docstring)."""
    task = Task(task)
    loss_kind = loss_name(task, model_cfg, n_outputs)
    n_params = sum(a * b + b for a, b in zip(
        [n_inputs, *[s.units for s in model_cfg.hidden]], [*[s.units for s in model_cfg.hidden], n_outputs]))
    arch = " -> ".join([str(n_inputs), *[f"{s.units} ({s.activation})" for s in model_cfg.hidden], str(n_outputs)])
    o = train_cfg.optim

    if loss_kind == "ce":
        loss_expr, metric_name = "self.loss_fn(out, y)", "accuracy"
        metric_expr = "(out.argmax(dim=1) == y).float().mean()"
        toy_target = "    y = (X @ torch.randn(N_INPUTS, N_OUTPUTS, generator=g)).argmax(dim=1)  # class ids 0..k-1\n"
    elif loss_kind == "bce":
        loss_expr, metric_name = "self.loss_fn(out.squeeze(1), y.float())", "accuracy"
        metric_expr = "((out.squeeze(1) > 0).long() == y).float().mean()"
        toy_target = "    y = (X @ torch.randn(N_INPUTS, generator=g) > 0).long()  # class ids 0/1\n"
    else:
        loss_expr, metric_name = "self.loss_fn(out.squeeze(1), y)", "r2"
        metric_expr = "1 - (out.squeeze(1) - y).pow(2).sum() / (y - y.mean()).pow(2).sum()"
        toy_target = "    y = X @ torch.randn(N_INPUTS, generator=g) + 0.1 * torch.randn(n, generator=g)\n"

    penalty_lines = []
    if model_cfg.l2 > 0:
        penalty_lines.append(f"        loss = loss + {model_cfg.l2!r} * sum(w.pow(2).sum() for w in weights)  # L2 penalty")
    if model_cfg.l1 > 0:
        penalty_lines.append(f"        loss = loss + {model_cfg.l1!r} * sum(w.abs().sum() for w in weights)  # L1 penalty")
    if penalty_lines:
        penalty = ("        weights = [m.weight for m in self.model.net if isinstance(m, nn.Linear)]\n"
                   + "\n".join(penalty_lines) + "\n")
    else:
        penalty = ""

    callbacks = "[]"
    if train_cfg.patience is not None:
        callbacks = f'[EarlyStopping(monitor="val_loss", mode="min", patience={train_cfg.patience})]'

    lars = _lars_source() if o.name == "lars" else ""
    script = f'''"""MLP Lab export: {arch}, {o.name} (lr={o.lr!r}), batch {train_cfg.batch_size}, {train_cfg.epochs} epochs.

A standalone script: PyTorch + PyTorch Lightning only. It trains on random toy data of the right
shape; replace ``toy_data`` with your own tensors (features as float32, targets as
{"int64 class ids" if task.is_classification else "float32 values"}).

    python this_script.py --epochs 5
"""

import argparse
{"from collections.abc import Iterable" + chr(10) if o.name == "lars" else ""}
import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

N_INPUTS = {n_inputs}
N_OUTPUTS = {n_outputs}
SEED = {train_cfg.seed}
BATCH_SIZE = {train_cfg.batch_size}
EPOCHS = {train_cfg.epochs}


class MLP(nn.Module):
    """The model: {arch} ({n_params} parameters)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
{_layers_code(model_cfg, n_inputs, n_outputs)}
        )
        self.reset_parameters()

    def reset_parameters(self):
{_init_code(model_cfg)}
    def forward(self, x):
        return self.net(x)


{lars}class MLPSystem(L.LightningModule):
    """The training system: loss, metric and optimizer around the model."""

    def __init__(self):
        super().__init__()
        self.model = MLP()
        self.loss_fn = {_LOSS_CODE[loss_kind]}

    def forward(self, x):
        return self.model(x)

    def _loss_and_metric(self, batch):
        x, y = batch
        out = self.model(x)
        loss = {loss_expr}
        metric = {metric_expr}  # {metric_name}
        return loss, metric

    def training_step(self, batch, batch_idx):
        loss, metric = self._loss_and_metric(batch)
        self.log_dict({{"train_loss": loss, "train_{metric_name}": metric}}, on_step=False, on_epoch=True)
{penalty}        return loss

    def validation_step(self, batch, batch_idx):
        loss, metric = self._loss_and_metric(batch)
        self.log_dict({{"val_loss": loss, "val_{metric_name}": metric}}, on_step=False, on_epoch=True)

    def configure_optimizers(self):
        return {_optimizer_code(train_cfg)}


def toy_data(n, seed):
    """Random inputs and a learnable random rule (replace with your data)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, N_INPUTS, generator=g)
{toy_target}    return X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--rows", type=int, default=512)
    args = parser.parse_args()

    torch.manual_seed(SEED)  # the initial weights depend on the seed
    system = MLPSystem()
    n_params = sum(p.numel() for p in system.parameters() if p.requires_grad)
    print(f"parameters: {{n_params}}")

    X, y = toy_data(args.rows, SEED)
    n_train = int(0.8 * len(y))
    train = DataLoader(TensorDataset(X[:n_train], y[:n_train]), batch_size=BATCH_SIZE, shuffle=True,
                       generator=torch.Generator().manual_seed(SEED))
    val = DataLoader(TensorDataset(X[n_train:], y[n_train:]), batch_size=len(y) - n_train)

    trainer = L.Trainer(max_epochs=args.epochs, accelerator="cpu", deterministic=True, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        callbacks={callbacks})
    trainer.fit(system, train, val)
    for name, value in sorted(trainer.callback_metrics.items()):
        print(f"{{name}}: {{float(value):.4f}}")


if __name__ == "__main__":
    main()
'''
    return script
