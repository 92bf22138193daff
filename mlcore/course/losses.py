"""Loss functions: which task uses which, each plotted against the prediction with its gradient,
and the same predictions scored by every regression loss (one outlier).

The values and gradients come from the real ``torch.nn`` loss modules the models train with
(``mlcore.system.make_loss``: ``CrossEntropyLoss``, ``BCEWithLogitsLoss``, ``MSELoss``,
``L1Loss``, ``HuberLoss``) and torch autograd, so the page shows exactly what training
minimises. Classification losses are plotted against the raw output (the logit) because that is
what the network produces and what the gradient flows into.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mlcore.errors import ConfigError

LOSSES = ("ce", "bce", "mse", "mae", "huber")
CLASSIFICATION_LOSSES = ("ce", "bce")
REGRESSION_LOSSES = ("mse", "mae", "huber")

# torch.nn class names, as the course slide points to https://docs.pytorch.org/docs/stable/nn.html#loss-functions
TORCH_NAMES = {
    "ce": "nn.CrossEntropyLoss",
    "bce": "nn.BCEWithLogitsLoss",
    "mse": "nn.MSELoss",
    "mae": "nn.L1Loss",
    "huber": "nn.HuberLoss",
}

# The formulas of torch.nn's documentation (per sample; reduction="mean" averages them).
FORMULAS = {
    "ce": r"\ell(z, c) = -\log \frac{e^{z_c}}{\sum_{j} e^{z_j}} = -z_c + \log \sum_j e^{z_j}",
    "bce": r"\ell(z, y) = -\bigl[\, y \log \sigma(z) + (1 - y) \log\bigl(1 - \sigma(z)\bigr) \bigr]",
    "mse": r"\ell(\hat y, y) = (\hat y - y)^2",
    "mae": r"\ell(\hat y, y) = |\hat y - y|",
    "huber": (r"\ell(\hat y, y) = \begin{cases} \tfrac12 (\hat y - y)^2 & |\hat y - y| < \delta \\"
              r" \delta \,\bigl(|\hat y - y| - \tfrac12 \delta\bigr) & \text{otherwise} \end{cases}"),
}


def formula(name: str, otherwise: str = "otherwise") -> str:
    """The LaTeX of loss ``name`` (``FORMULAS``), with ``otherwise`` (the session language's
    word, catalogue ``course.loss.otherwise``) in Huber's second case."""
    return FORMULAS[name].replace(r"\text{otherwise}", rf"\text{{{otherwise}}}")


GRADIENT_FORMULAS = {
    "ce": r"\frac{\partial \ell}{\partial z_c} = \operatorname{softmax}(z)_c - 1",
    "bce": r"\frac{\partial \ell}{\partial z} = \sigma(z) - y",
    "mse": r"\frac{\partial \ell}{\partial \hat y} = 2\,(\hat y - y)",
    "mae": r"\frac{\partial \ell}{\partial \hat y} = \operatorname{sign}(\hat y - y)",
    "huber": r"\frac{\partial \ell}{\partial \hat y} = \operatorname{clip}(\hat y - y,\, -\delta,\, \delta)",
}

CE_CLASSES = 3  # the cross-entropy curve: logits (z, 0, 0), true class 0


def check_loss(name: str, allowed: tuple[str, ...] = LOSSES) -> str:
    if name not in allowed:
        raise ConfigError("err.course.loss.name", value=name, allowed=", ".join(allowed))
    return name


def make_module(name: str, delta: float = 1.0) -> nn.Module:
    """The torch.nn loss module for ``name`` (mean reduction, as in training)."""
    check_loss(name)
    if name == "huber":
        if not delta > 0:
            raise ConfigError("err.course.loss.delta", value=delta)
        return nn.HuberLoss(delta=float(delta))
    return {"ce": nn.CrossEntropyLoss, "bce": nn.BCEWithLogitsLoss, "mse": nn.MSELoss, "mae": nn.L1Loss}[name]()


@dataclass(frozen=True)
class LossCurve:
    """``loss`` and its gradient ``grad`` against the prediction ``x`` (a logit for classification,
    the predicted value for regression), for the fixed ``target``."""

    name: str
    target: float
    x: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    delta: float = 1.0

    @property
    def is_classification(self) -> bool:
        return self.name in CLASSIFICATION_LOSSES


def loss_curve(name: str, target: float = 0.0, lo: float = -4.0, hi: float = 4.0, n: int = 401,
               delta: float = 1.0) -> LossCurve:
    """Sample the loss and its autograd gradient on ``n`` points of ``[lo, hi]``.

    - ``bce``: the logit ``z`` of one output, target ``y`` = ``target`` (0 or 1);
    - ``ce``: logits ``(z, 0, 0)`` of three classes, the true class is class 0 (``target`` ignored);
    - ``mse`` / ``mae`` / ``huber``: the prediction ``ŷ``, target ``y`` = ``target``.
    """
    check_loss(name)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi) or n < 2:
        raise ConfigError("err.course.loss.range", lo=lo, hi=hi)
    if name == "bce" and target not in (0, 1, 0.0, 1.0):
        raise ConfigError("err.course.loss.bce_target", value=target)
    module = make_module(name, delta)
    xs = np.linspace(lo, hi, n)
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    # one loss value per sample point: reduction over a single sample, done for every point at once
    if name == "ce":
        logits = torch.stack([x, torch.zeros_like(x), torch.zeros_like(x)], dim=1)
        targets = torch.zeros(n, dtype=torch.long)
        per_point = torch.stack([module(logits[i:i + 1], targets[i:i + 1]) for i in range(n)])
    else:
        y = torch.full((n,), float(target), dtype=torch.float64)
        per_point = torch.stack([module(x[i:i + 1], y[i:i + 1]) for i in range(n)])
    (grad,) = torch.autograd.grad(per_point.sum(), x)
    return LossCurve(name, float(target), xs, per_point.detach().numpy(), grad.numpy(), float(delta))


# ----------------------------------------------------------------------------------------------
# The outlier example: the same predictions scored by every regression loss
# ----------------------------------------------------------------------------------------------

BASE_ERRORS = (0.3, -0.5, 0.2, -0.1, 0.4, -0.3, 0.1, -0.2, 0.5)  # residuals of the well-predicted points


@dataclass(frozen=True)
class OutlierExample:
    """Nine points predicted well and one outlier. ``per_point[name]`` is each point's loss,
    ``total[name]`` their mean (torch's ``reduction="mean"``), ``outlier_share[name]`` the part of
    the total due to the outlier. ``best_shift[name]`` is the one number ``c`` that, subtracted
    from every prediction, minimises the loss (what a bias term would learn): the mean error for
    MSE, the median error for MAE, in between for Huber. The outlier drags only MSE's far."""

    y_true: np.ndarray
    y_pred: np.ndarray
    outlier_index: int
    per_point: dict
    per_point_grad: dict  # d(point's loss)/d(its prediction): how hard each point pulls the fit
    total: dict
    outlier_share: dict
    best_shift: dict
    delta: float


def outlier_example(outlier_error: float = 6.0, delta: float = 1.0) -> OutlierExample:
    """Targets ``y`` (a gentle line) and predictions ``ŷ = y + error``; the last point's error is
    ``outlier_error`` (e.g. a mis-typed measurement)."""
    if not np.isfinite(outlier_error) or abs(outlier_error) > 100:
        raise ConfigError("err.course.loss.outlier", value=outlier_error)
    errors = np.array(BASE_ERRORS + (float(outlier_error),))
    y_true = np.linspace(1.0, 5.5, len(errors))
    y_pred = y_true + errors
    yt = torch.tensor(y_true)
    per_point, grads, total, share, best = {}, {}, {}, {}, {}
    for name in REGRESSION_LOSSES:
        module = make_module(name, delta)
        yp = torch.tensor(y_pred, requires_grad=True)
        losses = torch.stack([module(yp[i:i + 1], yt[i:i + 1]) for i in range(len(errors))])
        (grad,) = torch.autograd.grad(losses.sum(), yp)
        points = losses.detach().numpy()
        per_point[name] = points
        grads[name] = grad.numpy()
        total[name] = float(module(yp.detach(), yt).item())
        share[name] = float(points[-1] / points.sum()) if points.sum() > 0 else 0.0
        best[name] = _best_constant(name, errors, delta)
    return OutlierExample(y_true, y_pred, len(errors) - 1, per_point, grads, total, share, best, float(delta))


def _best_constant(name: str, values: np.ndarray, delta: float) -> float:
    """The constant ``c`` minimising the mean loss between ``c`` and ``values``."""
    if name == "mse":
        return float(np.mean(values))
    if name == "mae":
        return float(np.median(values))
    from scipy.optimize import minimize_scalar

    module = make_module("huber", delta)
    v = torch.tensor(values)
    res = minimize_scalar(lambda c: module(torch.full_like(v, c), v).item(),
                          bounds=(float(values.min()), float(values.max())), method="bounded",
                          options={"xatol": 1e-8})
    return float(res.x)
