"""Training: resumable, seeded runs of :class:`mlcore.system.MLPSystem` through a Lightning Trainer.

The contract the Train page and the worker pool use:

- :class:`TrainArrays`: the four arrays a worker process needs (small, picklable).
- :class:`TrainState`: a picklable snapshot of a run (weights, optimizer state, RNG state, history,
  status). It holds only plain Python and numpy objects, so it crosses process boundaries without
  torch's shared-memory pickling.
- :func:`init_state` -> :func:`advance` (as many times as wanted) -> ...; :func:`fit` is one call.

How an epoch runs (lean on purpose, Lightning's fixed cost per step dominates on small models):
one Lightning "batch" per epoch carries the whole training set in the order of that epoch's
shuffle (``torch.Generator().manual_seed(seed * 100003 + epoch)``), and ``MLPSystem`` takes one
optimizer step per mini-batch of ``batch_size`` rows inside its ``training_step``. Validation is one
forward pass over the validation set. Mini-batch semantics are the usual ones.

Resumability: the torch RNG state (dropout) is restored at the start of each call and saved at the
end of each epoch; the optimizer state is reloaded and the hyperparameters of the *current*
``OptimConfig`` are applied on top, so a learning rate changed between two calls takes effect at
once without resetting anything. ``advance(2)`` then ``advance(3)`` gives exactly the weights and
history of ``advance(5)``. Switching to another optimizer between calls starts it with a fresh
state (the old one's moments mean nothing to it); the weights are kept.

``advance`` sets the process's torch RNG state while it runs (restored afterwards) and Lightning's
``deterministic=True`` mode: run it in one thread per process, as the worker pool does.

Divergence: a non-finite loss stops training at the step where it happens, before the update. The
weights kept are the last finite ones (those before the bad step; if they were already non-finite,
the weights at the start of that epoch). Early stopping: ``patience`` epochs without improving the
best validation loss. The final (not the best) weights are kept in both cases.

Lightning is imported only when training actually runs, so the Build page can call
:func:`init_state`, :func:`load_model` and :func:`predict` without paying for it.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from mlcore.config import ModelConfig, Task, TrainConfig
from mlcore.errors import DataError, TrainingError
from mlcore.model import MLP, output_size

__all__ = [
    "TrainArrays",
    "EpochRecord",
    "TrainState",
    "STATUSES",
    "init_state",
    "advance",
    "fit",
    "load_model",
    "predict",
    "state_to_numpy",
]

STATUSES = ("ready", "paused", "done", "diverged", "early_stopped")
_FINAL = ("diverged", "early_stopped")


# ------------------------------------------------------------------------------------------------
# Data and state records
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TrainArrays:
    """Training and validation arrays: float32 features, int64 class ids or float32 targets."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    task: Task
    n_classes: int

    def __post_init__(self) -> None:
        task = Task(self.task)
        object.__setattr__(self, "task", task)
        object.__setattr__(self, "n_classes", int(self.n_classes))
        ydtype = np.float32 if task is Task.REGRESSION else np.int64
        for name, dtype in (("X_train", np.float32), ("X_val", np.float32), ("y_train", ydtype), ("y_val", ydtype)):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=dtype))
        for split in ("train", "val"):
            X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
            if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(y) == 0:
                raise DataError("err.train.arrays", split=split, x_shape=tuple(X.shape), y_shape=tuple(y.shape))
        if self.X_train.shape[1] != self.X_val.shape[1]:
            raise DataError("err.train.columns", train=self.X_train.shape[1], val=self.X_val.shape[1])
        if task.is_classification:
            low = min(self.y_train.min(), self.y_val.min())
            high = max(self.y_train.max(), self.y_val.max())
            if low < 0 or high >= self.n_classes:
                raise DataError("err.train.labels", low=int(low), high=int(high), n_classes=self.n_classes)

    @classmethod
    def from_prepared(cls, data: Any) -> TrainArrays:
        """From a :class:`mlcore.dataset.PreparedData` (the test split is left out on purpose)."""
        return cls(data.X_train, data.y_train, data.X_val, data.y_val, data.task, data.n_classes)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    def n_outputs(self, model_cfg: ModelConfig) -> int:
        return output_size(self.task, self.n_classes, model_cfg.binary_head)


@dataclass
class EpochRecord:
    """Metrics of one epoch (``epoch`` counts from 1). ``*_metric`` is accuracy or R².

    ``train_*`` are averaged over the epoch's mini-batches as the weights changed; ``val_*`` are
    computed once at the end of the epoch.
    """

    epoch: int
    train_loss: float
    val_loss: float
    train_metric: float
    val_metric: float
    seconds: float


@dataclass
class TrainState:
    """Everything needed to show a run and to go on training it. Picklable (numpy only)."""

    model_state: dict  # parameter name -> np.ndarray (torch tensors are accepted too)
    optim_state: dict | None  # optimizer.state_dict() with tensors as numpy arrays; None = fresh
    epoch: int  # completed epochs
    rng_state: np.ndarray  # torch CPU generator state (uint8), for dropout
    history: list[EpochRecord] = field(default_factory=list)
    status: str = "ready"  # "ready" | "paused" | "done" | "diverged" | "early_stopped"
    diverged_epoch: int | None = None
    diverged_step: int | None = None  # 1-based mini-batch index within diverged_epoch
    best_val_loss: float = math.inf
    bad_epochs: int = 0  # epochs since best_val_loss last improved
    optim_name: str | None = None  # which optimizer optim_state belongs to


# ------------------------------------------------------------------------------------------------
# Conversions between torch and numpy state
# ------------------------------------------------------------------------------------------------


def state_to_numpy(obj: Any) -> Any:
    """Recursively replace tensors by numpy copies (dicts, lists and tuples are walked)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy().copy()
    if isinstance(obj, dict):
        return {k: state_to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(state_to_numpy(v) for v in obj)
    return obj


def _optim_to_torch(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj.copy())
    if isinstance(obj, dict):
        return {k: _optim_to_torch(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_optim_to_torch(v) for v in obj]
    return obj


def _load_weights(model: MLP, model_state: Any) -> None:
    """Copy ``model_state`` (a state dict of numpy arrays or tensors, or a module) into ``model``."""
    if isinstance(model_state, torch.nn.Module):
        model_state = model_state.state_dict()
    tensors = {k: torch.as_tensor(np.asarray(v) if not isinstance(v, torch.Tensor) else v) for k, v in model_state.items()}
    try:
        model.load_state_dict(tensors)
    except RuntimeError as err:
        raise TrainingError("err.train.state_mismatch", detail=str(err).splitlines()[0]) from None


def _read_only_tensor(array: np.ndarray) -> torch.Tensor:
    """A tensor sharing the (read-only) array's memory: training only reads it, so torch's
    warning about non-writable arrays does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array)


def _rng_numpy() -> np.ndarray:
    return torch.get_rng_state().numpy().copy()


# ------------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------------


def init_state(arrays: TrainArrays, model_cfg: ModelConfig, train_cfg: TrainConfig) -> TrainState:
    """The state before any training: seeded initial weights (the diagram shows them)."""
    model = MLP(model_cfg, arrays.n_features, arrays.n_outputs(model_cfg), seed=train_cfg.seed)
    gen = torch.Generator().manual_seed(train_cfg.seed)
    return TrainState(
        model_state=state_to_numpy(model.state_dict()),
        optim_state=None,
        epoch=0,
        rng_state=gen.get_state().numpy().copy(),
        history=[],
        status="ready",
    )


def load_model(model_cfg: ModelConfig, arrays_or_shape: TrainArrays | tuple[int, int], state: TrainState) -> MLP:
    """An eval-mode :class:`MLP` with the weights of ``state``.

    ``arrays_or_shape`` is the :class:`TrainArrays` of the run or ``(n_inputs, n_outputs)``.
    """
    if isinstance(arrays_or_shape, TrainArrays):
        n_in, n_out = arrays_or_shape.n_features, arrays_or_shape.n_outputs(model_cfg)
    else:
        n_in, n_out = (int(v) for v in arrays_or_shape)
    with torch.random.fork_rng(devices=[]):  # the random init is overwritten: keep the caller's RNG as is
        model = MLP(model_cfg, n_in, n_out)
    _load_weights(model, state.model_state)
    return model.eval()


@torch.no_grad()
def predict(model: MLP, X: np.ndarray, task: Task | str) -> np.ndarray:
    """Class probabilities ``(n, k)`` for classification (k >= 2, also for a 1-output binary
    head: columns ``[1-p, p]``), or predicted values ``(n,)`` for regression. float32."""
    task = Task(task)
    was_training = model.training
    model.eval()
    try:
        out = model(torch.as_tensor(np.asarray(X, dtype=np.float32)))
    finally:
        model.train(was_training)
    if task is Task.REGRESSION:
        return out[:, 0].numpy().copy()
    if out.shape[1] == 1:
        p = torch.sigmoid(out[:, 0])
        return torch.stack([1 - p, p], dim=1).numpy().copy()
    return torch.softmax(out, dim=1).numpy().copy()


def fit(
    arrays: TrainArrays,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> TrainState:
    """A whole run from fresh seeded weights: ``advance(..., max_epochs=train_cfg.epochs)``."""
    state = init_state(arrays, model_cfg, train_cfg)
    return advance(arrays, model_cfg, train_cfg, state, max_epochs=train_cfg.epochs, on_epoch=on_epoch)


def advance(
    arrays: TrainArrays,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    state: TrainState,
    max_epochs: int = 1,
    max_seconds: float | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> TrainState:
    """Train for up to ``max_epochs`` more epochs (never past ``train_cfg.epochs``), stopping
    after the epoch in which ``max_seconds`` is exceeded. Returns a NEW state; ``state`` is not
    modified. A diverged or early-stopped state is returned unchanged."""
    if state.status in _FINAL:
        return state
    remaining = train_cfg.epochs - state.epoch
    n_epochs = min(int(max_epochs), remaining)
    if n_epochs <= 0:
        return replace(state, status="done")
    import lightning  # noqa: F401  (imported before silencing: importing it resets its log level)

    _silence_lightning()
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_IGNORED_WARNINGS)
        return _run(arrays, model_cfg, train_cfg, state, n_epochs, max_seconds, on_epoch)


# ------------------------------------------------------------------------------------------------
# The Lightning run
# ------------------------------------------------------------------------------------------------


def _silence_lightning() -> None:
    """Lightning's info messages ("GPU available: False", tips) mean nothing to a learner: raise
    its loggers to WARNING once per process (checking first: ``setLevel`` clears every logger's
    cache, about 0.2 ms a call)."""
    for name in ("lightning.pytorch", "lightning.fabric"):
        lg = logging.getLogger(name)
        if lg.level < logging.WARNING:
            lg.setLevel(logging.WARNING)
    _cache_callback_entry_points()


_FACTORIES: dict[str, list] = {}


def _cache_callback_entry_points() -> None:
    """Read Lightning's external-callback entry points once per process, not once per Trainer.

    Every ``Trainer()`` scans the installed packages' metadata for the
    ``lightning.pytorch.callbacks_factory`` entry points (``importlib.metadata.entry_points``:
    several ms, the largest single part of a Trainer's fixed cost here). The installed packages do
    not change while a worker runs, so the scan is cached; each factory is still called for every
    Trainer, as Lightning does, so the callbacks it gets are the same."""
    from lightning.pytorch.trainer.connectors import callback_connector

    if getattr(callback_connector._load_external_callbacks, "_mlcore_cached", False):
        return

    def load_external_callbacks(group: str) -> list:
        if group not in _FACTORIES:
            from importlib.metadata import entry_points

            _FACTORIES[group] = [ep.load() for ep in entry_points(group=group)]
        callbacks: list = []
        for factory in _FACTORIES[group]:
            made = factory()
            callbacks.extend(made if isinstance(made, list) else [made])
        return callbacks

    load_external_callbacks._mlcore_cached = True
    callback_connector._load_external_callbacks = load_external_callbacks


# Lightning hints that do not apply here (we pass no DataLoader and run validation ourselves).
_IGNORED_WARNINGS = r".*(num_workers|does not have many workers|log_every_n_steps|val_dataloader|LeafSpec).*"


class _EpochBatches:
    """The epochs of one call: the whole training set in each epoch's shuffled order, drawn from
    a generator seeded with ``seed * 100003 + epoch`` (never from the global RNG, so dropout and
    shuffling do not disturb each other). Lightning sees ONE batch per call (this object, see
    :class:`OneBatch`); ``MLPSystem.training_step`` walks :meth:`epochs` and calls ``begin`` /
    ``end`` (the :class:`Recorder`'s per-epoch work) around each one, so Lightning's per-batch
    hooks and bookkeeping (about 1 ms) are paid once per call instead of once per epoch."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor, seed: int, first_epoch: int, n_epochs: int) -> None:
        self.X, self.y = X, y
        self.seed, self.first_epoch, self.n_epochs = seed, first_epoch, n_epochs
        self.begin = self.end = None  # set by _run: the recorder's epoch_start / epoch_end

    def __len__(self) -> int:
        return self.n_epochs

    def epochs(self):
        for epoch in range(self.first_epoch, self.first_epoch + self.n_epochs):
            gen = torch.Generator().manual_seed(self.seed * 100003 + epoch)
            perm = torch.randperm(len(self.y), generator=gen)
            yield self.X[perm], self.y[perm]

    __iter__ = epochs


class OneBatch:
    """A one-batch "data loader" whose batch is the whole call (an :class:`_EpochBatches` here, the
    number of epochs in :mod:`mlcore.batched_system`), so Lightning's per-batch cost is paid once."""

    def __init__(self, batch: _EpochBatches) -> None:
        self.batch = batch

    def __len__(self) -> int:
        return 1

    def __iter__(self):
        yield self.batch


def lean_trainer(callbacks: list | None = None):
    """The quiet one-epoch CPU Trainer every mlcore run uses (single runs and batched jobs): no
    logger, progress bar, checkpointing, model summary, sanity check or validation loop."""
    import lightning as L

    return L.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                     enable_checkpointing=False, enable_model_summary=False, deterministic=True,
                     num_sanity_val_steps=0, limit_val_batches=0, callbacks=list(callbacks or []))


def fit_lean(trainer, system, train_data) -> None:
    """``trainer.fit`` with any unforeseen Lightning/torch failure turned into a TrainingError."""
    try:
        trainer.fit(system, train_dataloaders=train_data)
    except TrainingError:
        raise
    except Exception as err:  # pragma: no cover - a Lightning/torch failure we did not foresee
        raise TrainingError("err.train.failed", detail=f"{type(err).__name__}: {err}") from err


def _run(arrays, model_cfg, train_cfg, state, n_epochs, max_seconds, on_epoch) -> TrainState:
    """One Lightning epoch and ONE Lightning batch (= one ``training_step``) for the whole call;
    ``training_step`` runs every real epoch (one optimizer step per mini-batch). Lightning's fixed
    cost per batch of its loop (about 1 ms of hooks and bookkeeping) is then paid once per call,
    not per epoch; the per-epoch work (validation, records, early stopping) runs in
    ``Recorder.epoch_start`` / ``Recorder.epoch_end``, called by ``training_step`` around each epoch."""
    import lightning as L

    from mlcore.optim import apply_hyperparameters
    from mlcore.system import MLPSystem

    model = MLP(model_cfg, arrays.n_features, arrays.n_outputs(model_cfg))  # weights replaced next
    _load_weights(model, state.model_state)
    system = MLPSystem(model_cfg, train_cfg.optim, model.n_inputs, model.n_outputs, arrays.task,
                       batch_size=train_cfg.batch_size, model=model, lean=True)
    optim_state = state.optim_state if state.optim_name == train_cfg.optim.name else None
    X_train, y_train, X_val, y_val = (_read_only_tensor(a) for a in (arrays.X_train, arrays.y_train,
                                                                      arrays.X_val, arrays.y_val))
    steps_per_epoch = math.ceil(len(y_train) / train_cfg.batch_size)

    class Recorder(L.Callback):
        """Restores optimizer and RNG state; validates and records each epoch; stops early."""

        def __init__(self) -> None:
            self.records: list[EpochRecord] = []
            self.start = time.perf_counter()
            self.best = state.best_val_loss
            self.bad = state.bad_epochs
            self.status: str | None = None
            self.diverged: tuple[int, int] | None = None
            self.rng = state.rng_state

        def on_train_start(self, trainer, pl_module) -> None:
            opt = pl_module.optimizers(use_pl_optimizer=False)
            if optim_state is not None:
                opt.load_state_dict(_optim_to_torch(optim_state))
            apply_hyperparameters(opt, train_cfg.optim)
            torch.set_rng_state(torch.from_numpy(np.asarray(state.rng_state, dtype=np.uint8).copy()))
            self.params = list(pl_module.model.parameters())
            self.saved = [p.detach().clone() for p in self.params]  # weights at the start of the epoch

        def epoch_start(self, pl_module, batch_idx) -> None:
            self.t0 = time.perf_counter()
            pl_module.start_epoch()
            if batch_idx > 0:
                with torch.no_grad():
                    for saved, p in zip(self.saved, self.params):
                        saved.copy_(p)

        def _diverged(self, trainer, pl_module, epoch: int, step: int) -> None:
            self.diverged = (epoch, step)
            self.status = "diverged"
            if not all(bool(torch.isfinite(p).all()) for p in self.params):
                with torch.no_grad():  # the weights before this epoch: the last surely finite ones
                    for saved, p in zip(self.saved, self.params):
                        p.copy_(saved)
            trainer.should_stop = True

        def epoch_end(self, pl_module, batch_idx) -> bool:
            """Validate and record the epoch; True when the call stops here."""
            trainer = pl_module.trainer
            self.end_epoch(trainer, pl_module, batch_idx)
            return bool(trainer.should_stop)

        def end_epoch(self, trainer, pl_module, batch_idx) -> None:
            epoch = state.epoch + len(self.records) + 1
            if pl_module.diverged_step is not None:
                return self._diverged(trainer, pl_module, epoch, pl_module.diverged_step)
            tl, tm = pl_module.epoch_metrics("train")
            vl, vm = pl_module.evaluate(X_val, y_val, "val")  # one forward pass, no Lightning val loop
            if not math.isfinite(vl):  # the epoch's last update blew the weights up
                return self._diverged(trainer, pl_module, epoch, steps_per_epoch)
            record = EpochRecord(epoch, tl, vl, tm, vm, time.perf_counter() - self.t0)
            self.records.append(record)
            self.rng = _rng_numpy()
            if vl < self.best:
                self.best, self.bad = vl, 0
            else:
                self.bad += 1
            if on_epoch is not None:
                on_epoch(record)
            if train_cfg.patience is not None and self.bad >= train_cfg.patience:
                self.status = "early_stopped"
                trainer.should_stop = True
            elif max_seconds is not None and time.perf_counter() - self.start >= max_seconds:
                trainer.should_stop = True

    recorder = Recorder()
    trainer = lean_trainer([recorder])
    train_data = _EpochBatches(X_train, y_train, train_cfg.seed, state.epoch + 1, n_epochs)
    train_data.begin, train_data.end = recorder.epoch_start, recorder.epoch_end
    fit_lean(trainer, system, OneBatch(train_data))

    epoch = state.epoch + len(recorder.records)
    status = recorder.status
    if status is None:
        status = "done" if epoch >= train_cfg.epochs else "paused"
    opt = system.optimizers(use_pl_optimizer=False) if status != "diverged" else None
    return TrainState(
        model_state=state_to_numpy(system.model.state_dict()),
        optim_state=state_to_numpy(opt.state_dict()) if opt is not None else state.optim_state,
        epoch=epoch,
        rng_state=recorder.rng,
        history=list(state.history) + recorder.records,
        status=status,
        diverged_epoch=recorder.diverged[0] if recorder.diverged else None,
        diverged_step=recorder.diverged[1] if recorder.diverged else None,
        best_val_loss=recorder.best,
        bad_epochs=recorder.bad,
        optim_name=train_cfg.optim.name if opt is not None else state.optim_name,
    )
