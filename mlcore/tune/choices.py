"""The samplers and pruners a study can use, each with a one-line explanation (catalogue keys
``tune.sampler.<name>.help`` / ``tune.pruner.<name>.help``).

:func:`make_sampler` also says, as a notice (catalogue key + params), what a sampler does with a
space it cannot fully handle, for example CMA-ES with categorical parameters.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

from mlcore.errors import ConfigError
from mlcore.tune.space import SearchSpace

SAMPLERS = ("tpe", "random", "grid", "cmaes", "qmc", "gp")
PRUNERS = ("none", "median", "percentile", "halving", "hyperband", "wilcoxon")
# The page's default: of these, the one that saved the most time at the same best value in
# ``bench.bench_tune`` (TPE, 30 trials); Median pruning rarely stops TPE's trials, which are mostly
# better than the median of the earlier ones.
DEFAULT_PRUNER = "halving"
GRID_POINTS = 3
TPE_STARTUP = 5  # TPE's first trials are random: with the same seed, the same as RandomSampler's

Notice = tuple[str, dict]


def _categorical_names(space: SearchSpace) -> str:
    from mlcore.tune.space import CATEGORICAL

    return ", ".join(n for n in CATEGORICAL if getattr(space, n) is not None)


def _grid_sampler(space: SearchSpace, seed: int):
    """Optuna's ``GridSampler`` without its ``study.stop()`` at the end of the grid: that call
    only works inside ``study.optimize`` and raises under ask-and-tell, where the runner itself
    stops after ``grid_size`` trials."""
    import optuna

    class GridNoStop(optuna.samplers.GridSampler):
        def after_trial(self, study, trial, state, values) -> None:  # noqa: D401
            return None

    return GridNoStop(space.grid(GRID_POINTS), seed=seed)


def make_sampler(name: str, space: SearchSpace, seed: int = 0):
    """(sampler, notices). Raises ``ConfigError`` for an unknown name."""
    import warnings

    import optuna

    with warnings.catch_warnings():  # "experimental" / deprecation notes mean nothing to a class
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return _make_sampler(name, space, seed)


def _make_sampler(name: str, space: SearchSpace, seed: int):
    import optuna

    s = optuna.samplers
    notices: list[Notice] = []
    cats = space.has_categorical()
    if name == "tpe":
        from mlcore.tune.tpe import TPESampler

        sampler = TPESampler(seed=seed, n_startup_trials=TPE_STARTUP, multivariate=True)
    elif name == "random":
        sampler = s.RandomSampler(seed=seed)
    elif name == "grid":
        sampler = _grid_sampler(space, seed)
        notices.append(("tune.notice.grid", {"points": GRID_POINTS, "size": space.grid_size(GRID_POINTS)}))
    elif name == "cmaes":
        sampler = s.CmaEsSampler(seed=seed, n_startup_trials=1, warn_independent_sampling=False,
                                 independent_sampler=s.RandomSampler(seed=seed))
        if cats:
            notices.append(("tune.notice.cmaes_categorical", {"names": _categorical_names(space)}))
    elif name == "qmc":
        sampler = s.QMCSampler(qmc_type="sobol", scramble=True, seed=seed, warn_independent_sampling=False,
                               warn_asynchronous_seeding=False)
        if cats:
            notices.append(("tune.notice.qmc_categorical", {"names": _categorical_names(space)}))
    elif name == "gp":
        sampler = s.GPSampler(seed=seed, n_startup_trials=5, warn_independent_sampling=False)
    else:
        raise ConfigError("err.tune.sampler", value=name, allowed=", ".join(SAMPLERS))
    return sampler, notices


def _hyperband_pruner():
    """Optuna's ``HyperbandPruner`` that reuses its per-bracket study views.

    Why: optuna builds a new ``_BracketStudy`` (a class statement and a ``Study.__init__``, which
    reads the study's id and directions from the storage) at every pruning check and at every
    TPE suggestion (``optuna.pruners._filter_study``): about 8 % of a Hyperband study's sampler
    and pruner time here (cProfile of ``bench.bench_tune``). The view holds nothing but references
    and a thread-local trial cache; each reuse gets a fresh thread-local, so it reads exactly what
    a new view would (tests/unit/test_tune.py compares the pruned trials with optuna's own)."""
    import optuna
    from optuna.study.study import _ThreadLocalStudyAttribute

    class HyperbandReusingBrackets(optuna.pruners.HyperbandPruner):
        def _create_bracket_study(self, study, bracket_id: int):
            cache = self.__dict__.get("_mlplab_brackets")
            if cache is None or cache[0] is not study:
                cache = self.__dict__["_mlplab_brackets"] = (study, {})
            view = cache[1].get(bracket_id)
            if view is None:
                view = cache[1][bracket_id] = super()._create_bracket_study(study, bracket_id)
            else:
                view._thread_local = _ThreadLocalStudyAttribute()  # as a new view: no cached trials
            return view

    return HyperbandReusingBrackets


class WilcoxonStats:
    """``scipy.stats`` as optuna's ``WilcoxonPruner`` sees it, with the same p-values, faster.

    Why: with ties or zeros among the differences and 13 or fewer of them (a pruning check at
    epoch <= 13 of a trial whose accuracy repeats, which is usual), ``scipy.stats.wilcoxon`` runs
    an exact permutation test over the 2**n sign flips, calling its statistic once per flip:
    about half a Wilcoxon study's wall time in ``bench.bench_tune`` (42 % overhead). Here the same
    test (``scipy.stats.permutation_test``, the same flips, the same statistic: the signed-rank
    sum from ``scipy.stats.wilcoxon``) runs vectorised, one call for all flips; every other case
    goes to scipy as it is. tests/unit/test_tune.py checks the p-values against scipy's own."""

    def __getattr__(self, name: str):
        import scipy.stats

        return getattr(scipy.stats, name)

    @staticmethod
    def wilcoxon(x, y=None, zero_method="wilcox", correction=False, alternative="two-sided", method="auto",
                 **kwargs):
        import numpy as np
        import scipy.stats

        d = np.asarray(x, dtype=float)
        if (y is None and not kwargs and method == "auto" and zero_method == "zsplit"
                and alternative in ("less", "greater") and d.ndim == 1 and 0 < d.size <= 13
                and np.all(np.isfinite(d)) and (np.any(d == 0) or np.unique(np.abs(d)).size < d.size)):
            # scipy's choice here is PermutationMethod() (2**13 < its 9999 resamples: exact)
            def statistic(v, axis):
                return scipy.stats.wilcoxon(v, zero_method=zero_method, alternative=alternative,
                                            method="asymptotic", axis=axis).statistic

            res = scipy.stats.permutation_test((d,), statistic, vectorized=True, permutation_type="samples",
                                               alternative=alternative)
            return SimpleNamespace(statistic=res.statistic, pvalue=res.pvalue)  # optuna reads .pvalue
        return scipy.stats.wilcoxon(x, y, zero_method=zero_method, correction=correction, alternative=alternative,
                                    method=method, **kwargs)


def _vectorised_wilcoxon() -> None:
    """Point optuna's WilcoxonPruner (its module's ``ss``) at :class:`WilcoxonStats`."""
    from optuna.pruners import _wilcoxon

    if not isinstance(_wilcoxon.ss, WilcoxonStats):
        _wilcoxon.ss = WilcoxonStats()


FIRST_DECISION = 10  # the first pruning decision comes after 1/10 of the longest trial's epochs
LAST_DECISION = 0.5  # and the last one at most halfway through it
# The share of trials that goes on at each rung: the better half for SuccessiveHalving (rungs at
# 3, 6, 12 epochs of 30), the best third within each Hyperband bracket (rungs at 3, 9). The
# other pruners decide at the same epochs as SuccessiveHalving.
REDUCTION_FACTOR = {"halving": 2, "hyperband": 3}


def pruning_step(max_epochs: int) -> int:
    """The warm-up (or first rung): epochs before the first pruning decision."""
    return max(1, math.ceil(max_epochs / FIRST_DECISION))


def last_decision(max_epochs: int) -> int:
    """The last epoch at which a pruner may decide (Hyperband's ``max_resource``): halfway."""
    return max(pruning_step(max_epochs), math.floor(LAST_DECISION * max_epochs))


def decision_epochs(name: str, max_epochs: int, epochs: int) -> tuple[int, ...]:
    """The epochs (before a trial's last, ``epochs``, and at most halfway through the longest
    trial, ``max_epochs``) at which the pruner ``name`` can stop it: ``pruning_step`` x factor**k
    (3, 6, 12 of 30 epochs; 3, 9 for Hyperband).

    Why: a trial trains in chunks and the runner asks the pruner at the end of a chunk, so
    - a chunk that runs past an epoch where the pruner could decide trains epochs for nothing
      (with a warm-up of 6 epochs and chunks of 5, Median pruning stopped a trial at epoch 10 at
      the earliest): the runner ends its chunks on these epochs and asks only there;
    - every chunk costs about 10 ms besides its epochs (a Trainer, the fold models rebuilt from
      their state: ``bench.bench_tune``), as much as two epochs of the three folds: a decision
      every 5 epochs made a Median-pruned study slower than an unpruned one, although it trained
      a fifth fewer epochs. Decisions spaced geometrically keep the early ones, where most of
      the saving is; a decision late in a trial can save little of it, and every trial that
      gets there pays its chunk.

    Measured (``bench.bench_tune``'s studies, SuccessiveHalving against no pruning, 32 seeds):
    decisions at 5, 10, 20 of 30 epochs saved 40 % of the wall time on average (11 to 59 % by
    seed); at 3, 6, 12, 47 % (29 to 66 %), at the same best value (0.3 % below the unpruned one's
    on average, 1.2 % at most, for both); at 2, 4, 8 (16 seeds), 53 %, at the same best value
    but with sampler + storage at 6 % of trials this short.

    The pruners are configured (:func:`make_pruner`) to decide at any epoch they are asked after
    their warm-up (Median, Percentile, Wilcoxon), or exactly at these rungs (SuccessiveHalving;
    every Hyperband bracket's rungs up to halfway are among them)."""
    if name == "none":
        return ()
    factor = REDUCTION_FACTOR.get(name, REDUCTION_FACTOR["halving"])  # the others: as SuccessiveHalving
    out, r, last = [], pruning_step(max_epochs), last_decision(max_epochs)
    while r < epochs and r <= last:
        out.append(r)
        r *= factor
    return tuple(out)


def make_pruner(name: str, max_epochs: int):
    """The pruner ``name``; warm-up and resources scaled to the trials' ``max_epochs``
    (decisions at :func:`decision_epochs`)."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _make_pruner(name, max_epochs)


def _make_pruner(name: str, max_epochs: int):
    import optuna

    p = optuna.pruners
    step = pruning_step(max_epochs)
    if name == "none":
        return p.NopPruner()
    if name == "median":
        return p.MedianPruner(n_startup_trials=3, n_warmup_steps=step)
    if name == "percentile":
        return p.PercentilePruner(25.0, n_startup_trials=3, n_warmup_steps=step)
    if name == "halving":
        return p.SuccessiveHalvingPruner(min_resource=step, reduction_factor=REDUCTION_FACTOR[name])
    if name == "hyperband":
        # brackets whose rungs all come before the last decision (with max_epochs, a third of
        # the trials went to a bracket whose only rung, 27 of 30, is never asked)
        return _hyperband_pruner()(min_resource=step, max_resource=last_decision(max_epochs),
                                   reduction_factor=REDUCTION_FACTOR[name])
    if name == "wilcoxon":
        _vectorised_wilcoxon()
        return p.WilcoxonPruner(p_threshold=0.1, n_startup_steps=step)
    raise ConfigError("err.tune.pruner", value=name, allowed=", ".join(PRUNERS))
