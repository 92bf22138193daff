"""The samplers and pruners a study can use, each with a one-line explanation (catalogue keys
``tune.sampler.<name>.help`` / ``tune.pruner.<name>.help``).

:func:`make_sampler` also says, as a notice (catalogue key + params), what a sampler does with a
space it cannot fully handle, for example CMA-ES with categorical parameters.
"""

from __future__ import annotations

from mlcore.errors import ConfigError
from mlcore.tune.space import SearchSpace

SAMPLERS = ("tpe", "random", "grid", "cmaes", "qmc", "gp")
PRUNERS = ("none", "median", "percentile", "halving", "hyperband", "wilcoxon")
GRID_POINTS = 3

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
        sampler = s.TPESampler(seed=seed, n_startup_trials=5, multivariate=True)
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


def make_pruner(name: str, max_epochs: int):
    """The pruner ``name``; warm-up and resources scaled to the trials' ``max_epochs``."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _make_pruner(name, max_epochs)


def _make_pruner(name: str, max_epochs: int):
    import optuna

    p = optuna.pruners
    warmup = max(1, max_epochs // 5)
    if name == "none":
        return p.NopPruner()
    if name == "median":
        return p.MedianPruner(n_startup_trials=3, n_warmup_steps=warmup)
    if name == "percentile":
        return p.PercentilePruner(25.0, n_startup_trials=3, n_warmup_steps=warmup)
    if name == "halving":
        return p.SuccessiveHalvingPruner(min_resource=warmup, reduction_factor=3)
    if name == "hyperband":
        return _hyperband_pruner()(min_resource=warmup, max_resource=max(warmup, max_epochs), reduction_factor=3)
    if name == "wilcoxon":
        return p.WilcoxonPruner(p_threshold=0.1, n_startup_steps=warmup)
    raise ConfigError("err.tune.pruner", value=name, allowed=", ".join(PRUNERS))
