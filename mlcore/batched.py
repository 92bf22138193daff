"""Many small independent models trained together: k folds, sweep points, bootstrap resamples.

The contract (what every caller relies on): for members ``m_1 .. m_M``,
``fit_many(members)[i]`` equals ``mlcore.train.fit(m_i.arrays, m_i.model_cfg, m_i.train_cfg)``
(the same initial weights, mini-batch order, optimizer state, history and status, to 1e-5), and
``advance_many`` is resumable exactly like ``mlcore.train.advance``.

THIS VERSION IS THE SEQUENTIAL REFERENCE (one ``train.advance`` per member); the batched engine
(stacked weights, one Trainer call for the whole job) replaces its internals, not its API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from mlcore.config import ModelConfig, TrainConfig

__all__ = ["Member", "init_many", "advance_many", "fit_many"]


@dataclass(frozen=True, eq=False)
class Member:
    """One model of a batched job: its own data (``mlcore.train.TrainArrays``) and configs."""

    arrays: object  # mlcore.train.TrainArrays
    model_cfg: ModelConfig
    train_cfg: TrainConfig


def init_many(members: list[Member]) -> list:
    """The seeded initial ``TrainState`` of each member (as ``train.init_state``)."""
    from mlcore import train

    return [train.init_state(m.arrays, m.model_cfg, m.train_cfg) for m in members]


def advance_many(members: list[Member], states: list, max_epochs: int = 1,
                 max_seconds: float | None = None) -> list:
    """Advance every unfinished member by up to ``max_epochs`` epochs; stop after the epoch in
    which ``max_seconds`` is exceeded. Returns NEW states (inputs are not modified)."""
    from mlcore import train

    start = time.perf_counter()
    out = list(states)
    for i, (member, state) in enumerate(zip(members, states)):
        left = None if max_seconds is None else max_seconds - (time.perf_counter() - start)
        if left is not None and left <= 0:
            break
        out[i] = train.advance(member.arrays, member.model_cfg, member.train_cfg, state,
                               max_epochs=max_epochs, max_seconds=left)
    return out


def fit_many(members: list[Member]) -> list:
    """Whole runs of every member from fresh seeded weights."""
    states = init_many(members)
    longest = max((m.train_cfg.epochs for m in members), default=0)
    return advance_many(members, states, max_epochs=longest)
