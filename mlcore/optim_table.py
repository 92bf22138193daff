"""The course's optimizer table with the state memory measured on a real model.

For each optimizer: build the model, take one optimizer step on a random mini-batch, and add up
the bytes of the optimizer's state tensors (``mlcore.optim.measure_state_bytes``). The course's
column says 0, 4n, ~4n, ~4n, ~8n, ~8n, ~4n bytes for n float32 parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mlcore.config import OPTIMIZERS, ModelConfig, OptimConfig
from mlcore.model import MLP
from mlcore.optim import OPTIMIZER_INFO, make_optimizer, measure_state_bytes


@dataclass(frozen=True)
class MemoryRow:
    name: str
    formula: str  # as on the slide
    expected_bytes: int  # the slide's formula for this model's n
    measured_bytes: int


def measure_memory(model_cfg: ModelConfig, n_inputs: int, n_outputs: int, seed: int = 0) -> tuple[int, list[MemoryRow]]:
    """(n parameters, one row per optimizer)."""
    rows = []
    n_params = 0
    x = torch.randn(8, n_inputs, generator=torch.Generator().manual_seed(seed))
    for name in OPTIMIZERS:
        model = MLP(model_cfg, n_inputs, n_outputs, seed=seed)
        n_params = sum(p.numel() for p in model.parameters())
        optimizer = make_optimizer(model.parameters(), OptimConfig(name=name))
        model(x).pow(2).mean().backward()
        optimizer.step()
        info = OPTIMIZER_INFO[name]
        rows.append(MemoryRow(name, info.state_formula, info.expected_state_bytes(n_params),
                              measure_state_bytes(optimizer)))
    return n_params, rows
