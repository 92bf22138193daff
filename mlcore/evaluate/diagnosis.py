"""Curve diagnosis: is a run unstable, underfitting, overfitting, or a good fit? ("¿Nuestro modelo es correcto?")

Hand-written on purpose: no library classifies learning curves; the rules below are the ones a
teacher applies by eye, written down so a class can check them. They read the per-epoch
``train_loss`` and ``val_loss`` of a run (``mlcore.train.EpochRecord``), so they work for every
task and dataset, and, where the caller knows it, the **baseline**: the training loss of the best
constant prediction (:func:`baseline_losses`: the class frequencies, the mean or the median), the
loss of a model that learned nothing. Without it, a run whose first epoch blew up (a learning rate
far too high: loss 650 in epoch 1, then stuck at chance, 0.69) looked like a good fit, because its
loss "fell" by 99.9 % from the first epoch.

The thresholds (named constants of this module):

- ``MIN_EPOCHS`` (5): with fewer epochs nothing is said (verdict ``"short"``).
- ``SMOOTH_WINDOW`` (5): validation and training losses are smoothed with a centred moving median
  of this many epochs before any comparison, so a noisy plateau does not look like a rise.
- Unstable (only with a baseline): the training loss of some epoch is more than
  ``BLOWUP_FACTOR`` (10) times the baseline, or the loss of predicting zero where that is larger
  (where an untrained network starts), and the run ends with a high loss (the ``HIGH_LOSS_RATIO``
  rule against the baseline): the steps are so large, from a learning rate too high or inputs
  left unscaled, that the loss shot up and training never recovered. A run whose first epoch
  was high but that then learned (Adam on unscaled inputs) is judged by the other rules.
- Underfitting, any of:
  - ``HIGH_LOSS_RATIO`` (0.6): the smoothed final training loss is still at least 60 % of the
    first epoch's, or of the baseline's where that is lower (training removed less than 40 % of
    the loss, or the model is not much better than always giving the same answer), or
  - ``STEEP_DROP`` (0.05): over the last ``TAIL_FRACTION`` (20 %) of the epochs (at least
    ``MIN_EPOCHS``) the smoothed training loss fell by more than 5 % of its value (still falling
    steeply at the end: more epochs would help).
- Overfitting, all of:
  - the best (lowest) validation epoch is followed by at least ``OVERFIT_MIN_EPOCHS`` (5) epochs
    and ``OVERFIT_MIN_FRACTION`` (15 %) of the run;
  - the smoothed validation loss at the end is at least ``OVERFIT_RISE`` (10 %) above its smoothed
    minimum (a sustained rise, larger than the noise the median filter leaves);
  - the rise is a trend, not noise: Kendall's tau between epoch and validation loss after the best
    epoch is at least ``OVERFIT_TREND`` (0.3);
  - the gap widens: the smoothed (validation - training) gap at the end exceeds the gap at the best
    epoch by at least ``GAP_WIDEN`` (10 %) of the best validation loss.
- Otherwise a good fit.

Each verdict carries catalogue keys for a short explanation and a suggested next step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_EPOCHS = 5
SMOOTH_WINDOW = 5
HIGH_LOSS_RATIO = 0.6
TAIL_FRACTION = 0.2
STEEP_DROP = 0.05
OVERFIT_MIN_EPOCHS = 5
OVERFIT_MIN_FRACTION = 0.15
OVERFIT_RISE = 0.10
OVERFIT_TREND = 0.3
GAP_WIDEN = 0.10
BLOWUP_FACTOR = 10.0

VERDICTS = ("short", "unstable", "underfit", "overfit", "good")


@dataclass(frozen=True)
class Diagnosis:
    """What the curves say. ``best_epoch`` counts from 1 (the lowest validation loss)."""

    verdict: str  # one of VERDICTS
    reasons: tuple[str, ...]  # catalogue keys of the rules that fired ("diag.reason.*")
    best_epoch: int | None
    best_val_loss: float
    final_gap: float  # smoothed val - train loss at the end
    rise: float  # (smoothed final val - smoothed min val) / smoothed min val
    tail_drop: float  # relative fall of the smoothed training loss over the tail
    loss_ratio: float  # smoothed final train loss / first train loss (or the baseline's, if lower)
    baseline: float | None = None  # training loss of the best constant prediction, where known
    peak_loss: float = float("nan")  # highest training loss of an epoch
    peak_epoch: int | None = None  # its epoch (from 1)

    @property
    def peak_times(self) -> float:
        """The highest epoch's training loss over the baseline (nan without one)."""
        return self.peak_loss / self.baseline if self.baseline else float("nan")

    @property
    def explanation_key(self) -> str:
        return f"diag.{self.verdict}.text"

    @property
    def advice_key(self) -> str:
        if self.verdict == "underfit" and self.reasons == ("diag.reason.falling",):
            return "diag.underfit.advice_epochs"
        return f"diag.{self.verdict}.advice"


def smooth(values: np.ndarray, window: int = SMOOTH_WINDOW) -> np.ndarray:
    """Centred moving median (the window shrinks at both ends)."""
    values = np.asarray(values, dtype=float)
    half = max(0, int(window) // 2)
    return np.array([np.median(values[max(0, i - half): i + half + 1]) for i in range(len(values))])


def _kendall(values: np.ndarray) -> float:
    if len(values) < 3 or np.all(values == values[0]):
        return 0.0
    from scipy.stats import kendalltau

    tau = kendalltau(np.arange(len(values)), values).statistic
    return float(tau) if np.isfinite(tau) else 0.0


@dataclass(frozen=True)
class Baseline:
    """Reference losses of a training set (see :func:`baseline_losses`)."""

    constant: float  # the best constant prediction's loss: a model that learned nothing
    zero: float  # the loss of predicting 0 (zero logits, or 0 for a regression): where training starts


def baseline_losses(y_train, task, loss: str | None = None) -> Baseline:
    """The training loss of the best constant prediction, and of predicting zero.

    Classification (cross-entropy, either head): the best constant predicts the class frequencies,
    its loss is their entropy; zero logits predict equal classes, ``log K``. Regression: MSE of
    the mean (the variance), MAE of the median (the mean absolute deviation), Huber (delta 1,
    torch's default) at its own best constant; zero costs ``mean(y**2)``, ``mean|y|``, Huber of y.
    The target is not standardised, so a regression's first epochs start near ``zero``, which can
    be many times ``constant`` (prices of 200 000 +- 50 000: 17 times); the blow-up rule is
    measured from the larger of the two.
    """
    from mlcore.config import Task

    y = np.asarray(y_train, dtype=float).ravel()
    if len(y) == 0:
        return Baseline(float("nan"), float("nan"))
    task = Task(task)
    if task.is_classification:
        _, counts = np.unique(y.astype(int), return_counts=True)
        p = counts / counts.sum()
        return Baseline(float(-(p * np.log(p)).sum()), float(np.log(max(2, len(counts)))))
    if loss == "mae":
        return Baseline(float(np.abs(y - np.median(y)).mean()), float(np.abs(y).mean()))
    if loss == "huber":
        from scipy.optimize import minimize_scalar

        def huber(c: float) -> float:
            r = np.abs(y - c)
            return float(np.where(r < 1.0, 0.5 * r ** 2, r - 0.5).mean())

        best = minimize_scalar(huber, bounds=(float(y.min()), float(y.max())), method="bounded")
        return Baseline(float(min(best.fun, huber(float(np.median(y))))), huber(0.0))
    return Baseline(float(y.var()), float((y ** 2).mean()))


def diagnose(train_loss, val_loss, baseline: Baseline | None = None) -> Diagnosis:
    """Classify one run's curves (sequences of per-epoch losses, the same length); ``baseline``:
    :func:`baseline_losses` of the training set, where known (the unstable and chance rules need it)."""
    train = np.asarray(train_loss, dtype=float)
    val = np.asarray(val_loss, dtype=float)
    n = min(len(train), len(val))
    train, val = train[:n], val[:n]
    finite = np.isfinite(train) & np.isfinite(val)
    epochs = np.arange(1, n + 1)[finite]
    train, val = train[finite], val[finite]
    n = len(val)
    if baseline is not None and not all(math.isfinite(v) and v > 0 for v in (baseline.constant, baseline.zero)):
        baseline = None
    if n == 0:
        return Diagnosis("short", (), None, float("nan"), float("nan"), 0.0, 0.0, float("nan"))
    best = int(np.argmin(val))
    if n < MIN_EPOCHS:
        return Diagnosis("short", (), int(epochs[best]), float(val[best]), float(val[-1] - train[-1]), 0.0, 0.0,
                         float("nan"))
    s_train, s_val = smooth(train), smooth(val)
    gap = s_val - s_train
    min_val = float(s_val.min())
    scale = max(abs(min_val), 1e-12)
    rise = (float(s_val[-1]) - min_val) / scale
    tail = max(MIN_EPOCHS, int(round(TAIL_FRACTION * n)))
    start = s_train[max(0, n - tail)]
    tail_drop = (float(start) - float(s_train[-1])) / max(abs(float(start)), 1e-12)
    reference = float(train[0]) if baseline is None else min(float(train[0]), baseline.constant)
    loss_ratio = float(s_train[-1]) / max(abs(reference), 1e-12)
    peak = int(np.argmax(train))
    extra = {"baseline": baseline.constant if baseline is not None else None, "peak_loss": float(train[peak]), "peak_epoch": int(epochs[peak])}

    after = n - 1 - best
    reasons_over = []
    if after >= max(OVERFIT_MIN_EPOCHS, OVERFIT_MIN_FRACTION * n) and rise >= OVERFIT_RISE:
        trend = _kendall(val[best:])
        widening = float(gap[-1]) - float(gap[best]) >= GAP_WIDEN * scale
        if trend >= OVERFIT_TREND and widening:
            reasons_over = ["diag.reason.rising", "diag.reason.gap"]
    reasons_under = []
    if loss_ratio >= HIGH_LOSS_RATIO:  # against the first epoch, or a constant prediction if that is lower
        reasons_under.append("diag.reason.high" if reference == float(train[0]) else "diag.reason.chance")
    if tail_drop > STEEP_DROP:
        reasons_under.append("diag.reason.falling")

    blowup = baseline is not None and float(train[peak]) > BLOWUP_FACTOR * max(baseline.constant, baseline.zero)
    if blowup and "diag.reason.chance" in reasons_under:
        verdict, reasons = "unstable", ("diag.reason.blowup", "diag.reason.chance")
    elif reasons_over:
        verdict, reasons = "overfit", tuple(reasons_over)
    elif reasons_under:
        verdict, reasons = "underfit", tuple(reasons_under)
    else:
        verdict, reasons = "good", ()
    return Diagnosis(verdict, reasons, int(epochs[best]), float(val[best]), float(gap[-1]), rise, tail_drop,
                     loss_ratio, **extra)


def diagnose_history(history, baseline: Baseline | None = None) -> Diagnosis:
    """:func:`diagnose` on a list of ``EpochRecord``."""
    return diagnose([r.train_loss for r in history], [r.val_loss for r in history], baseline)
