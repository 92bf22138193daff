"""SHAP values for an MLP: a fast DeepLIFT pass, checked for additivity, with an exact fallback.

Hand-written on purpose: ``shap.DeepExplainer`` computes the same numbers with hooks, one row at a
time (about 1 s for 100 rows on our machines, and shap takes about 5 s to import), and it falls back
silently to plain gradients for modules it does not know (SiLU, Mish, ...), which gives wrong values.
Here one vectorised pass does every (row, background row) pair at once with the DeepLIFT *rescale*
rule, the rule DeepExplainer applies (Lundberg & Lee 2017; Shrikumar et al. 2017):

- an affine layer passes multipliers through its weight matrix;
- an element-wise activation ``a`` multiplies them by ``(a(z) - a(z0)) / (z - z0)`` for each pair
  (its derivative at ``z`` where ``|z - z0| < 1e-6``, as shap does);
- the SHAP value of feature ``j`` for row ``x`` is the mean over background rows ``b`` of
  ``m_j(x, b) * (x_j - b_j)``.

Each pair's multipliers sum exactly to ``f(x) - f(b)`` (the chain of rescaled slopes telescopes),
so the values add up to ``f(x) - E[f(b)]``. For a linear model they are ``w * (x - E[x])``. The
additivity is measured on every call; only modules the pass knows are accepted, and any other
model, or a failed additivity check, goes to shap's ``KernelExplainer`` (``l1_reg=False``: its
default keeps only 10 features), with a notice. Exact when it can enumerate all coalitions.

The explained output is stated by :class:`OutputSpec`: the logit (raw score) or the probability of
one class, or the predicted value for regression. A probability is explained through the softmax
(or sigmoid) with the same rescale rule on the chosen class's score, as DeepExplainer does for a
final ``Softmax`` module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["OutputSpec", "ShapResult", "output_specs", "model_outputs", "fast_path_problem",
           "deeplift_shap", "kernel_shap", "explain_shap", "ADDITIVITY_TOL"]

ADDITIVITY_TOL = 1e-4
_RESCALE_EPS = 1e-6
_PAIR_BUDGET = 4_000_000  # rows x background x outputs x width held at once


@dataclass(frozen=True)
class OutputSpec:
    """What is explained: ``kind`` "logit" | "probability" | "value", for class ``cls``."""

    kind: str
    cls: int = 0


def output_specs(task, n_outputs: int, n_classes: int, kind: str) -> tuple[OutputSpec, ...]:
    """One spec per class (classification) or the single regression output."""
    from mlcore.config import Task

    if Task(task) is Task.REGRESSION:
        return (OutputSpec("value", 0),)
    if kind not in ("logit", "probability"):
        raise ValueError(kind)
    return tuple(OutputSpec(kind, c) for c in range(max(2, n_classes)))


def _head(z, specs, n_outputs: int):
    """Explained outputs (n, K) from the model's raw outputs z (n, n_outputs), torch."""
    import torch

    cols = []
    for s in specs:
        if s.kind == "value":
            cols.append(z[:, 0])
        elif n_outputs == 1:  # binary logit head: score of class 1 is z, of class 0 is -z
            sign = 1.0 if s.cls == 1 else -1.0
            cols.append(sign * z[:, 0] if s.kind == "logit" else torch.sigmoid(sign * z[:, 0]))
        elif s.kind == "logit":
            cols.append(z[:, s.cls])
        else:
            cols.append(torch.softmax(z, dim=1)[:, s.cls])
    return torch.stack(cols, dim=1)


def _in_dtype(model, dtype):
    """``model`` itself when its parameters already have ``dtype``, else a converted copy."""
    import copy

    param = next(model.parameters(), None)
    if param is None or param.dtype == dtype:
        return model
    return copy.deepcopy(model).to(dtype)


def model_outputs(model, X: np.ndarray, specs) -> np.ndarray:
    """The explained outputs of ``model`` for rows ``X``: (n, K) in ``X``'s float dtype."""
    import torch

    dtype = torch.float64 if np.asarray(X).dtype == np.float64 else torch.float32
    model = _in_dtype(model, dtype)
    with torch.no_grad():
        z = model(torch.as_tensor(np.asarray(X), dtype=dtype))
        return _head(z, specs, z.shape[1]).numpy()


# ---------------------------------------------------------------------------------------------
# The fast path
# ---------------------------------------------------------------------------------------------


def _modules(model):
    from torch import nn

    net = getattr(model, "net", model)
    if isinstance(net, nn.Sequential):
        return list(net)
    return [model]


def fast_path_problem(model) -> str | None:
    """None if the fast path knows every module of ``model``, else the first unknown module's name."""
    from torch import nn

    known = (nn.Linear, nn.Dropout, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Identity)
    for m in _modules(model):
        if type(m) not in known:
            return type(m).__name__
    return None


def _rescale(act, zx, zb):
    """Per-pair multipliers (n, m, h) of an element-wise activation between zx (n, h) and zb (m, h)."""
    import torch

    ax, ab = act(zx), act(zb)
    dz = zx[:, None, :] - zb[None, :, :]
    da = ax[:, None, :] - ab[None, :, :]
    with torch.enable_grad():
        z = zx.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(act(z).sum(), z)
    small = dz.abs() < _RESCALE_EPS
    safe = torch.where(small, torch.ones_like(dz), dz)
    return torch.where(small, grad[:, None, :].expand_as(dz), da / safe)


def _head_multipliers(zx, zb, specs, n_outputs: int):
    """(n, m, K, n_outputs) multipliers from the explained outputs to the raw outputs."""
    import torch

    n, m = zx.shape[0], zb.shape[0]
    out = torch.zeros((n, m, len(specs), n_outputs), dtype=zx.dtype)
    for k, s in enumerate(specs):
        if s.kind == "value":
            out[:, :, k, 0] = 1.0
            continue
        if n_outputs == 1:
            sign = 1.0 if s.cls == 1 else -1.0
            col, zxc, zbc = 0, sign * zx[:, 0:1], sign * zb[:, 0:1]
            if s.kind == "logit":
                out[:, :, k, 0] = sign
            else:
                out[:, :, k, 0] = sign * _rescale(torch.sigmoid, zxc, zbc)[:, :, 0]
            continue
        col = s.cls
        if s.kind == "logit":
            out[:, :, k, col] = 1.0
        else:  # softmax: shap's element-wise rescale on the chosen class's score ...
            sx = torch.softmax(zx, dim=1)
            px, pb = sx[:, col], torch.softmax(zb, dim=1)[:, col]
            dz_all = zx[:, None, :] - zb[None, :, :]  # (n, m, out)
            dz = dz_all[:, :, col]
            dp = px[:, None] - pb[None, :]
            small = dz.abs() < _RESCALE_EPS
            out[:, :, k, col] = torch.where(small, torch.zeros_like(dz), dp / torch.where(small, torch.ones_like(dz), dz))
            if bool(small.any()):
                # ... except where the class's own score barely moves while the others do (there
                # the element-wise rule is not additive): the gradient direction at x, scaled so
                # that this pair's multipliers add up to its change exactly.
                grad = -sx[:, col:col + 1] * sx
                grad[:, col] += sx[:, col]  # dp_c/dz_j = p_c (1[j=c] - p_j)
                g = grad[:, None, :].expand_as(dz_all)
                proj = (g * dz_all).sum(-1)
                ok = proj.abs() > 1e-12
                factor = torch.where(ok, dp / torch.where(ok, proj, torch.ones_like(proj)), torch.ones_like(proj))
                scaled = g * factor[..., None]
                out[:, :, k, :] = torch.where(small[..., None], scaled, out[:, :, k, :])
    return out


def _deeplift_block(ops, X, B, specs, n_outputs):
    import torch

    # forward, keeping the input of every activation
    hx, hb = X, B
    saved = []
    for kind, payload in ops:
        if kind == "affine":
            W, b = payload
            hx, hb = hx @ W.T + b, hb @ W.T + b
        else:
            saved.append((hx, hb))
            hx, hb = payload(hx), payload(hb)
    M = _head_multipliers(hx, hb, specs, n_outputs)  # (n, m, K, out)
    acts = iter(reversed(saved))
    for kind, payload in reversed(ops):
        if kind == "affine":
            M = M @ payload[0]
        else:
            zx, zb = next(acts)
            M = M * _rescale(payload, zx, zb)[:, :, None, :]
    diff = X[:, None, :] - B[None, :, :]  # (n, m, d)
    return (M * diff[:, :, None, :]).mean(dim=1)  # (n, K, d)


def _ops(model, dtype):
    import torch
    from torch import nn

    ops = []
    for m in _modules(model):
        if isinstance(m, nn.Linear):
            ops.append(("affine", (m.weight.detach().to(dtype), m.bias.detach().to(dtype)
                                   if m.bias is not None else torch.zeros(m.out_features, dtype=dtype))))
        elif isinstance(m, (nn.Dropout, nn.Identity)):
            continue
        else:
            ops.append(("act", m))
    return ops


def deeplift_shap(model, X: np.ndarray, background: np.ndarray, specs) -> np.ndarray:
    """SHAP values (n, K, d) by the vectorised DeepLIFT rescale pass (fast path; see module doc).

    Computed in ``X``'s float dtype (float64 gives 1e-12 agreement on a linear model)."""
    import torch

    problem = fast_path_problem(model)
    if problem is not None:
        raise ValueError(f"fast path does not know {problem}")
    dtype = torch.float64 if np.asarray(X).dtype == np.float64 else torch.float32
    model = _in_dtype(model, dtype).eval()
    Xt = torch.as_tensor(np.asarray(X), dtype=dtype)
    Bt = torch.as_tensor(np.asarray(background), dtype=dtype)
    ops = _ops(model, dtype)
    widths = [Xt.shape[1]] + [p[0].shape[0] for k, p in ops if k == "affine"]
    n_outputs = widths[-1]
    per_row = max(1, Bt.shape[0] * len(specs) * max(widths))
    step = max(1, _PAIR_BUDGET // per_row)
    with torch.no_grad():
        parts = [_deeplift_block(ops, Xt[i:i + step], Bt, specs, n_outputs) for i in range(0, len(Xt), step)]
    return torch.cat(parts).numpy()


def kernel_shap(model, X: np.ndarray, background: np.ndarray, specs, nsamples: int | None = None) -> np.ndarray:
    """shap's KernelExplainer on the explained outputs (model-agnostic fallback), (n, K, d).

    ``l1_reg=False`` keeps every feature (shap's default keeps 10). With ``d <= 11`` features
    ``nsamples = 2**d`` enumerates every coalition, so the values are exact."""
    import shap

    X = np.asarray(X, dtype=np.float64)
    B = np.asarray(background, dtype=np.float64)
    d = X.shape[1]

    def f(rows):
        return model_outputs(model, np.asarray(rows, dtype=np.float32), specs).astype(np.float64)

    if nsamples is None:
        nsamples = 2 ** d if d <= 11 else 2 * d + 2048
    explainer = shap.KernelExplainer(f, B, link="identity")
    values = explainer.shap_values(X, nsamples=nsamples, l1_reg=False, silent=True)
    values = np.asarray(values)
    if values.ndim == 2:
        values = values[:, :, None]
    return np.transpose(values, (0, 2, 1))  # shap gives (n, d, K)


# ---------------------------------------------------------------------------------------------
# The public entry point
# ---------------------------------------------------------------------------------------------


@dataclass
class ShapResult:
    """SHAP values of ``X`` (n, d) for the outputs ``specs``: ``values`` (n, K, d), ``base`` (K,)
    = E[f(background)], ``outputs`` (n, K) = f(x). ``method`` "deeplift" | "kernel";
    ``additivity_error`` = max |sum_j values - (f(x) - E f)|; ``notice`` (key, params) or None."""

    X: np.ndarray
    values: np.ndarray
    base: np.ndarray
    outputs: np.ndarray
    specs: tuple[OutputSpec, ...]
    method: str
    additivity_error: float
    notice: tuple[str, dict] | None = None
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def grouped(self, layout) -> np.ndarray:
        """Values summed within each raw feature (one-hot groups): (n, K, n_features)."""
        return layout.group_values(self.values)


def additivity_error(values, outputs, base) -> float:
    if values.size == 0:
        return 0.0
    return float(np.max(np.abs(values.sum(axis=-1) - (outputs - base[None, :]))))


def explain_shap(model, X: np.ndarray, background: np.ndarray, specs, *, force_fallback: bool = False,
                 nsamples: int | None = None) -> ShapResult:
    """SHAP values by the fast path when it applies and is additive, else KernelExplainer + notice."""
    import time

    start = time.perf_counter()
    specs = tuple(specs)
    X = np.asarray(X)
    background = np.asarray(background, dtype=X.dtype)
    outputs = model_outputs(model, X, specs)
    base = model_outputs(model, background, specs).mean(axis=0)
    scale = max(1.0, float(np.max(np.abs(outputs - base[None, :]))) if outputs.size else 1.0)
    notice = None
    problem = fast_path_problem(model)
    if problem is None and not force_fallback:
        values = deeplift_shap(model, X, background, specs)
        err = additivity_error(values, outputs, base)
        if err <= ADDITIVITY_TOL * scale:
            return ShapResult(X, values, base, outputs, specs, "deeplift", err, None, time.perf_counter() - start)
        notice = ("explain.shap.notice.additivity", {"error": f"{err:.2g}"})
    elif problem is not None:
        notice = ("explain.shap.notice.unknown_module", {"module": problem})
    values = kernel_shap(model, X, background, specs, nsamples=nsamples)
    err = additivity_error(values, outputs, base)
    return ShapResult(X, values, base, outputs, specs, "kernel", err, notice, time.perf_counter() - start)
