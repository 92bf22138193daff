"""Optuna's TPE sampler with its per-trial arithmetic in fewer numpy calls: the same draws.

Why hand-written: on the Tune page a trial that SuccessiveHalving stops at its first rung lasts
60-120 ms, and the sampler and the storage must cost under 5 % of it (``bench.bench_tune``).
TPE's work per trial is a few hundred numpy calls on arrays of 2-30 values, so what it costs
is the calls, not the arithmetic: in cProfile of ``bench.bench_tune``, optuna's per-element Python
normal CDF was about 40 % of the sampling, and the two mixture densities (``log_pdf`` of the
"below" and the "above" Parzen estimators at the 24 candidates) about 45 % of what was left.
No library offers TPE's acquisition on its own, so two things are replaced here, both giving
the same numbers as optuna's (tests/unit/test_tune.py: the densities bit for bit on random
mixtures, and a TPE study draws the same parameters as stock optuna's):

- TPE's truncated normals call scipy's vectorised C :func:`log_ndtr`, :func:`ndtr` and
  :func:`ndtri_exp` (``scipy.special``; scipy is pinned for QMC and Wilcoxon) instead of optuna's
  pure-Python ones (``np.frompyfunc`` per element; ``_ndtri_exp`` is a Newton loop over them);
- :func:`mixtures_log_pdf` computes both estimators' densities in one pass: their kernels side
  by side in one array, and every discrete parameter's Gaussian masses in one call of optuna's
  own ``_log_gauss_mass``, where optuna's ``_MixtureOfProductDistribution.log_pdf`` makes one
  pass per estimator, and two ``_log_gauss_mass`` calls per discrete parameter after
  deduplicating the grid (np.unique and two argsorts, which cost more than they save on grids
  of 24 x 30). Every element is computed by the same operations in the same order, so the result is
  the same floats.

:class:`TPESampler` is optuna's, with this acquisition (``_compute_acquisition_func``, private
to optuna 5.0, which requirements.txt pins) and the scipy normals installed.
"""

from __future__ import annotations

import numpy as np
import optuna


def log_ndtr(a):
    """``log(Phi(a))``, the log of the standard normal CDF, elementwise: ``scipy.special.log_ndtr``.

    Optuna's own (``optuna.samplers._tpe._truncnorm._log_ndtr``) is pure Python per element, and
    loses digits where ``ndtr(a)`` nears 1: relative error up to 5e-8 against mpmath, scipy's
    6e-15; the sampled parameters agree with stock optuna's to 1e-9 (tests/unit/test_tune.py)."""
    import scipy.special

    return scipy.special.log_ndtr(np.asarray(a, dtype=float))


def ndtr(a):
    """``Phi(a)``, the standard normal CDF, elementwise: ``scipy.special.ndtr`` (see :func:`log_ndtr`)."""
    import scipy.special

    return scipy.special.ndtr(np.asarray(a, dtype=float))


def ndtri_exp(y):
    """The ``x`` with ``log(Phi(x)) = y``, elementwise: ``scipy.special.ndtri_exp`` (optuna's
    truncated-normal sampling draws through it; see :func:`log_ndtr`)."""
    import scipy.special

    return scipy.special.ndtri_exp(np.asarray(y, dtype=float))


SCIPY_NORMAL = (("_log_ndtr", log_ndtr), ("_ndtr", ndtr), ("_ndtri_exp", ndtri_exp))


def scipy_normal_cdf() -> None:
    """Point TPE's truncated normals at :func:`log_ndtr`, :func:`ndtr` and :func:`ndtri_exp`;
    optuna's own stay reachable as ``<function>.optuna_original``."""
    from optuna.samplers._tpe import _truncnorm

    for name, fn in SCIPY_NORMAL:
        current = getattr(_truncnorm, name)
        if current is not fn:
            fn.optuna_original = current
            setattr(_truncnorm, name, fn)


def mixtures_log_pdf(mixtures, x: np.ndarray) -> list[np.ndarray]:
    """``[m.log_pdf(x) for m in mixtures]`` for optuna's ``_MixtureOfProductDistribution`` s over
    one search space (the same parameters, in the same order, with the same bounds), in one pass.

    Each term is what optuna's ``log_pdf`` adds, in its order: per parameter, a categorical's
    log weight, or a discrete parameter's log mass of its step around ``x`` less the log mass of
    its bounds; then the continuous parameters' log densities summed; then the log mixture
    weights; then a log-sum-exp over each mixture's own kernels."""
    from optuna.samplers._tpe import _truncnorm
    from optuna.samplers._tpe.probability_distributions import _BatchedCategoricalDistributions

    sizes = [len(m.weights) for m in mixtures]
    n, total = len(x), sum(sizes)
    terms: list = []  # per parameter, in order: a categorical's array, or a discrete one's slot
    lows, highs = [], []  # the discrete parameters' standardised bounds, for one _log_gauss_mass
    x_cont, mus_cont, sigmas_cont, lows_cont, highs_cont = [], [], [], [], []
    for i, first in enumerate(mixtures[0].distributions):
        dists = [m.distributions[i] for m in mixtures]
        if isinstance(first, _BatchedCategoricalDistributions):
            weights = np.concatenate([d.weights for d in dists])
            xi = x[:, i, np.newaxis, np.newaxis].astype(np.int64)
            terms.append(np.log(np.take_along_axis(weights[np.newaxis], xi, axis=-1))[..., 0])
            continue
        mu, sigma = np.concatenate([d.mu for d in dists]), np.concatenate([d.sigma for d in dists])
        if (step := first.step) == 0.0:
            x_cont.append(np.log(x[:, i]) if first.is_log else x[:, i])
            mus_cont.append(mu)
            sigmas_cont.append(sigma)
            lows_cont.append(first.adapted_low)
            highs_cont.append(first.adapted_high)
            continue
        left = np.log(x[:, i] - step / 2) if first.is_log else (x[:, i] - step / 2)
        right = np.log(x[:, i] + step / 2) if first.is_log else (x[:, i] + step / 2)
        terms.append(len(lows) // 2)
        lows += [((left[:, np.newaxis] - mu) / sigma).ravel(), (first.adapted_low - mu) / sigma]
        highs += [((right[:, np.newaxis] - mu) / sigma).ravel(), (first.adapted_high - mu) / sigma]
    weighted = np.zeros((n, total), dtype=np.float64)
    if lows:
        mass = _truncnorm._log_gauss_mass(np.concatenate(lows), np.concatenate(highs))
        starts = np.cumsum([0] + [len(part) for part in lows])
    for term in terms:
        if isinstance(term, np.ndarray):
            weighted += term
        else:
            weighted += mass[starts[2 * term]:starts[2 * term + 1]].reshape(n, total)
            weighted -= mass[starts[2 * term + 1]:starts[2 * term + 2]]
    if x_cont:
        mus, sigmas = np.asarray(mus_cont).T, np.asarray(sigmas_cont).T
        weighted += _truncnorm.logpdf(np.asarray(x_cont).T[:, np.newaxis, :], a=(np.asarray(lows_cont) - mus) / sigmas,
                                      b=(np.asarray(highs_cont) - mus) / sigmas, loc=mus, scale=sigmas).sum(axis=-1)
    weighted += np.log(np.concatenate([m.weights for m in mixtures])[np.newaxis])
    out, start = [], 0
    for size in sizes:
        part = weighted[:, start:start + size]
        start += size
        max_ = part.max(axis=1)
        max_[np.isneginf(max_)] = 0  # avoid (-inf) - (-inf) where the density is zero
        with np.errstate(divide="ignore"):
            out.append(np.log(np.exp(part - max_[:, None]).sum(axis=1)) + max_)
    return out


class TPESampler(optuna.samplers.TPESampler):
    """Optuna's TPE, its acquisition computed by :func:`mixtures_log_pdf` (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        scipy_normal_cdf()
        super().__init__(*args, **kwargs)

    def _compute_acquisition_func(self, samples, mpe_below, mpe_above) -> np.ndarray:
        # both estimators are built over the same search space (TPESampler._sample)
        mixtures = [mpe_below._mixture_distribution, mpe_above._mixture_distribution]
        below, above = mixtures_log_pdf(mixtures, mpe_below._transform(samples))
        return below - above
