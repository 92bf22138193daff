"""Regularisation side by side: the same model and seed trained plainly, with an L2 penalty
(weight decay), with dropout, and with early stopping, to compare their train-validation gaps.

Each variant is one point with one member, so the four curves come from the same initial weights
and the same mini-batch order; only the regularisation differs. The plain variant has every
regulariser of the current configuration switched off (L1, L2, dropout, weight decay, patience),
so each other variant shows the effect of one regulariser alone.
"""

from __future__ import annotations

from dataclasses import replace

from mlcore.batched import Member
from mlcore.config import ModelConfig, TrainConfig
from mlcore.evaluate.study import Point, StudyJob

VARIANTS = ("none", "l2", "dropout", "early_stopping")
DEFAULT_L2 = 1e-3
DEFAULT_DROPOUT = 0.3
DEFAULT_PATIENCE = 10


def variant_configs(model_cfg: ModelConfig, train_cfg: TrainConfig, l2: float = DEFAULT_L2,
                    dropout: float = DEFAULT_DROPOUT, patience: int = DEFAULT_PATIENCE
                    ) -> dict[str, tuple[ModelConfig, TrainConfig]]:
    plain_model = replace(model_cfg, l1=0.0, l2=0.0, dropout=0.0)
    plain_train = replace(train_cfg, patience=None, optim=replace(train_cfg.optim, weight_decay=0.0))
    return {
        "none": (plain_model, plain_train),
        "l2": (replace(plain_model, l2=float(l2)), plain_train),
        "dropout": (replace(plain_model, dropout=float(dropout)), plain_train),
        "early_stopping": (plain_model, replace(plain_train, patience=int(patience))),
    }


def regularisation_job(arrays, model_cfg: ModelConfig, train_cfg: TrainConfig, l2: float = DEFAULT_L2,
                       dropout: float = DEFAULT_DROPOUT, patience: int = DEFAULT_PATIENCE,
                       meta: dict | None = None) -> StudyJob:
    configs = variant_configs(model_cfg, train_cfg, l2, dropout, patience)
    points = [Point(name, (Member(arrays, m, t),)) for name, (m, t) in configs.items()]
    return StudyJob("regularisation", points,
                    {"l2": float(l2), "dropout": float(dropout), "patience": int(patience), **(meta or {})})
