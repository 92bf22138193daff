"""The objective of a study, run with Optuna's ask-and-tell interface in bounded chunks.

:class:`TuneJob` is a ``ChunkJob`` (see :mod:`mlcore.jobs`): on the server it asks the study for a
trial, builds the trial's k fold members (:func:`mlcore.evaluate.folds.fold_members`), and hands
the worker pool one chunk at a time (:func:`trial_chunk`: all k folds advanced together by a few
epochs, about ``CHUNK_SECONDS`` of work). Between chunks it reports the MEAN over the folds of the
chosen metric at each new epoch (one report per epoch, so step numbers are unique: Optuna ignores a
second report at the same step), asks the pruner, and finally tells the result:

- COMPLETE with the mean over folds at the last epoch;
- PRUNED when ``trial.should_prune()`` says so (the epochs it did not train are counted);
- FAIL with its reason (``fail_reason`` user attribute, in English, and ``fail_key`` for the
  page's catalogue) when a fold diverges or training fails; the study goes on with the next trial.

Reports are buffered by the embedded storage and written with the trial's next write, at least
every ``FLUSH_SECONDS`` and with its tell. Chunks end on the pruner's decision epochs
(:func:`mlcore.tune.choices.decision_epochs`: its warm-up, its interval, its rungs) and the
pruner is asked there, after every epoch of the chunk has been reported, so no chunk trains past
an epoch where the trial could have been stopped (the pruner reads the running trial's values
from its ``Trial``; see :mod:`mlcore.tune.storage` for why and what it saves). Otherwise a
chunk is as long as about ``CHUNK_SECONDS`` of training allows.

``request_stop()`` ends the job after the running trial, so every trial in the storage is
finished (none is left RUNNING) and every completed one is kept. ``abandon()`` fails the running
trial at once (the page calls it when a job it replaces or finds stopped still holds a trial).
Before each ask the job fails the study's stale trials (no heartbeat for the storage's grace
period: a killed worker, a closed page), and while a trial runs it records a heartbeat.

A study carries everything a headless worker needs to rebuild this objective in its user
attributes (:func:`study_attrs`): the data arrays (compressed), the settings and the session's
base configs.
"""

from __future__ import annotations

import base64
import io
import math
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, Task, TrainConfig
from mlcore.errors import ConfigError, MLCoreError
from mlcore.tune.choices import DEFAULT_PRUNER, decision_epochs
from mlcore.tune.space import SearchSpace, suggest

from mlcore.jobs import ChunkJob as _Base

CHUNK_SECONDS = 0.3
FLUSH_SECONDS = 1.0  # the embedded storage's buffered reports go out at least this often (and at each tell)
MAX_EPOCHS_PER_CHUNK = 50
METRICS = ("score", "loss")  # score: accuracy (classification) or R² (regression), maximised
ATTR_SETTINGS, ATTR_DATA, ATTR_SOURCE = "mlplab_settings", "mlplab_arrays", "mlplab_source"


@dataclass(frozen=True)
class TuneSettings:
    """Everything that defines a study's objective and search (stored with the study)."""

    space: SearchSpace = SearchSpace()
    sampler: str = "tpe"
    pruner: str = DEFAULT_PRUNER
    metric: str = "score"
    k: int = 3
    seed: int = 0
    model_cfg: ModelConfig = ModelConfig()
    train_cfg: TrainConfig = TrainConfig(epochs=30)

    def __post_init__(self) -> None:
        from mlcore.tune.choices import PRUNERS, SAMPLERS

        if self.sampler not in SAMPLERS:
            raise ConfigError("err.tune.sampler", value=self.sampler, allowed=", ".join(SAMPLERS))
        if self.pruner not in PRUNERS:
            raise ConfigError("err.tune.pruner", value=self.pruner, allowed=", ".join(PRUNERS))
        if self.metric not in METRICS:
            raise ConfigError("err.tune.metric", value=self.metric, allowed=", ".join(METRICS))
        if not 1 <= int(self.k) <= 10:
            raise ConfigError("err.eval.k_range", value=self.k, low=1, high=10)

    @property
    def direction(self) -> str:
        return "maximize" if self.metric == "score" else "minimize"

    @property
    def max_epochs(self) -> int:
        return self.space.max_epochs(self.train_cfg)

    def sampler_and_pruner(self, seed: int | None = None):
        """(sampler, pruner, notices) for this study; ``seed`` overrides the sampler seed (a second
        worker process should not replay the first one's random draws)."""
        from mlcore.tune.choices import make_pruner, make_sampler

        sampler, notices = make_sampler(self.sampler, self.space, self.seed if seed is None else seed)
        return sampler, make_pruner(self.pruner, self.max_epochs), notices

    # ---- (de)serialisation into study user attributes (JSON) -------------------------------
    def to_dict(self) -> dict:
        return {"space": self.space.to_dict(), "sampler": self.sampler, "pruner": self.pruner,
                "metric": self.metric, "k": int(self.k), "seed": int(self.seed),
                "model_cfg": asdict(self.model_cfg), "train_cfg": asdict(self.train_cfg)}

    @classmethod
    def from_dict(cls, d: dict) -> TuneSettings:
        m = dict(d["model_cfg"])
        m["hidden"] = tuple(LayerSpec(**h) for h in m["hidden"])
        t = dict(d["train_cfg"])
        t["optim"] = OptimConfig(**t["optim"])
        return cls(space=SearchSpace.from_dict(d["space"]), sampler=d["sampler"], pruner=d["pruner"],
                   metric=d["metric"], k=int(d["k"]), seed=int(d["seed"]), model_cfg=ModelConfig(**m),
                   train_cfg=TrainConfig(**t))


def encode_arrays(arrays) -> str:
    buf = io.BytesIO()
    np.savez_compressed(buf, X_train=arrays.X_train, y_train=arrays.y_train, X_val=arrays.X_val,
                        y_val=arrays.y_val, meta=np.array([arrays.n_classes]), task=np.array(arrays.task.value))
    return base64.b64encode(buf.getvalue()).decode("ascii")


def decode_arrays(text: str):
    from mlcore.train import TrainArrays

    with np.load(io.BytesIO(base64.b64decode(text))) as z:
        return TrainArrays(z["X_train"], z["y_train"], z["X_val"], z["y_val"], Task(str(z["task"])),
                           int(z["meta"][0]))


def study_attrs(settings: TuneSettings, arrays, source: dict | None = None) -> dict:
    """The user attributes a study needs so that any worker can rebuild its objective."""
    return {ATTR_SETTINGS: settings.to_dict(), ATTR_DATA: encode_arrays(arrays), ATTR_SOURCE: dict(source or {})}


def from_study(study) -> tuple[TuneSettings, object]:
    """(settings, arrays) stored with ``study``; ``ConfigError('err.tune.not_mlplab')`` otherwise."""
    attrs = study.user_attrs
    if ATTR_SETTINGS not in attrs or ATTR_DATA not in attrs:
        raise ConfigError("err.tune.not_mlplab", name=study.study_name)
    return TuneSettings.from_dict(attrs[ATTR_SETTINGS]), decode_arrays(attrs[ATTR_DATA])


# ------------------------------------------------------------------------------------------------
# Worker side
# ------------------------------------------------------------------------------------------------


@dataclass
class ChunkOutcome:
    states: list | None
    seconds: float
    error: str | None = None  # English text
    error_key: tuple | None = None  # (catalogue key, params) for the page


def trial_chunk(members, states, max_epochs: int) -> ChunkOutcome:
    """Advance every fold of one trial by ``max_epochs`` epochs (``states`` None: start them).
    Training errors come back as a value, so the server records the trial as failed."""
    from mlcore import batched

    start = time.perf_counter()
    try:
        if states is None:
            states = batched.init_many(members)
        states = batched.advance_many(members, states, max_epochs=max_epochs)
    except MLCoreError as err:
        return ChunkOutcome(None, time.perf_counter() - start, err.message("en"),
                            (err.key, {k: str(v) for k, v in err.params.items()}))
    except Exception as err:  # a torch failure: the trial fails, the study goes on
        text = f"{type(err).__name__}: {err}"
        return ChunkOutcome(None, time.perf_counter() - start, text, ("tune.fail.error", {"text": text}))
    return ChunkOutcome(states, time.perf_counter() - start)


# ------------------------------------------------------------------------------------------------
# Server side
# ------------------------------------------------------------------------------------------------


@dataclass
class _Running:
    trial: object
    members: list
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    decisions: tuple[int, ...] = ()  # the epochs at which the pruner may stop it (choices.decision_epochs)
    states: list | None = None
    reported: int = 0
    started: float = field(default_factory=time.perf_counter)
    last_beat: float = field(default_factory=time.monotonic)


class TuneJob(_Base):
    """Runs ``n_trials`` trials of ``study`` (ask-and-tell), one bounded chunk at a time.

    ``study`` must have been created or loaded with the settings' sampler and pruner.
    """

    def __init__(self, study, settings: TuneSettings, arrays, n_trials: int, *, grid_size: int | None = None) -> None:
        self.study = study
        self.settings = settings
        self.arrays = arrays
        self.n_trials = max(0, int(n_trials))
        if settings.sampler == "grid":
            from mlcore.tune.choices import GRID_POINTS

            left = (grid_size if grid_size is not None else settings.space.grid_size(GRID_POINTS)) - len(study.trials)
            self.n_trials = min(self.n_trials, max(0, left))
        self.finished = 0  # trials this job told
        self.told: list[int] = []  # their numbers
        self.current: _Running | None = None
        self.stop_requested = False
        self.epochs_per_chunk = 2
        self.overhead = 0.0  # server seconds in ask / suggest / report / should_prune / tell (sampler, pruner, storage)
        self.pruner_seconds = 0.0  # of which in should_prune (the pruner's decisions, its reads of the study)
        self._objective_seconds = 0.0  # of which the objective's own work (folds, means over folds): not overhead
        self.trial_seconds = 0.0  # wall seconds from ask to tell, summed
        self.epochs_trained = 0
        self.epochs_saved = 0
        self.lost: list[int] = []  # trials another process failed as stale while this job ran them
        self._flushed = time.monotonic()

    # ---- ChunkJob API ------------------------------------------------------------------------
    def next_call(self):
        if self.current is None:
            self._ask()
        run = self.current
        # the chunk ends at the trial's next pruning decision (or its last epoch), never past it
        until = next((d for d in run.decisions if d > run.reported), run.train_cfg.epochs)
        n_epochs = max(1, min(self.epochs_per_chunk, until - run.reported))
        return trial_chunk, (run.members, run.states, n_epochs)

    def absorb(self, result: ChunkOutcome) -> None:
        from optuna.exceptions import UpdateFinishedTrialError

        from mlcore.tune.storage import flush

        run = self.current
        if run is None:
            return
        t0, own = time.perf_counter(), self._objective_seconds
        try:
            self._absorb(run, result)
            if self.current is run:
                self._beat(run)
                if time.monotonic() - self._flushed >= FLUSH_SECONDS:
                    flush(self.study)  # the epochs so far, visible to other processes
                    self._flushed = time.monotonic()
        except UpdateFinishedTrialError:  # another process failed this trial as stale
            self._lose(run)
        finally:
            self.overhead += time.perf_counter() - t0 - (self._objective_seconds - own)

    def _beat(self, run: _Running) -> None:
        from mlcore.tune.storage import beat, heartbeat_seconds

        interval = heartbeat_seconds(self.study)
        if interval is not None and time.monotonic() - run.last_beat >= interval:
            beat(self.study, run.trial)
            run.last_beat = time.monotonic()

    def _lose(self, run: _Running) -> None:
        """The trial was finished by someone else: count it and go on with the next one."""
        from mlcore.tune.storage import discard

        discard(self.study, run.trial._trial_id)
        self.lost.append(run.trial.number)
        self.finished += 1
        self.current = None

    def done(self) -> bool:
        if self.current is not None:
            return False
        return self.stop_requested or self.finished >= self.n_trials

    def progress(self) -> float:
        if self.n_trials == 0:
            return 1.0
        part = 0.0
        if self.current is not None:
            part = self.current.reported / max(1, self.current.train_cfg.epochs)
        return min(1.0, (self.finished + part) / self.n_trials)

    def label(self) -> str:
        return f"tune:{self.study.study_name}"

    # ---- commands ----------------------------------------------------------------------------
    def request_stop(self) -> None:
        """End after the running trial (it is finished and told as usual)."""
        self.stop_requested = True

    def abandon(self, why: str = "stopped") -> None:
        """Fail the running trial now, with its reason (``why``: ``stopped``, ``replaced`` or
        ``interrupted``, catalogue ``tune.fail.abandoned.<why>``); the job then ends."""
        from optuna.exceptions import UpdateFinishedTrialError

        run, self.stop_requested = self.current, True
        if run is None:
            return
        try:
            self._fail(run, f"abandoned ({why}) at epoch {run.reported}", (f"tune.fail.abandoned.{why}",
                                                                          {"epoch": run.reported}))
        except UpdateFinishedTrialError:  # another process failed it first (stale)
            self._lose(run)
        except Exception:  # noqa: BLE001 - storage unreachable: the trial stops beating and ends FAIL as stale
            self.current = None

    @property
    def has_running_trial(self) -> bool:
        return self.current is not None

    def run_inline(self) -> TuneJob:
        """Run every chunk in this thread (tests, the headless worker, benchmarks)."""
        from mlcore.jobs import run_inline

        return run_inline(self)

    # ---- internals ---------------------------------------------------------------------------
    def _ask(self) -> None:
        import warnings

        from mlcore.evaluate.folds import fold_members
        from mlcore.tune.storage import beat, fail_stale_trials

        t0 = time.perf_counter()
        fail_stale_trials(self.study)  # as Study.optimize does before each trial with a heartbeat
        with warnings.catch_warnings():  # "heartbeat is supposed to be used with Study.optimize": we beat
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            trial = self.study.ask()
        beat(self.study, trial)
        s = self.settings
        try:
            mcfg, tcfg = suggest(trial, s.space, s.model_cfg, s.train_cfg)
            n_train = len(self.arrays.y_train)
            if tcfg.batch_size > n_train:
                tcfg = replace(tcfg, batch_size=n_train)
            t1 = time.perf_counter()
            members = fold_members(self.arrays, mcfg, tcfg, s.k, s.seed)
            t0 += time.perf_counter() - t1  # splitting the folds is the objective's work, not overhead
        except MLCoreError as err:
            self.overhead += time.perf_counter() - t0
            run = _Running(trial, [], s.model_cfg, s.train_cfg)
            self._fail(run, err.message("en"), (err.key, {k: str(v) for k, v in err.params.items()}))
            if self.done():
                self.current = None
                raise
            return self._ask()
        trial.set_user_attr("epochs_planned", int(tcfg.epochs))
        decisions = decision_epochs(s.pruner, s.max_epochs, tcfg.epochs)
        self.current = _Running(trial, members, mcfg, tcfg, decisions)
        self.overhead += time.perf_counter() - t0

    def _value(self, states, epoch: int) -> float:
        t0 = time.perf_counter()
        if self.settings.metric == "score":
            values = [s.history[epoch - 1].val_metric for s in states]
        else:
            values = [s.history[epoch - 1].val_loss for s in states]
        value = float(np.mean(values))
        self._objective_seconds += time.perf_counter() - t0
        return value

    def _absorb(self, run: _Running, result: ChunkOutcome) -> None:
        # Chunk length: each call pays a fixed cost (a Trainer per fold) besides its epochs, so
        # the length doubles while chunks are short and halves when they run long.
        if result.seconds < CHUNK_SECONDS / 2:
            self.epochs_per_chunk = min(MAX_EPOCHS_PER_CHUNK, self.epochs_per_chunk * 2)
        elif result.seconds > 2 * CHUNK_SECONDS:
            self.epochs_per_chunk = max(1, self.epochs_per_chunk // 2)
        if result.error is not None:
            return self._fail(run, result.error, result.error_key)
        run.states = result.states
        for fold, state in enumerate(run.states):
            if state.status == "diverged":
                return self._fail(run, f"diverged: loss not finite at epoch {state.diverged_epoch}, "
                                       f"step {state.diverged_step} (fold {fold + 1})",
                                  ("tune.fail.diverged", {"epoch": state.diverged_epoch, "step": state.diverged_step,
                                                          "fold": fold + 1}))
        reached = min(s.epoch for s in run.states)
        trial = run.trial
        for epoch in range(run.reported + 1, reached + 1):
            value = self._value(run.states, epoch)
            run.reported = epoch
            self.epochs_trained += 1
            if not math.isfinite(value):
                return self._fail(run, f"metric not finite at epoch {epoch}", ("tune.fail.not_finite", {"epoch": epoch}))
            trial.report(value, epoch)  # buffered by the embedded storage: one append per chunk
        # The pruner is asked only at its decision epochs, where the chunks end: it sees every
        # epoch's value, and each should_prune reads the study.
        if run.reported in run.decisions and self._should_prune(trial):
            self.epochs_saved += run.train_cfg.epochs - run.reported
            trial.set_user_attr("epochs_run", run.reported)
            return self._tell(run, "pruned")
        if reached >= run.train_cfg.epochs:
            trial.set_user_attr("epochs_run", reached)
            self._tell(run, "complete", self._value(run.states, reached))

    def _should_prune(self, trial) -> bool:
        t0 = time.perf_counter()
        try:
            return trial.should_prune()
        finally:
            self.pruner_seconds += time.perf_counter() - t0

    def _fail(self, run: _Running, reason: str, key: tuple | None = None) -> None:
        run.trial.set_user_attr("fail_reason", reason)
        if key is not None:
            run.trial.set_user_attr("fail_key", {"key": key[0], "params": dict(key[1])})
        run.trial.set_user_attr("epochs_run", run.reported)
        self._tell(run, "fail")

    def _tell(self, run: _Running, state: str, value: float | None = None) -> None:
        from optuna.study._tell import _tell_with_warning
        from optuna.trial import TrialState

        states = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "fail": TrialState.FAIL}
        # What Study.tell does, less the deep copy of the finished trial it returns (about 0.3 ms,
        # a tenth of a short trial's sampler + storage time): the runner only reads its state and
        # value. skip_if_finished: another process may have failed it as stale (then it is not ours).
        _tell_with_warning(self.study, run.trial, value if state == "complete" else None,
                           state=states[state], skip_if_finished=True)
        frozen = self.study._storage.get_trial(run.trial._trial_id)
        self._flushed = time.monotonic()
        self.trial_seconds += time.perf_counter() - run.started
        if frozen.state != states[state] or (state == "complete" and frozen.value != value):
            return self._lose(run)
        self.finished += 1
        self.told.append(run.trial.number)
        self.current = None


class CompareJob(_Base):
    """Several studies on the same budget, one after the other (Random vs TPE, same seed)."""

    def __init__(self, jobs: list[TuneJob]) -> None:
        self.jobs = jobs

    def _active(self) -> TuneJob | None:
        return next((j for j in self.jobs if not j.done()), None)

    def next_call(self):
        return self._active().next_call()

    def absorb(self, result) -> None:
        self._active().absorb(result)

    def done(self) -> bool:
        return self._active() is None

    def progress(self) -> float:
        return sum(j.progress() for j in self.jobs) / max(1, len(self.jobs))

    def request_stop(self) -> None:
        for j in self.jobs:
            j.request_stop()

    def abandon(self, why: str = "stopped") -> None:
        for j in self.jobs:
            j.abandon(why)

    @property
    def has_running_trial(self) -> bool:
        return any(j.has_running_trial for j in self.jobs)


def retrain_chunk(arrays, model_cfg, train_cfg, state, max_epochs: int, views=None):
    """One chunk of the retraining, as the Train page's own (``mlcore.jobs.run_chunk``): the state
    and the validation predictions (and ``views``: the Train page's input-plane grid), which the
    Train and Evaluate pages show once it is adopted."""
    from mlcore import train
    from mlcore.jobs import run_chunk

    if state is None:
        state = train.init_state(arrays, model_cfg, train_cfg)
    return run_chunk(arrays, model_cfg, train_cfg, state, max_epochs, CHUNK_SECONDS, views)


def train_plus_validation(arrays):
    """Training rows + validation rows as the training set ("use the best": every labelled row
    except the test split). The validation set stays as it was, so its curve is no longer an
    honest estimate; the test split (if any) is."""
    from mlcore.train import TrainArrays

    return TrainArrays(np.concatenate([arrays.X_train, arrays.X_val]), np.concatenate([arrays.y_train, arrays.y_val]),
                       arrays.X_val, arrays.y_val, arrays.task, arrays.n_classes)


class RetrainJob(_Base):
    """Retrain one configuration on train + validation in chunks (the best trial's)."""

    def __init__(self, arrays, model_cfg: ModelConfig, train_cfg: TrainConfig, views=None) -> None:
        self.arrays = train_plus_validation(arrays)
        self.views = views  # mlcore.jobs.ViewSpec or None
        self.model_cfg, self.train_cfg = model_cfg, train_cfg
        self.result = None  # the last chunk's ChunkResult (state and validation predictions)

    @property
    def state(self):
        """The retraining's TrainState so far (None before the first chunk)."""
        return None if self.result is None else self.result.state

    def next_call(self):
        return retrain_chunk, (self.arrays, self.model_cfg, self.train_cfg, self.state, self.train_cfg.epochs,
                               self.views)

    def absorb(self, result) -> None:
        self.result = result

    def done(self) -> bool:
        return self.state is not None and self.state.status in ("done", "diverged", "early_stopped")

    def progress(self) -> float:
        return 0.0 if self.state is None else self.state.epoch / max(1, self.train_cfg.epochs)
