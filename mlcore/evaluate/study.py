"""A study: several points (a fold set, a sweep value, a capacity of a bias-variance run), each a
set of batched-training members, trained a few points at a time as a ``ChunkJob``.

Every Evaluate computation (cross-validation, capacity and learning-curve sweeps, bias-variance,
the regularisation comparison) is a list of :class:`Point` s. :class:`StudyJob` is the one adapter
that runs them through ``mlcore.jobs.JobController``. Consecutive points form *point groups*
(:func:`point_groups`: at most ``GROUP_POINTS`` points and ``GROUP_MEMBERS`` members, a point is
never split): each chunk advances every member of the current point group together in ONE batched
call (``mlcore.batched.advance_many`` with ``pad_widths=True``, about ``CHUNK_SECONDS`` of work,
whole epochs), so the points of a sweep share one Lightning run per chunk and one optimizer, and
train together however their widths differ, each member still exactly its single run (stacked
where the shapes allow, else looped inside one autograd node: ``mlcore.batched_system``). When all the
group's members have ended, the same worker call scores them (losses and metrics on the full
training and validation sets, in eval mode, plus predictions on the point's extra inputs) and the
group's points are finished. A stopped job keeps its finished points (every finished group);
going on resumes the group in progress from its last chunk. :func:`run_inline` runs the same
chunks in the calling thread (tests, the Tune page's objective inside its own worker).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlcore.batched import Member

from mlcore.jobs import ChunkJob, run_inline  # noqa: F401  (run_inline: re-exported for callers)

CHUNK_SECONDS = 0.3
# A point group costs about one single run's step per step, plus a small share per member
# (``mlcore.batched_system``): bigger groups are faster (``bench_evaluate``'s 10-width sweep: about
# 2.3x one fit as one group, 2.6x as two), smaller ones keep more of a stopped study.
GROUP_POINTS = 5  # a Stop loses at most the points of the group in progress
GROUP_MEMBERS = 15  # bounds an epoch of a group (a bias-variance point of M = 20 is a group alone)
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


def point_groups(points: list[Point], max_points: int = GROUP_POINTS, max_members: int = GROUP_MEMBERS
                 ) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of consecutive points trained together: up to ``max_points`` points
    and ``max_members`` members (a point with more members forms a group alone)."""
    out, start, members = [], 0, 0
    for i, point in enumerate(points):
        n = len(point.members)
        if i > start and (i - start >= max_points or members + n > max_members):
            out.append((start, i))
            start, members = i, 0
        members += n
    if start < len(points):
        out.append((start, len(points)))
    return out


def train_group(members_per_point: tuple, states: list | None, max_seconds: float | None, extras: tuple):
    """One chunk (runs in a worker): advance the members of several points together; score them
    once all have ended.

    Returns ``(states, scores per point or None)``."""
    from mlcore import batched

    members = [m for ms in members_per_point for m in ms]
    if states is None:
        states = batched.init_many(members)
    longest = max(m.train_cfg.epochs for m in members)
    states = batched.advance_many(members, states, max_epochs=longest, max_seconds=max_seconds, pad_widths=True)
    if not all(_ended(m, s) for m, s in zip(members, states)):
        return states, None
    out, k = [], 0
    for ms, extra in zip(members_per_point, extras):
        out.append([score_member(m, s, extra) for m, s in zip(ms, states[k:k + len(ms)])])
        k += len(ms)
    return states, out


def train_point(members: tuple[Member, ...], states: list | None, max_seconds: float | None,
                extra_X: np.ndarray | None):
    """:func:`train_group` of one point: ``(states, scores or None)``."""
    states, scores = train_group((tuple(members),), states, max_seconds, (extra_X,))
    return states, None if scores is None else scores[0]


class StudyJob(ChunkJob):
    """The ``ChunkJob`` adapter for a study: points in order, one chunk at a time.

    ``meta`` says what the study belongs to (dataset, configuration, settings): the page shows it
    and compares it with the session's current choices to mark results out of date.
    """

    def __init__(self, kind: str, points: list[Point], meta: dict | None = None,
                 chunk_seconds: float = CHUNK_SECONDS, group_points: int = GROUP_POINTS,
                 group_members: int = GROUP_MEMBERS) -> None:
        self.kind = kind
        self.points = list(points)
        self.meta = dict(meta or {})
        self.chunk_seconds = chunk_seconds
        self.groups = point_groups(self.points, group_points, group_members)
        self.results: list[PointResult] = []
        self._states: list | None = None
        self._epochs_done = 0  # of the current group (for the progress bar)

    def _group(self) -> tuple[int, int]:
        """The point group in progress (finished groups are whole: results end on a boundary)."""
        done = len(self.results)
        return next(g for g in self.groups if g[0] == done)

    # ---- ChunkJob protocol ----------------------------------------------------------------------
    def next_call(self):
        a, b = self._group()
        points = self.points[a:b]
        return train_group, (tuple(p.members for p in points), self._states, self.chunk_seconds,
                             tuple(p.extra_X for p in points))

    def absorb(self, result) -> None:
        states, scores = result
        a, b = self._group()
        if scores is None:
            self._states = states
            self._epochs_done = sum(s.epoch for s in states)
            return
        for point, point_scores in zip(self.points[a:b], scores):
            self.results.append(PointResult(point.key, point_scores))
        self._states = None
        self._epochs_done = 0

    def done(self) -> bool:
        return len(self.results) >= len(self.points)

    def progress(self) -> float:
        if not self.points:
            return 1.0
        current = 0.0
        if not self.done():
            a, b = self._group()
            total = sum(m.train_cfg.epochs for p in self.points[a:b] for m in p.members)
            current = (b - a) * min(1.0, self._epochs_done / max(1, total))
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
