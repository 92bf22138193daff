"""Training jobs in a process pool, with Play / Pause / Step / Reset per session.

Why hand-written: a class of ~30 shares one 2-core server, and Streamlit runs every session's
script in a thread of one process. Training in those threads is GIL-bound (measured: 1172 steps/s
with one training thread, 423 with eight), so training runs in a small pool of worker processes,
one torch thread each. ``concurrent.futures`` gives the pool; what no library gives is the
classroom behaviour on top of it:

- ``WorkerPool`` keeps its own FIFO queue in front of the executor, so a session can be told its
  position in the queue while every worker is busy, and warms its workers up (importing torch and
  lightning takes seconds) before the first Play.
- ``TrainingController`` belongs to ONE session. It advances that session's ``TrainState``
  (weights, optimizer state, RNG state, history) by bounded chunks (about 0.3 s or one epoch),
  which gives Play/Pause/Step naturally: Play chains chunks until the run ends or Pause is
  pressed; Step runs exactly one epoch; Pause lets the chunk in flight finish and keeps the state.
  Configuration changes made while paused (for example the learning rate) apply to the next chunk
  without touching the weights.

Nothing here is module-level mutable state: the pool is created by the app (one per server,
shared read-only in behaviour), controllers live in each session's state.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from collections import deque
from contextlib import contextmanager
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from mlcore.config import ModelConfig, TrainConfig

CHUNK_SECONDS = 0.3
IDLE_PAUSE_SECONDS = 600.0  # Play pauses itself when nobody has looked for this long
_MAIN_LOCK = threading.Lock()


@contextmanager
def _neutral_main():
    """Start worker processes without re-running the caller's ``__main__``.

    ``spawn`` re-executes ``sys.modules["__main__"]`` in each new worker. Under Streamlit that is
    the running page script (Streamlit installs it as ``__main__``), which would run the app in a
    bare worker. While processes may start, ``__main__`` is a blank module instead.
    """
    with _MAIN_LOCK:
        original = sys.modules.get("__main__")
        stub = types.ModuleType("__main__")
        sys.modules["__main__"] = stub
        try:
            yield
        finally:
            if sys.modules.get("__main__") is stub:
                sys.modules["__main__"] = original


# ----------------------------------------------------------------------------------------------
# Worker side (runs in the worker processes; module-level functions so they pickle by name)
# ----------------------------------------------------------------------------------------------


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)
    import mlcore.train  # noqa: F401  (pay the torch + lightning import once per worker)


def _warmup(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


@dataclass(frozen=True)
class ViewSpec:
    """What the live view needs besides the curves, computed in the worker after each chunk.

    ``grid`` holds already-preprocessed points of the input plane (2-D data) or line (1-D);
    ``hidden_grid`` a coarser grid for the small per-neuron maps.
    """

    grid: np.ndarray | None = None
    hidden_grid: np.ndarray | None = None


@dataclass
class ChunkResult:
    state: Any  # mlcore.train.TrainState
    val_pred: np.ndarray | None = None
    grid_out: np.ndarray | None = None
    hidden_out: list[np.ndarray] | None = None
    seconds: float = 0.0


def run_chunk(arrays, model_cfg: ModelConfig, train_cfg: TrainConfig, state, max_epochs: int,
              max_seconds: float | None, views: ViewSpec | None) -> ChunkResult:
    """Advance ``state`` by at most ``max_epochs`` epochs / ``max_seconds``, then compute views."""
    from mlcore import train
    from mlcore.model import layer_outputs

    start = time.perf_counter()
    state = train.advance(arrays, model_cfg, train_cfg, state, max_epochs=max_epochs,
                          max_seconds=max_seconds)
    model = train.load_model(model_cfg, arrays, state)
    result = ChunkResult(state=state, val_pred=train.predict(model, arrays.X_val, arrays.task))
    if views is not None and views.grid is not None:
        result.grid_out = train.predict(model, views.grid, arrays.task)
    if views is not None and views.hidden_grid is not None:
        result.hidden_out = layer_outputs(model, views.hidden_grid)
    result.seconds = time.perf_counter() - start
    return result


# ----------------------------------------------------------------------------------------------
# Server side
# ----------------------------------------------------------------------------------------------


@dataclass
class Ticket:
    id: int
    future: Future = field(default_factory=Future)


class WorkerPool:
    """A process pool sized to the cores with a visible FIFO queue in front of it."""

    def __init__(self, n_workers: int | None = None, executor: Any | None = None) -> None:
        self.n_workers = n_workers or max(1, min(os.cpu_count() or 1, 4))
        self._own_executor = executor is None  # then a broken pool is replaced, not kept
        self._executor = executor if executor is not None else self._new_executor()
        self._lock = threading.Lock()
        self._queue: deque[tuple[Ticket, Callable, tuple]] = deque()
        self._running = 0
        self._next_id = 0
        self._warm = False

    def _new_executor(self) -> ProcessPoolExecutor:
        import multiprocessing as mp

        return ProcessPoolExecutor(max_workers=self.n_workers, mp_context=mp.get_context("spawn"),
                                   initializer=_worker_init)

    def _replace_if_broken(self, exc: BaseException) -> None:
        """A worker that died (killed, out of memory) breaks the whole executor; the class keeps
        training: that one job fails, and the next ones get a fresh executor."""
        from concurrent.futures.process import BrokenProcessPool

        if self._own_executor and isinstance(exc, BrokenProcessPool):
            with self._lock:
                broken, self._executor = self._executor, self._new_executor()
            broken.shutdown(wait=False, cancel_futures=True)

    def submit(self, fn: Callable, *args) -> Ticket:
        with self._lock:
            self._next_id += 1
            ticket = Ticket(self._next_id)
            self._queue.append((ticket, fn, args))
        self._pump()
        return ticket

    def position(self, ticket: Ticket) -> int:
        """0 while the job runs (or is done); k when k jobs must start before it."""
        with self._lock:
            for i, (queued, _fn, _args) in enumerate(self._queue):
                if queued.id == ticket.id:
                    return i + 1
        return 0

    @property
    def busy(self) -> int:
        with self._lock:
            return self._running

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def warm_up(self) -> None:
        """Start every worker now (torch and lightning import once each), not on the first Play."""
        with self._lock:
            if self._warm:
                return
            self._warm = True
        for _ in range(self.n_workers):
            self.submit(_warmup, 0.2)

    def _pump(self) -> None:
        while True:
            with self._lock:
                if self._running >= self.n_workers or not self._queue:
                    return
                ticket, fn, args = self._queue.popleft()
                self._running += 1
            try:
                with _neutral_main():  # a submit may start a worker process
                    inner = self._executor.submit(fn, *args)
            except Exception as exc:  # executor broken or shut down
                with self._lock:
                    self._running -= 1
                self._replace_if_broken(exc)
                ticket.future.set_exception(exc)
                continue
            inner.add_done_callback(lambda f, t=ticket: self._finished(t, f))

    def _finished(self, ticket: Ticket, inner: Future) -> None:
        with self._lock:
            self._running -= 1
        exc = inner.exception()
        if exc is not None:
            self._replace_if_broken(exc)
            ticket.future.set_exception(exc)
        else:
            ticket.future.set_result(inner.result())
        self._pump()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


IDLE, PLAYING, PAUSED, FINISHED = "idle", "playing", "paused", "finished"
_END_STATUSES = {"done", "diverged", "early_stopped"}


@dataclass
class Snapshot:
    """A consistent copy of a controller's state for rendering."""

    mode: str
    state: Any
    result: ChunkResult | None
    queue_position: int
    error: BaseException | None
    generation: int


class TrainingController:
    """One session's training: Play / Pause / Step / Reset over a ``WorkerPool``."""

    def __init__(self, pool: WorkerPool, arrays, model_cfg: ModelConfig, train_cfg: TrainConfig,
                 views: ViewSpec | None = None, on_finish: Callable[["TrainingController"], None] | None = None):
        from mlcore import train

        self.pool = pool
        self.arrays = arrays
        self.model_cfg = model_cfg
        self.train_cfg = train_cfg
        self.views = views
        self.on_finish = on_finish
        self._lock = threading.RLock()
        self._mode = IDLE
        self._state = train.init_state(arrays, model_cfg, train_cfg)
        self._result: ChunkResult | None = None
        self._ticket: Ticket | None = None
        self._error: BaseException | None = None
        self._stop_after_chunk = False
        self._generation = 0  # bumps on reset: results of older chunks are dropped
        self._last_seen = time.monotonic()

    # ---- commands ---------------------------------------------------------------------------
    def play(self) -> None:
        with self._lock:
            if self._mode == PLAYING or self._finished_state():
                return
            self._mode = PLAYING
            self._stop_after_chunk = False
            self._error = None
            if self._ticket is None:
                self._submit(max_epochs=self._remaining(), max_seconds=CHUNK_SECONDS)

    def pause(self) -> None:
        with self._lock:
            if self._mode == PLAYING:
                self._mode = PAUSED
                self._stop_after_chunk = True

    def step(self) -> None:
        """Advance exactly one epoch (from idle or paused)."""
        with self._lock:
            if self._mode == PLAYING or self._ticket is not None or self._finished_state():
                return
            self._mode = PAUSED
            self._stop_after_chunk = True
            self._error = None
            self._submit(max_epochs=1, max_seconds=None)

    def reset(self, model_cfg: ModelConfig | None = None, train_cfg: TrainConfig | None = None) -> None:
        from mlcore import train

        with self._lock:
            self.model_cfg = model_cfg or self.model_cfg
            self.train_cfg = train_cfg or self.train_cfg
            self._generation += 1
            self._ticket = None
            self._mode = IDLE
            self._result = None
            self._error = None
            self._state = train.init_state(self.arrays, self.model_cfg, self.train_cfg)

    def adopt_weights(self, model_state: dict) -> None:
        """Start from loaded weights: fresh optimizer state and history, same architecture."""
        with self._lock:
            self.reset()
            self._state = replace(self._state, model_state=model_state)

    def set_train_config(self, train_cfg: TrainConfig) -> None:
        """New hyperparameters (learning rate, epochs, ...) apply from the next chunk on."""
        with self._lock:
            self.train_cfg = train_cfg
            if self._mode == FINISHED and self._state.status == "done" and self._remaining() > 0:
                self._mode = PAUSED
                self._state = replace(self._state, status="paused")

    # ---- queries ----------------------------------------------------------------------------
    def touch(self) -> None:
        """Someone is looking at this session (any page run): keep playing."""
        self._last_seen = time.monotonic()

    def snapshot(self) -> Snapshot:
        with self._lock:
            self._last_seen = time.monotonic()
            position = self.pool.position(self._ticket) if self._ticket is not None else 0
            return Snapshot(self._mode, self._state, self._result, position, self._error, self._generation)

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._ticket is not None

    def wait(self, timeout: float = 60.0) -> Snapshot:
        """Block until no chunk is in flight and not playing, or ``timeout`` passes; then snapshot."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._ticket is None and self._mode != PLAYING:
                    break
            time.sleep(0.02)
        return self.snapshot()

    # ---- internals --------------------------------------------------------------------------
    def _remaining(self) -> int:
        return max(0, self.train_cfg.epochs - self._state.epoch)

    def _finished_state(self) -> bool:
        return self._state.status in _END_STATUSES or self._remaining() == 0

    def _submit(self, max_epochs: int, max_seconds: float | None) -> None:
        generation = self._generation
        ticket = self.pool.submit(run_chunk, self.arrays, self.model_cfg, self.train_cfg, self._state,
                                  max(1, max_epochs), max_seconds, self.views)
        self._ticket = ticket
        ticket.future.add_done_callback(lambda f: self._chunk_done(f, generation))

    def _chunk_done(self, future: Future, generation: int) -> None:
        finished = False
        with self._lock:
            if generation != self._generation:
                return  # reset while this chunk was running
            self._ticket = None
            exc = future.exception()
            if exc is not None:
                self._error = exc
                self._mode = PAUSED
                return
            result: ChunkResult = future.result()
            self._result = result
            self._state = result.state
            if self._finished_state():
                self._mode = FINISHED
                finished = True
            elif self._mode == PLAYING and time.monotonic() - self._last_seen > IDLE_PAUSE_SECONDS:
                self._mode = PAUSED  # the browser was closed: free the shared workers
            elif self._mode == PLAYING and not self._stop_after_chunk:
                self._submit(max_epochs=self._remaining(), max_seconds=CHUNK_SECONDS)
            else:
                self._mode = PAUSED
        if finished and self.on_finish is not None:
            self.on_finish(self)
