"""Saliency maps with captum: vanilla gradient, SmoothGrad and integrated gradients.

- ``Saliency``: |d f / d x| at the input (Simonyan et al. 2014).
- SmoothGrad: ``NoiseTunnel(Saliency)`` averages |gradient| over noisy copies of the input
  (Smilkov et al. 2017); captum's ``abs=True`` default.
- Integrated gradients (Sundararajan et al. 2017) with ``method="gausslegendre"``: it meets
  completeness (the attributions add up to ``f(x) - f(baseline)``) to about 1e-3 relative with 50
  steps; the trapezoid rule falls about 2% short.

The explained output is a class's logit (raw score). captum is imported inside the functions
(about 1.2 s on top of torch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SaliencyMaps", "saliency_maps", "integrated_gradients", "gradient_x_input", "logit_model"]


def logit_model(model, n_outputs: int):
    """A module whose output ``c`` is the logit of class ``c`` (for a 1-output binary head:
    columns ``[-z, z]``)."""
    from torch import nn

    if n_outputs != 1:
        return model

    class _TwoLogits(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            z = self.inner(x)
            import torch

            return torch.cat([-z, z], dim=1)

    return _TwoLogits(model).eval()


@dataclass
class SaliencyMaps:
    """One row's maps (d,) each, for the logit of ``target``; IG's completeness gap too."""

    x: np.ndarray
    target: int
    gradient: np.ndarray
    smoothgrad: np.ndarray
    integrated: np.ndarray
    ig_delta: float  # sum(IG) - (f(x) - f(baseline))


def _tensor(X, grad: bool = False):
    """``X`` as a float32 (n, d) tensor; ``grad=True`` gives a fresh leaf that requires grad, the
    input captum's gradient methods differentiate (otherwise captum turns it on itself and warns
    "Input Tensor 0 did not already require gradients" on every call)."""
    import torch

    x = torch.as_tensor(np.atleast_2d(np.asarray(X, dtype=np.float32)))
    return x.detach().clone().requires_grad_() if grad else x


def integrated_gradients(model, X, target: int | list[int], baseline, n_steps: int = 50):
    """IG attributions (n, d) and completeness deltas (n,), gausslegendre."""
    from captum.attr import IntegratedGradients

    x = _tensor(X)
    base = _tensor(baseline).expand_as(x)
    ig = IntegratedGradients(model)
    attr, delta = ig.attribute(x, baselines=base, target=target, n_steps=n_steps, method="gausslegendre",
                               return_convergence_delta=True)
    return attr.detach().numpy(), delta.detach().numpy()


def gradient_x_input(model, X, target: int | list[int], baseline=None) -> np.ndarray:
    """Gradient × (input − baseline) (Shrikumar et al. 2016), (n, d)."""
    from captum.attr import InputXGradient

    x = _tensor(X)
    if baseline is not None:
        # x * grad with the input measured from the baseline: shift the model's input
        import torch

        base = _tensor(baseline)

        class _Shifted(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, u):
                return self.inner(u + base)

        shifted = (x - base).detach().requires_grad_()
        return InputXGradient(_Shifted(model)).attribute(shifted, target=target).detach().numpy()
    return InputXGradient(model).attribute(_tensor(X, grad=True), target=target).detach().numpy()


def saliency_maps(model, x, target: int, baseline, *, noise_level: float = 0.15, nt_samples: int = 25,
                  n_steps: int = 50, seed: int = 0) -> SaliencyMaps:
    """The three maps for one row ``x`` (model space) and the logit of class ``target``."""
    import torch
    from captum.attr import NoiseTunnel, Saliency

    xt = _tensor(x, grad=True)
    sal = Saliency(model)
    grad = sal.attribute(xt, target=target).detach().numpy()[0]
    spread = float(xt.detach().max() - xt.detach().min()) or 1.0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        smooth = NoiseTunnel(sal).attribute(xt, nt_type="smoothgrad", nt_samples=nt_samples,
                                            stdevs=noise_level * spread, target=target).detach().numpy()[0]
    ig, delta = integrated_gradients(model, x, target, baseline, n_steps=n_steps)
    return SaliencyMaps(np.asarray(x, dtype=np.float32).ravel(), int(target), grad, smooth, ig[0], float(delta[0]))


def logit_target(n_outputs: int, cls: int) -> int:
    """The column of :func:`logit_model`'s output to explain for class ``cls`` (or, for a
    1-output regression model, ``cls=1`` gives the predicted value)."""
    return int(cls)
