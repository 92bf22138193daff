"""Many small independent models trained together: k folds, sweep points, bootstrap resamples.

The contract (what every caller relies on): for members ``m_1 .. m_M``,
``fit_many(members)[i]`` equals ``mlcore.train.fit(m_i.arrays, m_i.model_cfg, m_i.train_cfg)``
(the same initial weights, mini-batch order, optimizer state, history and status, to 1e-5), and
``advance_many`` is resumable exactly like ``mlcore.train.advance``.

The engine is :mod:`mlcore.batched_system`: all members of one call in ONE LightningModule and ONE
``Trainer.fit`` (stacked weights and ``torch.baddbmm`` per group of same-structure members, padded
widths and masked rows, each member's own parameters, optimizer state, mini-batch order, dropout
masks, early stopping and divergence). By default stacking is used only where it is bit-for-bit
(:mod:`mlcore.batched_system`, "Exactness"); ``exact=False`` trades that for speed. :func:`advance_sequential` is the plain reference
(one ``train.advance`` per member), kept for tests and benchmarks.

Members that are already ``diverged`` / ``early_stopped`` are returned unchanged; members with no
epochs left get status ``done`` (as ``train.advance``). Lightning is imported only when a call
actually trains.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from mlcore.config import ModelConfig, TrainConfig

__all__ = ["Member", "init_many", "advance_many", "fit_many", "advance_sequential"]


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
                 max_seconds: float | None = None, pad_widths: bool = False, lockstep: bool = True,
                 exact: bool = True) -> list:
    """Advance every unfinished member by up to ``max_epochs`` epochs (never past its own
    ``train_cfg.epochs``), all in one batched Lightning run; stop after the epoch in which
    ``max_seconds`` is exceeded. Returns NEW states (inputs are not modified).

    Members of one structure share stacked tensors only where that computes bit-for-bit what
    their single runs compute (a probe per shape, see :mod:`mlcore.batched_system`); the others
    train in one looped group (each its own matmuls, one autograd node and optimizer) or as
    singles, inside the same call. ``pad_widths=True`` puts members of different widths (same
    depth) in one group too (the fast capacity sweep, still exact). With ``exact=False`` groups
    are stacked, and padded, without the probe: equal to the single runs only up to float
    rounding, which Adam amplifies over long runs. ``lockstep=False`` keeps one optimizer tensor
    per member even where the members could share one stacked optimizer (slower for many members,
    the same result)."""
    import warnings
    from dataclasses import replace

    import torch

    from mlcore import train
    from mlcore.errors import ConfigError

    if len(members) != len(states):
        raise ConfigError("err.batched.lengths", members=len(members), states=len(states))
    out = list(states)
    todo: list[tuple[int, int]] = []
    for i, (member, state) in enumerate(zip(members, states)):
        if state.status in train._FINAL:
            continue
        n = min(int(max_epochs), member.train_cfg.epochs - state.epoch)
        if n <= 0:
            out[i] = replace(state, status="done")
        else:
            todo.append((i, n))
    if not todo:
        return out
    import lightning  # noqa: F401  (imported before silencing: importing it resets its log level)

    from mlcore import batched_system

    train._silence_lightning()
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=train._IGNORED_WARNINGS)
        results = batched_system.run([members[i] for i, _ in todo], [states[i] for i, _ in todo],
                                     [n for _, n in todo], max_seconds, pad_widths, lockstep, exact)
    for (i, _), state in zip(todo, results):
        out[i] = state
    return out


def advance_sequential(members: list[Member], states: list, max_epochs: int = 1,
                       max_seconds: float | None = None) -> list:
    """The reference: one ``train.advance`` per member, in order (same contract as ``advance_many``)."""
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


def fit_many(members: list[Member], pad_widths: bool = False, lockstep: bool = True, exact: bool = True) -> list:
    """Whole runs of every member from fresh seeded weights."""
    states = init_many(members)
    longest = max((m.train_cfg.epochs for m in members), default=0)
    return advance_many(members, states, max_epochs=longest, pad_widths=pad_widths, lockstep=lockstep, exact=exact)
