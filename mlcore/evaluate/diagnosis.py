"""Curve diagnosis: is a run underfitting, overfitting, or a good fit? ("¿Nuestro modelo es correcto?")

Hand-written on purpose: no library classifies learning curves; the rules below are the ones a
teacher applies by eye, written down so a class can check them. They read only the per-epoch
``train_loss`` and ``val_loss`` of a run (``mlcore.train.EpochRecord``), so they work for every
task and dataset.

The thresholds (named constants of this module):

- ``MIN_EPOCHS`` (5): with fewer epochs nothing is said (verdict ``"short"``).
- ``SMOOTH_WINDOW`` (5): validation and training losses are smoothed with a centred moving median
  of this many epochs before any comparison, so a noisy plateau does not look like a rise.
- Underfitting, either of:
  - ``HIGH_LOSS_RATIO`` (0.6): the smoothed final training loss is still at least 60 % of the
    first epoch's (training removed less than 40 % of the loss: both errors are high), or
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

VERDICTS = ("short", "underfit", "overfit", "good")


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
    loss_ratio: float  # smoothed final train loss / first train loss

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


def diagnose(train_loss, val_loss) -> Diagnosis:
    """Classify one run's curves (sequences of per-epoch losses, the same length)."""
    train = np.asarray(train_loss, dtype=float)
    val = np.asarray(val_loss, dtype=float)
    n = min(len(train), len(val))
    train, val = train[:n], val[:n]
    finite = np.isfinite(train) & np.isfinite(val)
    train, val = train[finite], val[finite]
    n = len(val)
    if n == 0:
        return Diagnosis("short", (), None, float("nan"), float("nan"), 0.0, 0.0, float("nan"))
    best = int(np.argmin(val))
    if n < MIN_EPOCHS:
        return Diagnosis("short", (), best + 1, float(val[best]), float(val[-1] - train[-1]), 0.0, 0.0,
                         float("nan"))
    s_train, s_val = smooth(train), smooth(val)
    gap = s_val - s_train
    min_val = float(s_val.min())
    scale = max(abs(min_val), 1e-12)
    rise = (float(s_val[-1]) - min_val) / scale
    tail = max(MIN_EPOCHS, int(round(TAIL_FRACTION * n)))
    start = s_train[max(0, n - tail)]
    tail_drop = (float(start) - float(s_train[-1])) / max(abs(float(start)), 1e-12)
    loss_ratio = float(s_train[-1]) / max(abs(float(train[0])), 1e-12)

    after = n - 1 - best
    reasons_over = []
    if after >= max(OVERFIT_MIN_EPOCHS, OVERFIT_MIN_FRACTION * n) and rise >= OVERFIT_RISE:
        trend = _kendall(val[best:])
        widening = float(gap[-1]) - float(gap[best]) >= GAP_WIDEN * scale
        if trend >= OVERFIT_TREND and widening:
            reasons_over = ["diag.reason.rising", "diag.reason.gap"]
    reasons_under = []
    if loss_ratio >= HIGH_LOSS_RATIO:
        reasons_under.append("diag.reason.high")
    if tail_drop > STEEP_DROP:
        reasons_under.append("diag.reason.falling")

    if reasons_over:
        verdict, reasons = "overfit", tuple(reasons_over)
    elif reasons_under:
        verdict, reasons = "underfit", tuple(reasons_under)
    else:
        verdict, reasons = "good", ()
    return Diagnosis(verdict, reasons, best + 1, float(val[best]), float(gap[-1]), rise, tail_drop, loss_ratio)


def diagnose_history(history) -> Diagnosis:
    """:func:`diagnose` on a list of ``EpochRecord``."""
    return diagnose([r.train_loss for r in history], [r.val_loss for r in history])
