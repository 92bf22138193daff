"""mlcore.tune: search space, samplers, pruning, Stop, storage and study plots on tiny real studies."""

from __future__ import annotations

import math
import os

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from mlcore.config import BuiltinConfig, LayerSpec, ModelConfig, OptimConfig, SplitConfig, TrainConfig
from mlcore.data import prepare_builtin
from mlcore.errors import ConfigError
from mlcore.jobs import ChunkJob, run_inline
from mlcore.train import TrainArrays
from mlcore.tune.choices import PRUNERS, SAMPLERS, make_pruner, make_sampler
from mlcore.tune.objective import TuneJob, TuneSettings, from_study, study_attrs
from mlcore.tune.space import SearchSpace, configs_from_params, suggest
from mlcore.tune.storage import StudyStore, new_name, validate_name

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def moons():
    return TrainArrays.from_prepared(prepare_builtin(BuiltinConfig(name="moons", n_samples=100), SplitConfig()))


def _study(store, name, settings, arrays):
    sampler, pruner, _ = settings.sampler_and_pruner()
    return store.create(name, settings.direction, study_attrs(settings, arrays), owner="me",
                        sampler=sampler, pruner=pruner)


# ---- search space --------------------------------------------------------------------------------
def test_space_off_takes_session_values_and_on_is_sampled():
    base_m = ModelConfig(hidden=(LayerSpec(5, "tanh"),), dropout=0.1)
    base_t = TrainConfig(optim=OptimConfig(name="sgd", lr=0.3), batch_size=16, epochs=7, patience=4)
    space = SearchSpace(lr=None, n_layers=(2, 2), units=None, activation=("relu",), optimizer=None)
    m, t = suggest(optuna.trial.FixedTrial({"n_layers": 2, "activation": "relu"}), space, base_m, base_t)
    assert m.hidden == (LayerSpec(5, "relu"), LayerSpec(5, "relu"))  # depth sampled, units kept
    assert m.dropout == 0.1 and t.optim.name == "sgd" and t.optim.lr == 0.3 and t.batch_size == 16
    assert t.epochs == 7 and t.patience is None  # early stopping off inside trials


def test_space_rejects_bad_ranges_with_clear_messages():
    with pytest.raises(ConfigError, match="lr"):
        SearchSpace(lr=(0.0, 0.1))  # a log range cannot start at 0
    with pytest.raises(ConfigError, match="units"):
        SearchSpace(units=(64, 4))
    with pytest.raises(ConfigError, match="optimizer"):
        SearchSpace(optimizer=("adam", "newton"))


def test_grid_discretises_and_round_trips():
    space = SearchSpace(lr=(1e-3, 1e-1), n_layers=(1, 3), units=None)
    grid = space.grid(3)
    assert grid["lr"] == pytest.approx([1e-3, 1e-2, 1e-1])
    assert grid["n_layers"] == [1, 2, 3]
    assert space.grid_size(3) == 9
    assert SearchSpace.from_dict(space.to_dict()) == space
    s = TuneSettings(space=space, sampler="grid", pruner="hyperband", metric="loss", k=2)
    assert TuneSettings.from_dict(s.to_dict()) == s


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_finds_a_known_optimum(name):
    """A quadratic bowl with its minimum at lr = 1e-2, n_layers = 2 (the space's own parameters)."""
    space = SearchSpace(lr=(1e-4, 1.0), n_layers=(0, 4), units=None)
    sampler, notices = make_sampler(name, space, seed=1)
    study = optuna.create_study(sampler=sampler)
    for _ in range({"grid": space.grid_size(3), "gp": 15}.get(name, 40)):
        trial = study.ask()
        m, t = suggest(trial, space, ModelConfig(), TrainConfig())
        study.tell(trial, (math.log10(t.optim.lr) + 2) ** 2 + (m.depth - 2) ** 2)
    best = study.best_params
    assert best["n_layers"] == 2
    assert abs(math.log10(best["lr"]) + 2) < (0.01 if name == "grid" else 0.6)


def test_tpe_s_first_trials_are_random_search_s_own_with_the_same_seed():
    """What the Random-vs-TPE tab says: the two curves coincide for TPE_STARTUP trials, then part."""
    from mlcore.tune.choices import TPE_STARTUP

    space = SearchSpace(activation=("relu", "tanh"))
    params = {}
    for name in ("random", "tpe"):
        study = optuna.create_study(sampler=make_sampler(name, space, seed=3)[0], direction="maximize")
        for i in range(TPE_STARTUP + 3):
            trial = study.ask()
            suggest(trial, space, ModelConfig(), TrainConfig())
            study.tell(trial, float(i % 3))
        params[name] = [t.params for t in study.trials]
    assert params["random"][:TPE_STARTUP] == params["tpe"][:TPE_STARTUP]
    assert params["random"][TPE_STARTUP:] != params["tpe"][TPE_STARTUP:]


def test_samplers_say_what_they_do_with_categorical_parameters():
    space = SearchSpace(activation=("relu", "tanh"))
    _, notices = make_sampler("cmaes", space)
    assert notices[0][0] == "tune.notice.cmaes_categorical" and "activation" in notices[0][1]["names"]
    _, notices = make_sampler("qmc", space)
    assert notices[0][0] == "tune.notice.qmc_categorical"
    assert make_sampler("tpe", space)[1] == []
    with pytest.raises(ConfigError, match="sampler"):
        make_sampler("annealing", space)
    p = optuna.pruners
    kinds = (p.NopPruner, p.MedianPruner, p.PercentilePruner, p.SuccessiveHalvingPruner, p.HyperbandPruner,
             p.WilcoxonPruner)
    assert [next(k for k in kinds if isinstance(make_pruner(n, 10), k)) for n in PRUNERS] == list(kinds)


# ---- the objective ---------------------------------------------------------------------------------
def test_tune_job_is_a_chunk_job_and_a_real_study_beats_a_linear_model(tmp_path):
    """Circles are not linearly separable: with the depth searched over {0, 1, 2} on a grid, the
    best trial has a hidden layer, and its value is the mean over the folds at the last epoch."""
    data = TrainArrays.from_prepared(prepare_builtin(BuiltinConfig(name="circles", n_samples=160), SplitConfig()))
    settings = TuneSettings(space=SearchSpace(lr=None, n_layers=(0, 2), units=None), sampler="grid", pruner="none",
                            k=2, model_cfg=ModelConfig(hidden=(LayerSpec(16, "tanh"),)),
                            train_cfg=TrainConfig(optim=OptimConfig(lr=0.05), batch_size=16, epochs=30))
    study = _study(StudyStore(tmp_path), "circles", settings, data)
    job = TuneJob(study, settings, data, n_trials=10)
    assert isinstance(job, ChunkJob) and job.n_trials == 3  # capped at the grid's size
    run_inline(job)
    trials = {t.params["n_layers"]: t for t in study.trials}
    assert sorted(trials) == [0, 1, 2] and all(t.state == TrialState.COMPLETE for t in trials.values())
    assert study.best_params["n_layers"] >= 1
    assert trials[0].value < 0.6 and study.best_value > trials[0].value + 0.15
    t = trials[1]
    assert sorted(t.intermediate_values) == list(range(1, 31))  # one report per epoch
    assert t.value == pytest.approx(t.intermediate_values[30])


def test_pruning_prunes_a_trial_that_does_not_learn(tmp_path, moons):
    settings = TuneSettings(space=SearchSpace(lr=(1e-6, 1.0), n_layers=None, units=None), pruner="median",
                            metric="loss", k=2, train_cfg=TrainConfig(batch_size=16, epochs=10))
    study = _study(StudyStore(tmp_path), "prune", settings, moons)
    for lr in (0.05, 0.03, 0.08, 1e-6):
        study.enqueue_trial({"lr": lr})
    job = run_inline(TuneJob(study, settings, moons, n_trials=4))
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE] * 3 + [TrialState.PRUNED]
    last = study.trials[3]
    assert last.user_attrs["epochs_run"] < 10 and job.epochs_saved == 10 - last.user_attrs["epochs_run"]


def test_decision_epochs_are_the_warm_up_and_its_doublings_or_the_rungs_up_to_halfway():
    from mlcore.tune.choices import decision_epochs, pruning_step

    assert pruning_step(30) == 3 and pruning_step(12) == 2 and pruning_step(10) == 1 and pruning_step(3) == 1
    assert decision_epochs("halving", 30, 30) == (3, 6, 12)  # SuccessiveHalving, reduction factor 2
    assert decision_epochs("hyperband", 30, 30) == (3, 9)  # every bracket's rungs (factor 3) up to 15
    assert decision_epochs("median", 30, 30) == decision_epochs("wilcoxon", 30, 30) == (3, 6, 12)
    assert decision_epochs("median", 30, 6) == (3,)  # a shorter trial: only those before its last epoch
    assert decision_epochs("halving", 100, 100) == (10, 20, 40)  # not 80: past halfway
    assert decision_epochs("hyperband", 100, 60) == (10, 30)  # halfway through the longest trial
    assert decision_epochs("none", 30, 30) == ()


@pytest.mark.parametrize("pruner", ["median", "percentile", "halving", "hyperband", "wilcoxon"])
def test_chunks_end_on_the_pruners_decision_epochs_and_trials_are_pruned_there(pruner, tmp_path, moons,
                                                                             monkeypatch):
    """No chunk trains past an epoch where the pruner could stop the trial, whatever the chunk
    length the timing asks for; the pruner is asked exactly there, and a pruned trial stops at one
    of those epochs (so its epochs saved are the rest)."""
    from mlcore.tune.choices import decision_epochs

    monkeypatch.setattr("mlcore.tune.objective.CHUNK_SECONDS", 1e9)  # chunks as long as allowed
    settings = TuneSettings(space=SearchSpace(lr=(1e-5, 0.3), n_layers=(1, 2), units=(2, 16)), sampler="random",
                            pruner=pruner, k=2, seed=1, train_cfg=TrainConfig(batch_size=16, epochs=12))
    decisions = decision_epochs(pruner, 12, 12)
    assert decisions == ((2, 6) if pruner == "hyperband" else (2, 4))
    study = _study(StudyStore(tmp_path), f"chunks-{pruner}", settings, moons)
    for lr in (0.1, 0.05, 0.08, 0.2, 0.1):
        study.enqueue_trial({"lr": lr, "n_layers": 2, "units": 16})
    for _ in range(4):  # trials that cannot learn: each pruner stops some of them
        study.enqueue_trial({"lr": 1e-5, "n_layers": 1, "units": 2})
    job = TuneJob(study, settings, moons, n_trials=9)
    spans, asked = [], []
    real_next, real_prune = job.next_call, optuna.trial.Trial.should_prune

    def next_call():
        fn, args = real_next()
        spans.append((job.current.reported, job.current.reported + args[2]))
        return fn, args

    def should_prune(trial):
        asked.append(job.current.reported)
        return real_prune(trial)

    job.next_call = next_call
    monkeypatch.setattr(optuna.trial.Trial, "should_prune", should_prune)
    run_inline(job)
    assert not any(start < d < end for start, end in spans for d in decisions)
    assert set(asked) <= set(decisions) and asked
    assert max(end - start for start, end in spans) > 2  # between decisions the chunks are longer
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned, "the trials that do not learn are pruned"
    assert all(t.user_attrs["epochs_run"] in decisions for t in pruned)
    assert job.epochs_saved == sum(12 - t.user_attrs["epochs_run"] for t in pruned)


def test_diverged_trial_fails_with_its_reason_and_the_study_goes_on(tmp_path):
    diabetes = TrainArrays.from_prepared(prepare_builtin(BuiltinConfig(name="diabetes"), SplitConfig()))
    settings = TuneSettings(space=SearchSpace(lr=(1e-3, 10.0), n_layers=None, units=None), pruner="none",
                            k=1, train_cfg=TrainConfig(optim=OptimConfig(name="sgd"), epochs=3))
    study = _study(StudyStore(tmp_path), "diverge", settings, diabetes)
    study.enqueue_trial({"lr": 10.0})
    study.enqueue_trial({"lr": 0.01})
    run_inline(TuneJob(study, settings, diabetes, n_trials=2))
    failed, ok = study.trials
    assert failed.state == TrialState.FAIL and "diverged" in failed.user_attrs["fail_reason"]
    assert ok.state == TrialState.COMPLETE and np.isfinite(ok.value)


def test_stop_ends_after_the_running_trial_and_keeps_completed_ones(tmp_path, moons, monkeypatch):
    monkeypatch.setattr("mlcore.tune.objective.MAX_EPOCHS_PER_CHUNK", 2)  # a trial takes 3 chunks
    settings = TuneSettings(pruner="none", k=2, train_cfg=TrainConfig(epochs=6))
    study = _study(StudyStore(tmp_path), "stop", settings, moons)
    job = TuneJob(study, settings, moons, n_trials=5)
    while (job.finished < 1 or job.current is None or job.current.reported == 0) and not job.done():
        fn, args = job.next_call()
        job.absorb(fn(*args))
    job.request_stop()
    assert not job.done()  # the running trial is finished first
    run_inline(job)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.COMPLETE]
    assert job.done() and job.progress() == pytest.approx(2 / 5)


# ---- storage ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["../x", "", "   ", "a/b", "..", "x..y", "/etc/passwd", "é" * 3])
def test_invalid_study_names_are_rejected(bad, tmp_path):
    with pytest.raises(ConfigError, match="study name|Study name"):
        validate_name(bad)
    with pytest.raises(ConfigError):
        StudyStore(tmp_path).path_for(bad)


@pytest.mark.parametrize(("dataset", "expected"), [
    ("clientes_año", "clientes_ano"), ("Ventas 2024 (copia)", "Ventas_2024_copia"), ("Región", "Region"),
    ("..", "study"), ("Ελληνικά", "study"), ("-notas-", "notas"), ("a..b", "a.b"), ("x" * 100, "x" * 59),
])
def test_a_new_name_from_any_dataset_name_is_a_valid_study_name(dataset, expected, tmp_path):
    """The page's default name comes from the dataset (often a Spanish file name): Start must work."""
    name = new_name(dataset)
    assert name.rsplit("-", 1)[0] == expected and len(name.rsplit("-", 1)[1]) == 4
    assert validate_name(name) == name and StudyStore(tmp_path).path_for(name).parent == tmp_path / "studies"
    compare = new_name(dataset, "cmp", room=len("-random")) + "-random"  # the Random vs TPE pair
    assert validate_name(compare) == compare and len(compare) <= 64
    assert new_name(dataset) != new_name(dataset)


def test_study_survives_a_new_storage_object_and_lists_by_owner(tmp_path, moons, monkeypatch):
    monkeypatch.setenv("MLPLAB_DATA_DIR", str(tmp_path / "fresh"))
    monkeypatch.delenv("MLPLAB_STORAGE_URL", raising=False)
    store = StudyStore()
    assert store.kind == "journal" and store.list() == []
    settings = TuneSettings(pruner="none", k=2, train_cfg=TrainConfig(epochs=2))
    study = _study(store, "mine", settings, moons)
    run_inline(TuneJob(study, settings, moons, n_trials=2))
    other = store.create("theirs", "maximize", {}, owner="other")
    assert (tmp_path / "fresh" / "studies" / "mine.journal").exists()

    again = StudyStore()  # as after a server restart
    loaded = again.load("mine")
    assert len(loaded.trials) == 2 and loaded.best_value == study.best_value
    restored, arrays = from_study(loaded)
    assert restored == settings and np.array_equal(arrays.X_train, moons.X_train)
    assert [i.name for i in again.list("me")] == ["mine"]
    again.set_shared("theirs", True)
    assert [i.name for i in again.list("me")] == ["mine", "theirs"]
    with pytest.raises(ConfigError, match="exists"):
        again.create("mine", "maximize", {})
    with pytest.raises(ConfigError, match="belongs"):
        again.delete("theirs", owner="me")
    again.delete("mine", owner="me")
    assert [i.name for i in again.list("me")] == ["theirs"] and other.study_name == "theirs"
    assert not (tmp_path / "fresh" / "studies" / "mine.journal").exists()


# ---- plots -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_study(tmp_path_factory, moons):
    settings = TuneSettings(space=SearchSpace(lr=(1e-3, 0.3), n_layers=(1, 2), units=(2, 16)), sampler="random",
                            pruner="median", k=2, train_cfg=TrainConfig(batch_size=16, epochs=4))
    study = _study(StudyStore(tmp_path_factory.mktemp("plots")), "plots", settings, moons)
    run_inline(TuneJob(study, settings, moons, n_trials=5))
    return study


@pytest.mark.parametrize("kind", ["history", "importances", "parallel", "contour", "slice", "intermediate",
                                  "timeline", "edf"])
def test_each_visualisation_renders_from_a_real_study(kind, real_study):
    from mlcore.plots.tune import study_figure

    fig = study_figure(kind, real_study, {"title": "T", "x": "X", "y": "Y"})
    assert fig is not None and len(fig.data) >= 1
    assert fig.layout.title.text == "T"
    fig.to_json()


def test_history_of_one_finished_trial_keeps_its_value_in_view(tmp_path):
    """Plotly's own range for one point is about ±1 around it (an accuracy of 0.78 on 0..1.6)."""
    import optuna

    from mlcore.plots.tune import study_figure

    study = optuna.create_study(direction="maximize")
    study.enqueue_trial({"lr": 0.01})
    study.optimize(lambda t: 0.75 + 0 * t.suggest_float("lr", 1e-3, 1e-1, log=True), n_trials=1)
    low, high = study_figure("history", study, {"title": "T"}).layout.yaxis.range
    assert low < 0.75 < high and high - low == pytest.approx(0.075)
    study.optimize(lambda t: t.suggest_float("lr", 1e-3, 1e-1, log=True), n_trials=2)  # values differ now
    assert study_figure("history", study, {"title": "T"}).layout.yaxis.range is None


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_parallel_coordinate_lines_stay_visible_and_darker_is_better(direction):
    """Optuna samples each line's colour from Blues, whose palest end is white on white: every line
    is now at least light blue, and the best trial is still the darkest."""
    import optuna
    import plotly.colors as pc

    from mlcore.plots.tune import study_figure

    study = optuna.create_study(direction=direction, sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 1, 3), n_trials=6)
    fig = study_figure("parallel", study, {"title": "T"})
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 6

    def darkness(color):  # 0 for white
        return 765 - sum(pc.unlabel_rgb(color))

    lightest = 765 - sum(pc.unlabel_rgb(pc.sequential.Blues[3]))
    assert all(darkness(t.line.color) >= lightest - 1e-6 for t in lines)
    values = [t.value for t in study.trials]  # the lines come in trial order
    best = values.index(max(values) if direction == "maximize" else min(values))
    assert max(range(6), key=lambda i: darkness(lines[i].line.color)) == best


def test_figures_stay_readable_with_three_parameters_and_long_names():
    """Optuna's layouts meet the page's long labels: the parallel coordinate's first axis name
    (the objective's) has room and its axis values are at the page's tick size; the contour
    matrix's rows grow with the parameters; log axes over less than a decade tick at 2 and 5;
    legends go below the plot instead of taking half the width."""
    import optuna

    from mlcore.plots.style import SMALL
    from mlcore.plots.tune import study_figure

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: t.suggest_float("lr", 1e-3, 5e-3, log=True) + t.suggest_int("n", 1, 3)
                   + t.suggest_int("u", 4, 64), n_trials=8)
    labels = {"title": "T", "target": "Exactitud (accuracy) en validación",
              "words": {"lr": "Tasa de aprendizaje (log)"}}
    par = study_figure("parallel", study, labels)
    assert par.layout.xaxis.ticktext[:2] == ("Exactitud (accuracy)<br>en validación", "Tasa de<br>aprendizaje (log)")
    assert par.layout.xaxis.range[0] <= -0.5  # room left of the first axis for its centred name
    assert {a.font.size for a in par.layout.annotations} == {SMALL - 1}
    contour = study_figure("contour", study, labels, height=440)
    assert contour.layout.height == 200 * 3 + 80
    assert contour.layout.xaxis.type == "log" and contour.layout.xaxis.dtick == "D2"
    assert study_figure("contour", study, labels, height=900).layout.height == 900
    history = study_figure("history", study, labels)
    assert history.layout.legend.orientation == "h" and history.layout.legend.y < 0


def _label_strings(fig) -> list[str]:
    """Every string of a figure except the hover boxes' trial JSON (``data[].text``)."""
    import json

    out = []

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key not in ("type", "mode", "text_", "uid"):
            out.append(node)

    d = json.loads(fig.to_json())
    d["layout"].pop("template", None)
    for trace in d["data"]:
        trace.pop("text", None)
        walk(trace)
    walk(d["layout"])
    return out


@pytest.mark.parametrize("kind", ["history", "importances", "parallel", "contour", "slice", "intermediate",
                                  "timeline", "edf"])
def test_optuna_s_own_english_labels_are_translated_after_the_figure_is_built(kind, real_study):
    import re

    from mlcore.plots.tune import OPTUNA_TEXTS, study_figure
    from mlcore.tune.space import PARAMS

    words = {en: f"<{en}>" for en in OPTUNA_TEXTS} | {p: f"<param {p}>" for p in PARAMS}
    fig = study_figure(kind, real_study, {"title": "T", "target": "<target>", "words": words})
    strings = _label_strings(fig)
    left = [x for x in strings if x in OPTUNA_TEXTS or x in PARAMS or re.fullmatch(r"Trial\d+", x)
            or re.search(r"<extra>(COMPLETE|PRUNED|FAIL)</extra>", x)]
    assert left == [], left
    joined = " ".join(strings)
    expected = {"history": "<target>", "importances": "<Hyperparameter Importance>", "parallel": "<target>",
                "contour": "<param lr>", "slice": "<param units>", "intermediate": "<Trial> 0",
                "timeline": "<COMPLETE>", "edf": "<Cumulative Probability>"}[kind]
    assert expected in joined, joined[:500]


def test_every_optuna_text_has_a_catalogue_entry_in_both_languages():
    from mlcore.i18n import catalogue
    from mlcore.plots.tune import OPTUNA_TEXTS

    for lang in ("es", "en"):
        cat = catalogue(lang)
        assert all(key in cat for key in OPTUNA_TEXTS.values()), lang


def test_comparison_overlays_two_studies(real_study):
    from mlcore.plots.tune import compare_history

    fig = compare_history([real_study, real_study], {"title": "Random vs TPE"})
    assert len(fig.data) >= 4  # objective values and best-so-far line of each study

    # each study's traces are named by the name the page gives it, in the page's language
    other = optuna.create_study(study_name="other", direction=real_study.direction)
    other.add_trials(real_study.trials)
    names = {real_study.study_name: "Aleatorio", "other": "TPE"}
    fig = compare_history([real_study, other], {"title": "T", "target": "Exactitud", "names": names,
                                                "words": {"Best Value": "Mejor valor"}})
    named = {t.name for t in fig.data if t.name}
    assert {"Aleatorio", "Aleatorio · Mejor valor", "TPE", "TPE · Mejor valor"} <= named
    assert not [n for n in named if " of " in n or real_study.study_name in n], named
    # whole trial numbers on the x axis, even for a few trials (plotly would tick at 0.5)
    assert len(real_study.trials) < 10 and fig.layout.xaxis.dtick == 1


def test_best_params_rebuild_the_trial_configuration(real_study):
    settings, _ = from_study(real_study)
    m, t = configs_from_params(real_study.best_params, settings.space, settings.model_cfg, settings.train_cfg)
    assert m.depth == real_study.best_params["n_layers"]
    assert t.optim.lr == pytest.approx(real_study.best_params["lr"])


# ---- trials through a Lightning Trainer ------------------------------------------------------------
def test_lightning_pruning_callback_reports_each_epoch_and_prunes(moons):
    import warnings

    from mlcore.tune.lightning import fit_trial

    cfg = TrainConfig(batch_size=16, epochs=3)
    study = optuna.create_study(pruner=optuna.pruners.NopPruner())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(lambda t: fit_trial(t, moons, ModelConfig(), cfg), n_trials=1)
        assert study.trials[0].state == TrialState.COMPLETE
        assert sorted(study.trials[0].intermediate_values) == [0, 1, 2]  # one report per epoch
        # a threshold no loss can meet: the callback prunes after the first validation
        strict = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0))
        strict.optimize(lambda t: fit_trial(t, moons, ModelConfig(), cfg), n_trials=1)
    assert strict.trials[0].state == TrialState.PRUNED
    assert list(strict.trials[0].intermediate_values) == [0]


# ---- storage overhead: reports written per chunk, fewer fsyncs ---------------------------------------
def _one_chunk(job):
    fn, args = job.next_call()
    return fn(*args)


@pytest.mark.parametrize("flush_seconds", [0.0, 3600.0])
def test_a_trial_s_reports_go_out_together_and_other_processes_see_every_epoch(flush_seconds, tmp_path, moons,
                                                                               monkeypatch):
    """Flushing after every chunk (0 s): one append per chunk, and a fresh storage (another
    process) sees every epoch absorbed so far. Never flushing (3600 s): nothing until the tell,
    which writes the whole trial in one append. Either way the pruner saw each epoch."""
    monkeypatch.setattr("mlcore.tune.objective.FLUSH_SECONDS", flush_seconds)
    monkeypatch.setattr("mlcore.tune.objective.MAX_EPOCHS_PER_CHUNK", 3)  # past the decisions too: chunks of 3
    settings = TuneSettings(space=SearchSpace(lr=(1e-3, 0.1), n_layers=None, units=None), pruner="median", k=2,
                            train_cfg=TrainConfig(batch_size=16, epochs=12))
    store = StudyStore(tmp_path)
    study = _study(store, "chunks", settings, moons)
    backend = study._storage._backend
    job = TuneJob(study, settings, moons, n_trials=1)
    job.absorb(_one_chunk(job))  # the ask itself writes the new trial (and the sampler's attribute)
    seen = []
    while not job.done():
        result = _one_chunk(job)
        before = backend.appends
        job.absorb(result)
        assert backend.appends - before == (1 if flush_seconds == 0 or job.done() else 0)
        other = StudyStore(tmp_path).load("chunks").trials[0]  # a fresh storage, as another process
        seen.append(sorted(other.intermediate_values))
    assert seen[-1] == list(range(1, 13)) and len(seen) >= 3
    for epochs in seen[:-1]:
        if flush_seconds == 0:
            assert epochs and epochs == list(range(1, len(epochs) + 1))  # every epoch so far, no gap
        else:
            assert epochs == []
    assert study.trials[0].state == TrialState.COMPLETE


def test_fsync_for_study_changes_at_once_and_for_finished_trials_at_most_every_few_seconds(tmp_path, monkeypatch):
    from optuna.storages.journal._storage import JournalOperation as Op

    from mlcore.tune import journal

    synced = []
    monkeypatch.setattr(journal.os, "fsync", lambda fd: synced.append(fd))
    clock = [100.0]
    monkeypatch.setattr(journal.time, "monotonic", lambda: clock[0])
    backend = journal.TrialDurableFileBackend(str(tmp_path / "s.journal"), durable_seconds=5.0)
    log = {"worker_id": "w", "trial_id": 0}
    backend.append_logs([{**log, "op_code": Op.SET_TRIAL_INTERMEDIATE_VALUE, "step": 1, "intermediate_value": 0.5}])
    assert synced == []
    done = {**log, "op_code": Op.SET_TRIAL_STATE_VALUES, "state": TrialState.COMPLETE, "values": [1.0],
            "datetime_complete": "2026-01-01T00:00:00.000000+00:00"}
    backend.append_logs([done])
    assert len(synced) == 1  # the first finished trial
    clock[0] += 1.0
    backend.append_logs([done])
    assert len(synced) == 1  # one second later: flushed to the OS, not fsync'd
    backend.append_logs([{"worker_id": "w", "op_code": Op.SET_STUDY_USER_ATTR, "study_id": 0, "user_attr": {"a": 1}}])
    assert len(synced) == 2  # a study change: at once
    clock[0] += 5.0
    backend.append_logs([done])
    assert len(synced) == 3
    assert len(list(backend.read_logs(0))) == 5  # every append is in the file


# ---- interrupted trials: heartbeat, stale trials, abandoned trials ------------------------------------
def test_a_stale_running_trial_is_failed_with_its_reason_and_the_study_goes_on(tmp_path, moons, monkeypatch):
    from mlcore.tune import journal
    from mlcore.tune.storage import fail_stale_trials

    monkeypatch.setattr("mlcore.tune.objective.CHUNK_SECONDS", 100.0)  # chunks of 2 epochs (12 / 6 checks)
    settings = TuneSettings(space=SearchSpace(lr=(1e-3, 0.1), n_layers=None, units=None), pruner="none", k=2,
                            train_cfg=TrainConfig(batch_size=16, epochs=12))
    study = _study(StudyStore(tmp_path, grace_seconds=30), "stale", settings, moons)
    job = TuneJob(study, settings, moons, n_trials=2)
    job.absorb(_one_chunk(job))
    other = StudyStore(tmp_path, grace_seconds=30).load("stale")  # another process looking at the study
    assert fail_stale_trials(other) == []  # it beat when it was asked: alive
    assert other.trials[0].state == TrialState.RUNNING

    now = journal._now()
    monkeypatch.setattr(journal, "_now", lambda: now + 31)  # 31 s later without a beat: the worker is gone
    assert fail_stale_trials(other) == [0]
    trial = other.trials[0]
    assert trial.state == TrialState.FAIL and trial.user_attrs["fail_reason"].startswith("stale")
    assert trial.user_attrs["fail_key"] == {"key": "tune.fail.stale", "params": {"seconds": 30}}
    assert fail_stale_trials(other) == []  # once

    run_inline(job)  # the job notices its trial was failed and goes on with the next one
    assert job.lost == [0] and job.told == [1]
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE]


def test_abandoning_a_job_fails_its_running_trial_with_the_reason(tmp_path, moons):
    from mlcore.tune.objective import CompareJob

    settings = TuneSettings(space=SearchSpace(lr=(1e-3, 0.1), n_layers=None, units=None), pruner="none", k=2,
                            train_cfg=TrainConfig(batch_size=16, epochs=12))
    study = _study(StudyStore(tmp_path), "abandon", settings, moons)
    job = TuneJob(study, settings, moons, n_trials=3)
    wrapper = CompareJob([job])
    assert not wrapper.has_running_trial
    job.absorb(_one_chunk(job))
    assert wrapper.has_running_trial
    wrapper.abandon("replaced")
    assert job.done() and not wrapper.has_running_trial
    trial = StudyStore(tmp_path).load("abandon").trials[0]
    assert trial.state == TrialState.FAIL and "replaced" in trial.user_attrs["fail_reason"]
    assert trial.user_attrs["fail_key"]["key"] == "tune.fail.abandoned.replaced"
    assert trial.user_attrs["epochs_run"] == trial.user_attrs["fail_key"]["params"]["epoch"] > 0


def test_heartbeat_on_an_rdb_storage_fails_a_trial_that_stopped_beating(tmp_path):
    """SQLite here (the RDB code path PostgreSQL takes; test_tune_workers runs PostgreSQL): optuna's
    own heartbeat table and the database's clock, waited for (grace 1 s), not faked."""
    import time
    import warnings

    from mlcore.tune.storage import beat, fail_stale_trials

    store = StudyStore(f"sqlite:///{tmp_path / 'rdb.db'}", heartbeat_seconds=1, grace_seconds=1)
    assert store.kind == "rdb"
    study = store.create("rdb", "maximize", {})
    with warnings.catch_warnings():  # "heartbeat is supposed to be used with Study.optimize": we beat
        warnings.simplefilter("ignore")
        trial = study.ask()
    beat(study, trial)
    assert fail_stale_trials(study) == []
    deadline = time.monotonic() + 30
    failed = []
    while not failed and time.monotonic() < deadline:
        time.sleep(0.2)
        failed = fail_stale_trials(store.load("rdb"))
    assert failed == [0]
    frozen = store.load("rdb").trials[0]
    assert frozen.state == TrialState.FAIL and frozen.user_attrs["fail_key"]["key"] == "tune.fail.stale"


@pytest.mark.parametrize("pruner", ["halving", "hyperband"])
def test_buffered_rung_attributes_prune_as_optuna_s_own_journal_and_reach_the_file(pruner, tmp_path, moons,
                                                                                 monkeypatch):
    """SuccessiveHalving / Hyperband write ``completed_rung_<n>`` to the running trial at each rung
    and read it back from the storage: buffered (never flushed mid-trial here), and with the
    Hyperband that reuses its bracket views, the study prunes the same trials at the same epochs,
    with the same best value, as optuna's own pruner on its unbuffered JournalStorage; a fresh storage (another process) reads every rung value after the tells;
    and each trial costs two appends (its ask and its tell) instead of one more per rung."""
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    monkeypatch.setattr("mlcore.tune.objective.FLUSH_SECONDS", 3600.0)
    # chunks of 2 epochs whatever the machine's speed, so both runs check the pruner at the same epochs
    monkeypatch.setattr("mlcore.tune.objective.CHUNK_SECONDS", 1e9)
    settings = TuneSettings(space=SearchSpace(lr=(1e-4, 0.3), n_layers=(1, 2), units=(2, 16)), pruner=pruner, k=2,
                            seed=3, train_cfg=TrainConfig(batch_size=16, epochs=9))

    def run(study):
        TuneJob(study, settings, moons, n_trials=10).run_inline()
        return [(t.state, sorted(t.intermediate_values), {k: v for k, v in t.system_attrs.items()
                                                           if k.startswith("completed_rung_")}) for t in study.trials]

    sampler, _, _ = settings.sampler_and_pruner()
    from mlcore.tune.choices import REDUCTION_FACTOR, last_decision, pruning_step

    warmup, rf = pruning_step(settings.max_epochs), REDUCTION_FACTOR[pruner]  # optuna's own, make_pruner's settings
    prn = (optuna.pruners.SuccessiveHalvingPruner(min_resource=warmup, reduction_factor=rf) if pruner == "halving" else
           optuna.pruners.HyperbandPruner(min_resource=warmup, max_resource=last_decision(settings.max_epochs),
                                          reduction_factor=rf))
    plain = optuna.create_study(storage=JournalStorage(JournalFileBackend(str(tmp_path / "plain.journal"))),
                                sampler=sampler, pruner=prn, direction=settings.direction,
                                study_name="rungs")  # Hyperband picks brackets by study name
    expected = run(plain)
    store = StudyStore(tmp_path / "ours")
    ours = _study(store, "rungs", settings, moons)
    backend = ours._storage._backend
    appends_before = backend.appends
    got = run(ours)
    assert got == expected
    assert ours.best_value == plain.best_value
    assert sum(state == TrialState.PRUNED for state, _, _ in got) >= 2  # the pruner did prune
    assert sum(len(rungs) for _, _, rungs in got) >= 5  # and wrote rung values
    fresh = StudyStore(tmp_path / "ours").load("rungs")
    assert [{k: v for k, v in t.system_attrs.items() if k.startswith("completed_rung_")} for t in fresh.trials] \
        == [rungs for _, _, rungs in got]
    assert backend.appends - appends_before == 2 * len(got)
    from mlcore.tune.journal import MLPlabJournalStorage, TrialDurableFileBackend

    path = str(store.path_for("rungs"))
    theirs = JournalStorage(JournalFileBackend(path))  # optuna's own replay of our file
    ours_again = MLPlabJournalStorage(TrialDurableFileBackend(path))
    ours_again._sync_with_backend()
    sid = theirs.get_study_id_from_name("rungs")
    assert ours_again._replay_result.__class__.__name__ == "_BatchedReplay"
    assert ours_again.get_all_trials(sid) == theirs.get_all_trials(sid)


def test_journal_lock_is_optuna_s_lock_file_with_a_short_link_to_the_journal(tmp_path):
    """The embedded storage locks with optuna's own lock file, so a stock optuna writer on the
    same journal (optuna-dashboard) waits for it and it waits for them; its link names the journal
    relative to its folder (under ext4's 60 bytes kept in the inode, where the absolute path of a
    deep data dir is not) and resolves to the journal itself, as optuna's absolute one does."""
    import threading

    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock, JournalStorage
    from optuna.storages.journal._file import get_lock_file
    from optuna.study import StudyDirection

    from mlcore.tune.journal import MLPlabJournalStorage, RelativeSymlinkLock, TrialDurableFileBackend

    deep = tmp_path / ("d" * 40) / "studies"
    deep.mkdir(parents=True)
    path = str(deep / "s.journal")
    ours = MLPlabJournalStorage(TrialDurableFileBackend(path))
    sid = ours.create_new_study([StudyDirection.MAXIMIZE], "s")
    lock = ours._backend._lock
    stock = JournalFileSymlinkLock(path)
    assert isinstance(lock, RelativeSymlinkLock) and lock._lock_file == stock._lock_file == path + ".lock"
    assert len(stock._lock_target_file) > 60  # what optuna's own link would hold here

    events = []
    with get_lock_file(lock):
        link = path + ".lock"
        assert os.readlink(link) == "s.journal" and os.path.samefile(link, path)
        stock_writer = threading.Thread(target=lambda: (JournalStorage(JournalFileBackend(path)).create_new_trial(sid),
                                                        events.append("stock wrote")))
        stock_writer.start()
        stock_writer.join(0.3)
        assert stock_writer.is_alive() and events == []  # it waits for our lock
        events.append("ours released")
    stock_writer.join(10)
    assert events == ["ours released", "stock wrote"] and not os.path.lexists(path + ".lock")

    with get_lock_file(stock):  # and ours waits for a stock writer's lock
        writer = threading.Thread(target=lambda: (ours.create_new_trial(sid), events.append("ours wrote")))
        writer.start()
        writer.join(0.3)
        assert writer.is_alive()
        events.append("stock released")
    writer.join(10)
    assert events[2:] == ["stock released", "ours wrote"]
    assert len(JournalStorage(JournalFileBackend(path)).get_all_trials(sid)) == 2


def test_batched_replay_reads_interleaved_and_repeated_values_as_optuna_does(tmp_path):
    """Values of two trials interleaved, a repeated step, and a value another worker wrote to a
    finished trial: the batched replay builds the same trials as optuna's; and this worker's
    write to a finished trial raises once, after the rest of the log is read."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.storages.journal import JournalFileBackend, JournalStorage
    from optuna.storages.journal._storage import JournalOperation
    from optuna.study import StudyDirection

    from mlcore.tune.journal import MLPlabJournalStorage, TrialDurableFileBackend

    path = str(tmp_path / "s.journal")
    writer = JournalStorage(JournalFileBackend(path))
    sid = writer.create_new_study([StudyDirection.MAXIMIZE], "s")
    a, b = writer.create_new_trial(sid), writer.create_new_trial(sid)
    for step, (trial, value) in enumerate([(a, 0.1), (a, 0.2), (b, 0.5), (a, 0.3), (b, 0.6), (b, 0.7)]):
        writer.set_trial_intermediate_value(trial, step // 2, value)
    writer.set_trial_intermediate_value(a, 0, 0.9)  # a repeated step: the later value wins
    writer.set_trial_state_values(a, TrialState.COMPLETE, [0.9])
    other = JournalStorage(JournalFileBackend(path))
    other._backend.append_logs([{"op_code": JournalOperation.SET_TRIAL_INTERMEDIATE_VALUE, "worker_id": "someone-else",
                                 "trial_id": a, "step": 5, "intermediate_value": 1.0}])  # ignored: a is finished
    writer.set_trial_intermediate_value(b, 9, 0.8)
    ours = MLPlabJournalStorage(TrialDurableFileBackend(path))
    theirs = JournalStorage(JournalFileBackend(path))
    assert ours.get_all_trials(sid) == theirs.get_all_trials(sid)
    assert theirs.get_trial(a).intermediate_values == {0: 0.9, 1: 0.3}  # the known answer
    assert theirs.get_trial(b).intermediate_values == {1: 0.5, 2: 0.7, 9: 0.8}

    # this worker's buffered values to a trial someone else finished, then another trial's value
    c = ours.create_new_trial(sid)
    d = ours.create_new_trial(sid)
    ours.set_trial_intermediate_value(c, 0, 0.1)
    ours.set_trial_intermediate_value(c, 1, 0.2)
    theirs.set_trial_state_values(c, TrialState.FAIL)
    ours.set_trial_intermediate_value(d, 0, 0.4)
    with pytest.raises(UpdateFinishedTrialError):
        ours.flush()
    assert ours.get_all_trials(sid) == JournalStorage(JournalFileBackend(path)).get_all_trials(sid)
    assert ours.get_trial(d).intermediate_values == {0: 0.4} and ours.get_trial(c).intermediate_values == {}


def test_two_storages_interleaving_on_one_file_see_every_write_as_optuna_replays_it(tmp_path):
    """Our storage and another process's write in turn (the other before our next append, and
    after our append before our read): every state equals what optuna's own storage replays
    from the file, and the other process sees every write."""
    from optuna.storages.journal import JournalFileBackend, JournalStorage
    from optuna.storages.journal._storage import JournalOperation
    from optuna.study import StudyDirection

    from mlcore.tune.journal import MLPlabJournalStorage, TrialDurableFileBackend

    path = str(tmp_path / "s.journal")
    ours = MLPlabJournalStorage(TrialDurableFileBackend(path))
    sid = ours.create_new_study([StudyDirection.MAXIMIZE], "s")
    a = ours.create_new_trial(sid)
    ours.set_trial_intermediate_value(a, 1, 0.5)
    ours.set_trial_state_values(a, TrialState.COMPLETE, [0.5])

    def file_says():
        return JournalStorage(JournalFileBackend(path)).get_all_trials(sid)

    other = JournalStorage(JournalFileBackend(path))
    b = other.create_new_trial(sid)  # another process writes before our next append
    c = ours.create_new_trial(sid)  # the other's trial comes before ours
    assert [t._trial_id for t in ours.get_all_trials(sid)] == [a, b, c]
    ours.set_trial_state_values(c, TrialState.COMPLETE, [0.7])

    other.set_trial_state_values(b, TrialState.COMPLETE, [0.6])  # the other process, after us
    d = ours.create_new_trial(sid)  # its line comes before ours
    assert ours.get_trial(b).state == TrialState.COMPLETE

    # our append, then another process's, then our read
    ours._backend.append_logs([{"op_code": JournalOperation.SET_TRIAL_USER_ATTR, "worker_id": ours._replay_result.worker_id,
                                "trial_id": d, "user_attr": {"note": "x"}}])
    f = other.create_new_trial(sid)
    ours._sync_with_backend()
    assert ours.get_trial(d).user_attrs == {"note": "x"} and ours.get_trial(f).state == TrialState.RUNNING
    ours.set_trial_intermediate_value(d, 1, 0.1)
    ours.set_trial_state_values(d, TrialState.PRUNED)
    assert ours.get_all_trials(sid) == file_says() == other.get_all_trials(sid)
    assert [t.state for t in file_says()] == [TrialState.COMPLETE] * 3 + [TrialState.PRUNED, TrialState.RUNNING]
    assert file_says()[3].intermediate_values == {1: 0.1}


def test_wilcoxon_pruner_gets_scipy_s_own_p_values_and_prunes_as_before(tmp_path, moons, monkeypatch):
    """The vectorised permutation test gives scipy.stats.wilcoxon's p-value exactly, with ties,
    zeros, neither, and past 13 values; make_pruner's Wilcoxon uses it, and a study prunes the
    same trials at the same epochs as with scipy's own test."""
    import scipy.stats
    from optuna.pruners import _wilcoxon

    from mlcore.tune.choices import WilcoxonStats

    rng = np.random.default_rng(0)
    fast = WilcoxonStats()
    cases = [np.round(rng.normal(0, 0.02, n), 2) for n in (2, 3, 5, 8, 12, 13, 14, 20) for _ in range(3)]
    cases += [np.zeros(6), np.array([0.01, -0.01, 0.01, 0.0]), rng.normal(0, 1, 9)]  # all zero; a tie; no tie
    for d in cases:
        for alt in ("less", "greater"):
            assert fast.wilcoxon(d, alternative=alt, zero_method="zsplit").pvalue == \
                scipy.stats.wilcoxon(d, alternative=alt, zero_method="zsplit").pvalue
    make_pruner("wilcoxon", 10)
    assert isinstance(_wilcoxon.ss, WilcoxonStats) and _wilcoxon.ss.norm is scipy.stats.norm

    monkeypatch.setattr("mlcore.tune.objective.CHUNK_SECONDS", 1e9)  # the same chunks in both runs
    settings = TuneSettings(space=SearchSpace(lr=(1e-4, 0.3), n_layers=(1, 2), units=(2, 16)), pruner="wilcoxon",
                            k=2, seed=1, train_cfg=TrainConfig(batch_size=16, epochs=12))

    def run(name, stats):
        study = _study(StudyStore(tmp_path), name, settings, moons)  # make_pruner installs WilcoxonStats
        monkeypatch.setattr(_wilcoxon, "ss", stats)
        TuneJob(study, settings, moons, n_trials=8).run_inline()
        return [(t.state, sorted(t.intermediate_values)) for t in study.trials], study.best_value

    ours = run("fast", WilcoxonStats())
    assert run("scipy", scipy.stats) == ours
    assert any(state == TrialState.PRUNED for state, _ in ours[0])


def test_tpe_normal_cdf_is_scipy_s_accurate_one_and_samples_as_stock_optuna(monkeypatch):
    """make_sampler('tpe') points TPE's truncated normals at scipy's log_ndtr, ndtr and ndtri_exp:
    they match mpmath's log(Phi(a)) and Phi(a) to 1e-13 and 1e-12 in every branch of optuna's own
    (a <= -20, the middle, a > 6), where optuna's log is within 5e-8; ndtri_exp inverts mpmath's
    log(Phi) as optuna's Newton loop does; and a TPE study draws the same parameters as stock
    optuna's TPE (its own normals and acquisition)."""
    import mpmath
    from optuna.samplers._tpe import _truncnorm

    from mlcore.tune import tpe

    sampler = make_sampler("tpe", SearchSpace(), 3)[0]
    assert _truncnorm._log_ndtr is tpe.log_ndtr and _truncnorm._ndtr is tpe.ndtr
    assert _truncnorm._ndtri_exp is tpe.ndtri_exp
    original, original_ndtr = tpe.log_ndtr.optuna_original, tpe.ndtr.optuna_original
    original_ndtri_exp = tpe.ndtri_exp.optuna_original
    a = np.concatenate([np.linspace(-60, -20.5, 40), np.linspace(-20, 6, 400), np.linspace(6.5, 12, 20)])
    with mpmath.workdps(80):  # log(Phi(12)) = log(1 - 1.8e-33)
        exact = np.array([float(mpmath.log(mpmath.ncdf(x))) for x in a])
        phi = np.array([float(mpmath.ncdf(x)) for x in a])
    assert np.allclose(tpe.log_ndtr(a), exact, rtol=1e-13, atol=0)
    normal = phi > 1e-300  # below, Phi is a subnormal float (or 0) with fewer digits
    assert np.allclose(tpe.ndtr(a[normal]), phi[normal], rtol=1e-12, atol=0)
    central = np.abs(a) < 2  # where optuna uses its own (0.5 + erf / 2: no digits left in the tails)
    assert np.allclose(original_ndtr(a[central]), phi[central], rtol=1e-13, atol=0)
    assert np.allclose(original(a), exact, rtol=1e-7, atol=0)
    assert not np.allclose(original(a), exact, rtol=1e-10, atol=0)  # optuna's loses digits near Phi = 1
    x = np.concatenate([np.linspace(-30, -1, 30), np.linspace(-1, 5, 60)])
    with mpmath.workdps(80):
        y = np.array([float(mpmath.log(mpmath.ncdf(v))) for v in x])  # log(Phi(x)), from -454 to -3e-7
    assert np.allclose(tpe.ndtri_exp(y), x, rtol=1e-9, atol=1e-12)
    assert np.allclose(original_ndtri_exp(y), x, rtol=1e-7, atol=1e-9)

    def objective(t):
        lr, n, u = t.suggest_float("lr", 1e-4, 1e-1, log=True), t.suggest_int("n_layers", 1, 3), t.suggest_int("units", 4, 64)
        return -(math.log10(lr) + 2) ** 2 - 0.01 * n - abs(u - 20) / 100

    def params(sampler, log_ndtr, ndtr, ndtri_exp):
        monkeypatch.setattr(_truncnorm, "_log_ndtr", log_ndtr)
        monkeypatch.setattr(_truncnorm, "_ndtr", ndtr)
        monkeypatch.setattr(_truncnorm, "_ndtri_exp", ndtri_exp)
        study = optuna.create_study(sampler=sampler, direction="maximize")
        study.optimize(objective, n_trials=25)
        return [t.params for t in study.trials]

    ours = params(sampler, tpe.log_ndtr, tpe.ndtr, tpe.ndtri_exp)
    from mlcore.tune.choices import TPE_STARTUP

    stock_sampler = optuna.samplers.TPESampler(seed=3, n_startup_trials=TPE_STARTUP, multivariate=True)
    stock = params(stock_sampler, original, original_ndtr, original_ndtri_exp)
    assert len(ours) == len(stock) == 25
    for p, q in zip(ours, stock):
        assert p.keys() == q.keys() and all(math.isclose(p[k], q[k], rel_tol=1e-9) for k in p)


def _random_mixture(rng, n_kernels: int):
    """An optuna mixture over one parameter of each kind TPE builds (log-float, float, int,
    log-int, stepped float, categorical), random kernels and weights."""
    from optuna.samplers._tpe import probability_distributions as P

    def mu_sigma(lo, hi):
        return rng.uniform(lo, hi, n_kernels), rng.uniform(0.01, hi - lo, n_kernels)

    ln = (np.log(1e-4), np.log(1e-1))
    weights = rng.dirichlet(np.ones(n_kernels))
    return P._MixtureOfProductDistribution(weights=weights, distributions=[
        P._BatchedTruncLogNormDistributions(*mu_sigma(*ln), 1e-4, 1e-1),
        P._BatchedTruncNormDistributions(*mu_sigma(0.0, 0.5), 0.0, 0.5),
        P._BatchedDiscreteTruncNormDistributions(*mu_sigma(0.5, 3.5), 1, 3, 1),
        P._BatchedDiscreteTruncLogNormDistributions(*mu_sigma(np.log(3.5), np.log(64.5)), 4, 64, 1),
        P._BatchedDiscreteTruncNormDistributions(*mu_sigma(-0.025, 0.525), 0.0, 0.5, 0.05),
        P._BatchedCategoricalDistributions(rng.dirichlet(np.ones(3), n_kernels)),
    ])


def test_tpe_acquisition_in_one_pass_gives_optuna_s_densities_bit_for_bit():
    """mixtures_log_pdf of TPE's two estimators (a kernel per observation plus the prior) is
    optuna's log_pdf of each, exactly: the same floats, not merely close; at the candidates the
    sampler draws, at the bounds, and with kernels far from a point (densities near 0)."""
    from mlcore.tune.tpe import mixtures_log_pdf

    rng = np.random.default_rng(7)
    for n_below, n_above in [(1, 1), (2, 9), (6, 25), (11, 40)]:
        below, above = _random_mixture(rng, n_below), _random_mixture(rng, n_above)
        x = below.sample(np.random.RandomState(int(rng.integers(1 << 30))), 24)
        x[0] = [1e-4, 0.0, 1, 4, 0.0, 0]  # every parameter at its lower bound
        x[1] = [1e-1, 0.5, 3, 64, 0.5, 2]  # and at its upper one
        ours = mixtures_log_pdf([below, above], x)
        assert np.array_equal(ours[0], below.log_pdf(x)) and np.array_equal(ours[1], above.log_pdf(x))
        assert np.isfinite(ours[0]).all() and (ours[0] != ours[1]).any()
        alone = mixtures_log_pdf([above], x)[0]
        assert np.array_equal(alone, above.log_pdf(x))


@pytest.mark.parametrize("kwargs", [{"multivariate": True}, {}, {"multivariate": True, "constant_liar": True}])
def test_our_tpe_draws_what_optuna_s_tpe_draws(kwargs):
    """mlcore.tune.tpe.TPESampler against optuna's TPESampler (both with scipy's normals, which
    the test above compares on their own): 40 trials over every kind of parameter, the same
    parameters exactly, multivariate or not, with constant liar."""
    from mlcore.tune.tpe import TPESampler

    def objective(t):
        lr, n = t.suggest_float("lr", 1e-4, 1e-1, log=True), t.suggest_int("n_layers", 1, 3)
        u, act = t.suggest_int("units", 4, 64, log=True), t.suggest_categorical("act", ["relu", "tanh", "gelu"])
        d, w = t.suggest_float("drop", 0.0, 0.5, step=0.05), t.suggest_float("wd", 0.0, 1e-2)
        return -(math.log10(lr) + 2) ** 2 - 0.01 * n - abs(u - 20) / 100 - 0.1 * (act == "tanh") - d + w

    def params(cls):
        study = optuna.create_study(sampler=cls(seed=5, n_startup_trials=5, **kwargs), direction="maximize")
        study.optimize(objective, n_trials=40)
        return [t.params for t in study.trials]

    TPESampler(seed=0)  # installs scipy's normals for both
    assert params(TPESampler) == params(optuna.samplers.TPESampler)


def _hand_study(n_complete: int, n_pruned: int):
    """An in-memory study with ``n_complete`` complete and ``n_pruned`` pruned trials (values and
    per-epoch intermediate values given by hand)."""
    import optuna

    study = optuna.create_study(direction="maximize")
    dist = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)}
    for i in range(n_complete + n_pruned):
        pruned = i >= n_complete
        study.add_trial(optuna.trial.create_trial(
            params={"lr": 0.001 * (i + 1)}, distributions=dist, value=0.7 + 0.01 * i,
            state=optuna.trial.TrialState.PRUNED if pruned else optuna.trial.TrialState.COMPLETE,
            intermediate_values={e: 0.6 + 0.01 * (i + e) for e in range(1, (3 if pruned else 6) + 1)}))
    return study


def test_the_edf_waits_for_two_complete_trials():
    from mlcore.plots.tune import study_figure

    assert study_figure("edf", _hand_study(1, 2), {"title": "T"}) is None  # one value: no step to draw
    fig = study_figure("edf", _hand_study(2, 1), {"title": "T"})
    assert fig is not None and len(fig.data) >= 1


def test_the_timeline_ticks_whole_trial_numbers_and_few_intermediate_curves_have_a_legend():
    from mlcore.plots.tune import LEGEND_MAX_TRIALS, study_figure

    study = _hand_study(1, 2)
    assert study_figure("timeline", study, {"title": "T"}).layout.yaxis.dtick == 1
    few = study_figure("intermediate", study, {"title": "T"})
    assert len(few.data) == 3 and all(t.showlegend for t in few.data) and few.layout.showlegend
    assert few.layout.legend.orientation == "h"  # below the plot, as the app's other figures
    many = study_figure("intermediate", _hand_study(LEGEND_MAX_TRIALS + 1, 0), {"title": "T"})
    assert not any(t.showlegend for t in many.data)
