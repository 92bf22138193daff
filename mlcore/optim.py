"""Optimizers: a registry built from ``OptimConfig`` plus LARS, which torch lacks.

The course's table ("Otros optimizadores") is :data:`OPTIMIZER_INFO`: for each optimizer the
memory its state needs (``n`` = number of parameters, 4 bytes each in float32), how many
hyperparameters the course counts, its strengths and weaknesses (catalogue keys in
``mlcore/i18n/<lang>/model.json``), and which ``OptimConfig`` fields it reads.

Where torch offers a fused CPU kernel (SGD, Adam, AdamW, AdaGrad) we use it: one kernel for all
parameters is faster than a Python loop for the small models of the course. RMSprop uses the
``foreach`` path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from mlcore.config import OPTIMIZERS, OptimConfig
from mlcore.errors import ConfigError

__all__ = ["LARS", "OptimizerInfo", "OPTIMIZER_INFO", "make_optimizer", "apply_hyperparameters", "measure_state_bytes"]


class LARS(torch.optim.Optimizer):
    r"""Layer-wise Adaptive Rate Scaling (You, Gitman and Ginsburg, 2017, arXiv:1708.03888).

    Hand-written on purpose: torch has no LARS optimizer.

    Each parameter tensor (a layer's ``W`` or ``b``) gets its own *local learning rate* from the
    ratio of its weight norm to its gradient norm, so every layer moves by a similar fraction of
    its size whatever the scale of its gradient. For each tensor ``w`` with gradient ``g``, global
    learning rate ``lr`` (gamma), trust coefficient ``trust_coef`` (eta), ``weight_decay`` (beta)
    and ``momentum`` (m), one step is exactly::

        local_lr = eta * ||w|| / (||g|| + beta * ||w||)      if ||w|| > 0 and ||g|| > 0
                 = 1                                          otherwise (trust ratio 1)
        v        = m * v + lr * local_lr * (g + beta * w)     (v starts at 0)
        w        = w - v

    (norms are Euclidean norms over the whole tensor). With ``momentum=0`` no buffer is stored
    and ``w = w - lr * local_lr * (g + beta * w)``. State: one momentum buffer per tensor, i.e.
    ``4n`` bytes in float32 (the course's "~4n").
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 0.1,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        trust_coef: float = 0.001,
    ) -> None:
        if lr <= 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"Invalid momentum: {momentum}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay: {weight_decay}")
        if trust_coef <= 0:
            raise ValueError(f"Invalid trust_coef: {trust_coef}")
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, trust_coef=trust_coef)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            wd, eta = group["weight_decay"], group["trust_coef"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                w_norm = torch.linalg.vector_norm(p)
                g_norm = torch.linalg.vector_norm(g)
                # torch.where avoids a Python branch (and a sync) on the norms.
                trust = torch.where(
                    (w_norm > 0) & (g_norm > 0),
                    eta * w_norm / (g_norm + wd * w_norm),
                    torch.ones_like(w_norm),
                )
                update = g.add(p, alpha=wd) if wd != 0 else g.clone()
                update.mul_(trust * lr)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = torch.zeros_like(p)
                    buf.mul_(momentum).add_(update)
                    update = buf
                p.sub_(update)
        return loss


@dataclass(frozen=True)
class OptimizerInfo:
    """One row of the course's optimizer table."""

    name: str
    torch_name: str  # class used ("torch.optim.Adam", "mlcore.optim.LARS")
    state_formula: str  # as on the slide: "0", "4n", "~4n", "~8n"
    state_bytes_per_param: int  # 0, 4 or 8 (float32 copies of the parameters kept in the state)
    n_tunable: int  # the course's "# of tunable parameters"
    hyperparameters: tuple[str, ...]  # OptimConfig fields the course counts as tunable
    extra_fields: tuple[str, ...]  # other OptimConfig fields it reads (usually left at default)

    @property
    def label_key(self) -> str:
        return f"optim.{self.name}.label"

    @property
    def strengths_key(self) -> str:
        return f"optim.{self.name}.strengths"

    @property
    def weaknesses_key(self) -> str:
        return f"optim.{self.name}.weaknesses"

    @property
    def fields(self) -> tuple[str, ...]:
        return self.hyperparameters + self.extra_fields

    def expected_state_bytes(self, n_params: int) -> int:
        """The slide's formula for ``n`` parameters (without per-tensor step counters)."""
        return self.state_bytes_per_param * int(n_params)


OPTIMIZER_INFO: dict[str, OptimizerInfo] = {
    "sgd": OptimizerInfo("sgd", "torch.optim.SGD", "0", 0, 1, ("lr",), ("weight_decay",)),
    "momentum": OptimizerInfo(
        "momentum", "torch.optim.SGD", "4n", 4, 2, ("lr", "momentum"), ("nesterov", "weight_decay")
    ),
    "adagrad": OptimizerInfo("adagrad", "torch.optim.Adagrad", "~4n", 4, 1, ("lr",), ("eps", "weight_decay")),
    "rmsprop": OptimizerInfo(
        "rmsprop", "torch.optim.RMSprop", "~4n", 4, 3, ("lr", "alpha", "eps"), ("weight_decay",)
    ),
    "adam": OptimizerInfo("adam", "torch.optim.Adam", "~8n", 8, 3, ("lr", "beta1", "beta2"), ("eps", "weight_decay")),
    "adamw": OptimizerInfo(
        "adamw", "torch.optim.AdamW", "~8n", 8, 3, ("lr", "beta1", "beta2"), ("eps", "weight_decay")
    ),
    "lars": OptimizerInfo(
        "lars", "mlcore.optim.LARS", "~4n", 4, 3, ("lr", "momentum", "trust_coef"), ("weight_decay",)
    ),
}
assert tuple(OPTIMIZER_INFO) == OPTIMIZERS


def _group_values(cfg: OptimConfig) -> dict:
    """The param-group hyperparameters torch stores for ``cfg`` (also used to change them later)."""
    name = cfg.name
    if name == "sgd":
        return dict(lr=cfg.lr, momentum=0.0, nesterov=False, weight_decay=cfg.weight_decay)
    if name == "momentum":
        return dict(lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov, weight_decay=cfg.weight_decay)
    if name == "adagrad":
        return dict(lr=cfg.lr, eps=cfg.eps, weight_decay=cfg.weight_decay)
    if name == "rmsprop":
        return dict(lr=cfg.lr, alpha=cfg.alpha, eps=cfg.eps, weight_decay=cfg.weight_decay)
    if name in ("adam", "adamw"):
        return dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, weight_decay=cfg.weight_decay)
    if name == "lars":
        return dict(lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, trust_coef=cfg.trust_coef)
    raise ConfigError("err.optim.name", value=name, allowed=", ".join(OPTIMIZERS))


def make_optimizer(params: Iterable, cfg: OptimConfig) -> torch.optim.Optimizer:
    """Build the optimizer named by ``cfg.name`` with its hyperparameters from ``cfg``.

    ``weight_decay`` is the optimizer's own decay (coupled L2 in the gradient for SGD, AdaGrad,
    RMSprop, Adam and LARS; decoupled for AdamW). The explicit ``ModelConfig.l2`` penalty is
    separate and added to the loss by :class:`mlcore.system.MLPSystem`.
    """
    values = _group_values(cfg)
    name = cfg.name
    if name in ("sgd", "momentum"):
        if values["nesterov"] and values["momentum"] <= 0:
            raise ConfigError("err.optim.nesterov", momentum=values["momentum"])
        return torch.optim.SGD(params, fused=True, **values)
    if name == "adagrad":
        return torch.optim.Adagrad(params, fused=True, **values)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, foreach=True, **values)
    if name == "adam":
        return torch.optim.Adam(params, fused=True, **values)
    if name == "adamw":
        return torch.optim.AdamW(params, fused=True, **values)
    return LARS(params, **values)


def apply_hyperparameters(optimizer: torch.optim.Optimizer, cfg: OptimConfig) -> None:
    """Set the hyperparameters of ``cfg`` on an existing optimizer's param groups, keeping its
    state (momentum buffers, Adam moments): used when a user changes the learning rate between
    two training runs. ``cfg.name`` must match the optimizer it was built from."""
    values = _group_values(cfg)
    for group in optimizer.param_groups:
        for key, value in values.items():
            if key in group:
                group[key] = value


def measure_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes held by the optimizer's state tensors (call after at least one ``step``).

    This includes small per-tensor step counters (Adam, AdamW and AdaGrad keep a 4-byte
    ``step`` tensor per parameter tensor), which the course's ``~`` leaves out.
    """
    total = 0
    for per_param in optimizer.state.values():
        for value in per_param.values():
            if isinstance(value, torch.Tensor):
                total += value.numel() * value.element_size()
    return int(total)
