"""A study: several points (a fold set, a sweep value, a capacity of a bias-variance run), each a
group of batched-training members, trained point by point as a ``ChunkJob``.

Every Evaluate computation (cross-validation, capacity and learning-curve sweeps, bias-variance,
the regularisation comparison) is a list of :class:`Point` s. :class:`StudyJob` is the one adapter
that runs them through ``mlcore.jobs.JobController``: each chunk advances the members of the
current point together (``mlcore.batched.advance_many``, about ``CHUNK_SECONDS`` of work); when a
point's members have all ended, the same worker call scores them (losses and metrics on the full
training and validation sets, in eval mode, plus predictions on the point's extra inputs) and the
point is finished. A stopped job keeps its finished points. :func:`run_inline` runs the same chunks
in the calling thread (tests, the Tune page's objective inside its own worker).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlcore.batched import Member

from mlcore.jobs import ChunkJob, run_inline  # noqa: F401  (run_inline: re-exported for callers)

CHUNK_SECONDS = 0.3
_ENDED = ("done", "diverged", "early_stopped")


@dataclass(frozen=True, eq=False)
class Point:
    """One x value of a study and the members trained for it."""

    key: Any  # the x value (fold number, width, fraction, capacity, variant name)
    members: tuple[Member, ...]
    extra_X: np.ndarray | None = None  # inputs to predict on (bias-variance grids, test rows)


@dataclass
class MemberScore:
    """One trained member: its curves and its final scores (eval mode, whole splits)."""

    history: list  # EpochRecord
    status: str
    diverged_epoch: int | None
    train_loss: float
    val_loss: float
    train_metric: float
    val_metric: float
    val_pred: np.ndarray
    extra_pred: np.ndarray | None


@dataclass
class PointResult:
    key: Any
    scores: list[MemberScore]

    def values(self, name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in self.scores], dtype=float)

    @property
    def diverged(self) -> list[int]:
        """Indices of the members that diverged."""
        return [i for i, s in enumerate(self.scores) if s.status == "diverged"]


def _ended(member: Member, state) -> bool:
    return state.status in _ENDED or state.epoch >= member.train_cfg.epochs


def score_member(member: Member, state, extra_X: np.ndarray | None) -> MemberScore:
    """Final losses and metrics of ``state``'s weights on the member's whole train/val sets."""
    import torch

    from mlcore import train
    from mlcore.system import MLPSystem

    arrays = member.arrays
    model = train.load_model(member.model_cfg, arrays, state)
    system = MLPSystem(member.model_cfg, member.train_cfg.optim, model.n_inputs, model.n_outputs, arrays.task,
                       model=model, lean=True)
    with torch.no_grad():
        tl, tm = system.evaluate(torch.from_numpy(arrays.X_train), torch.from_numpy(arrays.y_train), "train")
        vl, vm = system.evaluate(torch.from_numpy(arrays.X_val), torch.from_numpy(arrays.y_val), "val")
    return MemberScore(
        history=list(state.history), status=state.status, diverged_epoch=state.diverged_epoch,
        train_loss=float(tl), val_loss=float(vl), train_metric=float(tm), val_metric=float(vm),
        val_pred=train.predict(model, arrays.X_val, arrays.task),
        extra_pred=None if extra_X is None else train.predict(model, extra_X, arrays.task),
    )


def train_point(members: tuple[Member, ...], states: list | None, max_seconds: float | None,
                extra_X: np.ndarray | None):
    """One chunk (runs in a worker): advance the point's members; score them once all have ended.

    Returns ``(states, scores or None)``."""
    from mlcore import batched

    members = list(members)
    if states is None:
        states = batched.init_many(members)
    longest = max(m.train_cfg.epochs for m in members)
    states = batched.advance_many(members, states, max_epochs=longest, max_seconds=max_seconds)
    if all(_ended(m, s) for m, s in zip(members, states)):
        return states, [score_member(m, s, extra_X) for m, s in zip(members, states)]
    return states, None


class StudyJob(ChunkJob):
    """The ``ChunkJob`` adapter for a study: points in order, one chunk at a time.

    ``meta`` says what the study belongs to (dataset, configuration, settings): the page shows it
    and compares it with the session's current choices to mark results out of date.
    """

    def __init__(self, kind: str, points: list[Point], meta: dict | None = None,
                 chunk_seconds: float = CHUNK_SECONDS) -> None:
        self.kind = kind
        self.points = list(points)
        self.meta = dict(meta or {})
        self.chunk_seconds = chunk_seconds
        self.results: list[PointResult] = []
        self._states: list | None = None
        self._epochs_done = 0  # of the current point (for the progress bar)

    # ---- ChunkJob protocol ----------------------------------------------------------------------
    def next_call(self):
        point = self.points[len(self.results)]
        return train_point, (point.members, self._states, self.chunk_seconds, point.extra_X)

    def absorb(self, result) -> None:
        states, scores = result
        point = self.points[len(self.results)]
        if scores is None:
            self._states = states
            self._epochs_done = sum(s.epoch for s in states)
            return
        self.results.append(PointResult(point.key, scores))
        self._states = None
        self._epochs_done = 0

    def done(self) -> bool:
        return len(self.results) >= len(self.points)

    def progress(self) -> float:
        if not self.points:
            return 1.0
        current = 0.0
        if not self.done():
            members = self.points[len(self.results)].members
            total = sum(m.train_cfg.epochs for m in members)
            current = min(1.0, self._epochs_done / max(1, total))
        return min(1.0, (len(self.results) + current) / len(self.points))

    def label(self) -> str:
        return f"{self.kind}: {len(self.results)}/{len(self.points)} points"

    # ---- results ------------------------------------------------------------------------------
    @property
    def n_points(self) -> int:
        return len(self.points)


@dataclass
class Band:
    """Mean and standard deviation over seeds of one curve, per x value."""

    x: list
    mean: np.ndarray
    std: np.ndarray
    values: list = field(default_factory=list)  # per x: the raw values over seeds


def band(results: list[PointResult], name: str) -> Band:
    vals = [r.values(name) for r in results]
    mean = np.array([np.nanmean(v) if np.isfinite(v).any() else np.nan for v in vals])
    std = np.array([np.nanstd(v) if np.isfinite(v).any() else np.nan for v in vals])
    return Band([r.key for r in results], mean, std, vals)
