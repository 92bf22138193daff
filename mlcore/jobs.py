"""Training jobs in a process pool, with Play / Pause / Step / Reset per session.

Why hand-written: a class of ~30 shares one 2-core server, and Streamlit runs every session's
script in a thread of one process. Training in those threads is GIL-bound (measured: 1172 steps/s
with one training thread, 423 with eight), so training runs in a small pool of worker processes,
one torch thread each. ``concurrent.futures`` gives the pool; what no library gives is the
classroom behaviour on top of it:

- ``WorkerPool`` keeps its own queue in front of the executor, FAIR between sessions: one queue per
  owner (a session), served round-robin, so a session with many chunks waiting (a sweep, a study)
  never makes another session's Play wait for all of them; a session can be told its position in
  the queue while every worker is busy. It warms its workers up (importing torch and lightning
  takes seconds) before the first Play. ``MLPLAB_WORKERS`` sets the number of workers.
- ``ChunkJob`` + ``JobController``: the ONE mechanism for every long job (sweeps, cross-validation,
  bias-variance runs, study trials, explanations). A job is a small adapter that says what the
  next bounded chunk is (a module-level function and picklable arguments: workers get everything
  by value) and folds each chunk's result into its own state; the controller chains the chunks
  through the pool until the job is done or stopped, keeping every finished part.
- ``TrainingController`` belongs to ONE session. It advances that session's ``TrainState``
  (weights, optimizer state, RNG state, history) by bounded chunks (about 0.3 s or one epoch),
  which gives Play/Pause/Step naturally: Play chains chunks until the run ends or Pause is
  pressed; Step runs exactly one epoch; Pause lets the chunk in flight finish and keeps the state.
  Configuration changes made while paused (for example the learning rate) apply to the next chunk
  without touching the weights. It shares the chaining logic with ``JobController``.
- Closed tabs: a controller is given an ``alive()`` callable (the UI asks Streamlit's runtime
  whether the browser session is still connected). After each chunk, a job whose session has been
  gone for ``GONE_GRACE_SECONDS`` is paused, so a closed tab frees its worker within seconds; a
  session nobody has looked at for ``IDLE_PAUSE_SECONDS`` is paused too.

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
GONE_GRACE_SECONDS = 5.0  # a disconnected session (closed tab) keeps its worker at most this long
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
    try:
        _warm_fit()
    except Exception:  # pragma: no cover - a warm-up must never stop a worker from starting
        pass


def _warm_fit() -> None:
    """Pay every one-off cost of a first training in this worker now, not in a student's first
    chunk: importing lightning and building the first Trainer took 2-3 s (measured), which made the
    first chunk on each worker ten times its 0.3 s budget. One epoch on four rows, single and batched
    (one stacked group, and two widths in one looped group as the Evaluate page's sweeps train)."""
    from mlcore import batched, train
    from mlcore.config import LayerSpec, ModelConfig, Task, TrainConfig

    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    arrays = train.TrainArrays(X, y, X, y, Task.BINARY, 2)
    model_cfg, train_cfg = ModelConfig(hidden=(LayerSpec(2, "relu"),)), TrainConfig(batch_size=2, epochs=1)
    train.fit(arrays, model_cfg, train_cfg)
    batched.fit_many([batched.Member(arrays, model_cfg, train_cfg)] * 2)
    wider = ModelConfig(hidden=(LayerSpec(3, "relu"),))  # two widths: the looped group of sweeps
    batched.fit_many([batched.Member(arrays, model_cfg, train_cfg), batched.Member(arrays, wider, train_cfg)],
                     pad_widths=True)


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
    owner: Any = None
    future: Future = field(default_factory=Future)


def default_workers() -> int:
    """``MLPLAB_WORKERS`` if set (replicas of the app on one machine share its cores), else the
    number of cores, at most 4."""
    value = os.environ.get("MLPLAB_WORKERS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(os.cpu_count() or 1, 4))


class WorkerPool:
    """A process pool with a visible queue in front of it, fair between owners (sessions).

    Jobs of one owner start in the order they were submitted; owners take turns (round-robin), so
    a job's wait depends on how many OTHER sessions are waiting, not on how much work they queued.
    """

    def __init__(self, n_workers: int | None = None, executor: Any | None = None) -> None:
        self.n_workers = n_workers or default_workers()
        self._own_executor = executor is None  # then a broken pool is replaced, not kept
        self._executor = executor if executor is not None else self._new_executor()
        self._lock = threading.Lock()
        self._queues: dict[Any, deque] = {}  # owner -> deque[(ticket, fn, args)]
        self._turns: deque = deque()  # owners with queued jobs, in the order they get a worker
        self._running = 0
        self._running_owners: dict[Any, int] = {}
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

    def submit(self, fn: Callable, *args, owner: Any = None) -> Ticket:
        """Queue ``fn(*args)``; ``owner`` (a session id) is who it is fair to. Each call without an
        owner counts as its own owner."""
        with self._lock:
            self._next_id += 1
            key = owner if owner is not None else ("anonymous", self._next_id)
            ticket = Ticket(self._next_id, key)
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = deque()
                self._turns.append(key)
            queue.append((ticket, fn, args))
        self._pump()
        return ticket

    def position(self, ticket: Ticket) -> int:
        """0 while the job runs (or is done); k when k jobs will start before or with it: its rank
        in the round-robin order the queue is served in."""
        with self._lock:
            queue = self._queues.get(ticket.owner)
            if not queue:
                return 0
            index = next((i for i, (t, _f, _a) in enumerate(queue) if t.id == ticket.id), None)
            if index is None:
                return 0
            turn = list(self._turns).index(ticket.owner)
            ahead = index + 1
            for k, other in enumerate(self._turns):
                if other != ticket.owner:
                    ahead += min(len(self._queues[other]), index + (1 if k < turn else 0))
            return ahead

    @property
    def busy(self) -> int:
        with self._lock:
            return self._running

    @property
    def queued(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    @property
    def active_owners(self) -> int:
        """How many owners have a job queued or running (the load the live views adapt to)."""
        with self._lock:
            return len(set(self._queues) | {o for o, n in self._running_owners.items() if n > 0})

    def warm_up(self) -> None:
        """Start every worker now (torch and lightning import once each), not on the first Play."""
        with self._lock:
            if self._warm:
                return
            self._warm = True
        for _ in range(self.n_workers):
            self.submit(_warmup, 0.2)

    def _pop_next(self):
        """The next job in round-robin order (lock held)."""
        owner = self._turns.popleft()
        queue = self._queues[owner]
        item = queue.popleft()
        if queue:
            self._turns.append(owner)  # its next job waits for every other owner's turn
        else:
            del self._queues[owner]
        return item

    def _pump(self) -> None:
        while True:
            with self._lock:
                if self._running >= self.n_workers or not self._turns:
                    return
                ticket, fn, args = self._pop_next()
                self._running += 1
                self._running_owners[ticket.owner] = self._running_owners.get(ticket.owner, 0) + 1
            try:
                with _neutral_main():  # a submit may start a worker process
                    inner = self._executor.submit(fn, *args)
            except Exception as exc:  # executor broken or shut down
                self._release(ticket)
                self._replace_if_broken(exc)
                ticket.future.set_exception(exc)
                continue
            inner.add_done_callback(lambda f, t=ticket: self._finished(t, f))

    def _release(self, ticket: Ticket) -> None:
        with self._lock:
            self._running -= 1
            left = self._running_owners.get(ticket.owner, 1) - 1
            if left > 0:
                self._running_owners[ticket.owner] = left
            else:
                self._running_owners.pop(ticket.owner, None)

    def _finished(self, ticket: Ticket, inner: Future) -> None:
        self._release(ticket)
        exc = inner.exception()
        if exc is not None:
            self._replace_if_broken(exc)
            ticket.future.set_exception(exc)
        else:
            ticket.future.set_result(inner.result())
        self._pump()

    def shutdown(self, wait: bool = False) -> None:
        """Stop the workers; ``wait`` until they have exited (a script about to end: otherwise
        Python's exit hook wakes the executor's closed pipe and prints an ignored OSError)."""
        self._executor.shutdown(wait=wait, cancel_futures=True)


IDLE, PLAYING, PAUSED, FINISHED = "idle", "playing", "paused", "finished"
RUNNING, STOPPED, FAILED = "running", "stopped", "failed"
_END_STATUSES = {"done", "diverged", "early_stopped"}


class _ChunkChain:
    """What every per-session controller shares: one chunk in flight at a time through the pool,
    results of chunks submitted before a reset dropped (``generation``), and the checks that stop
    chaining when nobody is there any more (closed tab, or nobody looked for a long time)."""

    def __init__(self, pool: WorkerPool, owner: Any = None, alive: Callable[[], bool] | None = None) -> None:
        self.pool = pool
        self.owner = owner
        self.alive = alive
        self._lock = threading.RLock()
        self._ticket: Ticket | None = None
        self._error: BaseException | None = None
        self._generation = 0
        self._last_seen = time.monotonic()
        self._gone_since: float | None = None

    def touch(self) -> None:
        """Someone is looking at this session (any page run): keep going."""
        self._last_seen = time.monotonic()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._ticket is not None

    def _queue_position(self) -> int:
        return self.pool.position(self._ticket) if self._ticket is not None else 0

    def _abandoned(self) -> bool:
        """True when the session's browser has been gone for ``GONE_GRACE_SECONDS`` or nobody has
        looked for ``IDLE_PAUSE_SECONDS``: then no further chunk is started."""
        now = time.monotonic()
        if now - self._last_seen > IDLE_PAUSE_SECONDS:
            return True
        if self.alive is None:
            return False
        try:
            connected = bool(self.alive())
        except Exception:  # pragma: no cover - a liveness probe must never break a job
            connected = True
        if connected:
            self._gone_since = None
            return False
        if self._gone_since is None:
            self._gone_since = now
        return now - self._gone_since >= GONE_GRACE_SECONDS

    def _submit_call(self, fn: Callable, args: tuple) -> None:
        generation = self._generation
        ticket = self.pool.submit(fn, *args, owner=self.owner)
        self._ticket = ticket
        ticket.future.add_done_callback(lambda f: self._chunk_done(f, generation))

    def _idle_wait(self) -> bool:
        """True while a chunk is in flight or the chain is still running (for ``wait``)."""
        raise NotImplementedError

    def _wait_until_settled(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._idle_wait():
                    return
            time.sleep(0.02)

    def _chunk_done(self, future: Future, generation: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Snapshot:
    """A consistent copy of a training controller's state for rendering."""

    mode: str
    state: Any
    result: ChunkResult | None
    queue_position: int
    error: BaseException | None
    generation: int
    finished_in: float | None = None  # seconds from the last Play to the last epoch, once finished


class TrainingController(_ChunkChain):
    """One session's training: Play / Pause / Step / Reset over a ``WorkerPool``."""

    def __init__(self, pool: WorkerPool, arrays, model_cfg: ModelConfig, train_cfg: TrainConfig,
                 views: ViewSpec | None = None, on_finish: Callable[["TrainingController"], None] | None = None,
                 owner: Any = None, alive: Callable[[], bool] | None = None):
        from mlcore import train

        super().__init__(pool, owner, alive)
        self.arrays = arrays
        self.model_cfg = model_cfg
        self.train_cfg = train_cfg
        self.views = views
        self.on_finish = on_finish
        self._mode = IDLE
        self._state = train.init_state(arrays, model_cfg, train_cfg)
        self._result: ChunkResult | None = None
        self._stop_after_chunk = False
        self._played_at: float | None = None  # monotonic time of the last Play
        self._finished_in: float | None = None

    # ---- commands ---------------------------------------------------------------------------
    def play(self) -> None:
        with self._lock:
            if self._mode == PLAYING or self._finished_state():
                return
            self._mode = PLAYING
            self._stop_after_chunk = False
            self._error = None
            self._gone_since = None
            self._played_at, self._finished_in = time.monotonic(), None
            self.touch()
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

    def reset(self, model_cfg: ModelConfig | None = None, train_cfg: TrainConfig | None = None,
              state=None) -> None:
        """Back to idle with fresh weights (or with ``state``, a run to start from)."""
        from mlcore import train

        with self._lock:
            self.model_cfg = model_cfg or self.model_cfg
            self.train_cfg = train_cfg or self.train_cfg
            self._generation += 1
            self._ticket = None
            self._mode = IDLE
            self._result = None
            self._error = None
            self._played_at = self._finished_in = None
            self._state = state if state is not None else train.init_state(self.arrays, self.model_cfg, self.train_cfg)

    def adopt_weights(self, model_state: dict) -> None:
        """Start from loaded weights: fresh optimizer state and history, same architecture."""
        with self._lock:
            self.reset()
            self._state = replace(self._state, model_state=model_state)

    def adopt_run(self, result: ChunkResult) -> None:
        """Take over a run trained elsewhere (the Tune page's best trial, retrained): its weights,
        optimizer state, history and epochs, and its last validation predictions. Finished if it
        reached this controller's epochs (or stopped early); Play then goes on from it."""
        with self._lock:
            self.reset(state=result.state)
            self._result = result
            if self._finished_state():
                self._mode = FINISHED
            elif self._state.epoch > 0:
                self._mode = PAUSED

    def set_train_config(self, train_cfg: TrainConfig) -> None:
        """New hyperparameters (learning rate, epochs, ...) apply from the next chunk on."""
        with self._lock:
            self.train_cfg = train_cfg
            if self._mode == FINISHED and self._state.status == "done" and self._remaining() > 0:
                self._mode = PAUSED
                self._state = replace(self._state, status="paused")

    # ---- queries ----------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            self._last_seen = time.monotonic()
            return Snapshot(self._mode, self._state, self._result, self._queue_position(), self._error,
                            self._generation, self._finished_in)

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    def wait(self, timeout: float = 60.0) -> Snapshot:
        """Block until no chunk is in flight and not playing, or ``timeout`` passes; then snapshot."""
        self._wait_until_settled(timeout)
        return self.snapshot()

    # ---- internals --------------------------------------------------------------------------
    def _idle_wait(self) -> bool:
        return self._ticket is not None or self._mode == PLAYING

    def _remaining(self) -> int:
        return max(0, self.train_cfg.epochs - self._state.epoch)

    def _finished_state(self) -> bool:
        return self._state.status in _END_STATUSES or self._remaining() == 0

    def _submit(self, max_epochs: int, max_seconds: float | None) -> None:
        self._submit_call(run_chunk, (self.arrays, self.model_cfg, self.train_cfg, self._state,
                                      max(1, max_epochs), max_seconds, self.views))

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
                if self._mode == PLAYING and self._played_at is not None:
                    self._finished_in = time.monotonic() - self._played_at
                self._mode = FINISHED
                finished = True
            elif self._mode == PLAYING and self._abandoned():
                self._mode = PAUSED  # the browser was closed: free the shared workers
            elif self._mode == PLAYING and not self._stop_after_chunk:
                self._submit(max_epochs=self._remaining(), max_seconds=CHUNK_SECONDS)
            else:
                self._mode = PAUSED
        if finished and self.on_finish is not None:
            self.on_finish(self)


# ----------------------------------------------------------------------------------------------
# Any other long job: an adapter (ChunkJob) and its controller (JobController)
# ----------------------------------------------------------------------------------------------


class ChunkJob:
    """The adapter one kind of long work implements (a sweep, k folds, a study, an explanation).

    It lives on the server side and owns the job's state. ``next_call`` says what the next bounded
    chunk is (about ``CHUNK_SECONDS`` of work): a module-level function, pickled by name, and
    picklable arguments (arrays, frozen configs, states), so the same job runs in a worker process,
    in a thread (tests) or inline. ``absorb`` folds that chunk's result in; everything absorbed
    stays when the job is stopped. Subclasses override the four methods.
    """

    def next_call(self) -> tuple[Callable, tuple]:  # pragma: no cover - abstract
        raise NotImplementedError

    def absorb(self, result: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def done(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def progress(self) -> float:
        """0..1 for the progress bar."""
        return 1.0 if self.done() else 0.0

    def label(self) -> str:
        return type(self).__name__


@dataclass
class JobSnapshot:
    """A consistent view of a ``JobController`` for rendering."""

    mode: str  # idle | running | stopped | finished | failed
    progress: float
    queue_position: int
    error: BaseException | None
    job: ChunkJob
    generation: int
    chunks: int  # chunks absorbed so far (a cheap "did anything change" key for figures)


def run_inline(job: ChunkJob, max_chunks: int | None = None) -> ChunkJob:
    """Run ``job`` to the end (or ``max_chunks`` chunks) in this thread: scripts, tests, benches."""
    n = 0
    while not job.done() and (max_chunks is None or n < max_chunks):
        fn, args = job.next_call()
        job.absorb(fn(*args))
        n += 1
    return job


class JobController(_ChunkChain):
    """One session's long job: ``start`` chains its chunks through the pool until the job is done;
    ``stop`` lets the chunk in flight finish (its result is kept) and starts no other; ``start``
    again goes on from there."""

    def __init__(self, pool: WorkerPool, job: ChunkJob, owner: Any = None,
                 alive: Callable[[], bool] | None = None,
                 on_finish: Callable[["JobController"], None] | None = None) -> None:
        super().__init__(pool, owner, alive)
        self.job = job
        self.on_finish = on_finish
        self._mode = IDLE
        self._chunks = 0

    def start(self) -> None:
        with self._lock:
            if self._mode == RUNNING or self.job.done():
                return
            self._mode = RUNNING
            self._error = None
            self._gone_since = None
            self.touch()
            if self._ticket is None:
                self._next()

    def stop(self) -> None:
        with self._lock:
            if self._mode == RUNNING:
                self._mode = STOPPED

    def cancel(self) -> None:
        """Stop and forget the chunk in flight (the job is being replaced)."""
        with self._lock:
            self._generation += 1
            self._ticket = None
            if self._mode == RUNNING:
                self._mode = STOPPED

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            self._last_seen = time.monotonic()
            try:
                progress = float(self.job.progress())
            except Exception:  # pragma: no cover - a progress bar must never break a page
                progress = 0.0
            return JobSnapshot(self._mode, min(1.0, max(0.0, progress)), self._queue_position(), self._error,
                               self.job, self._generation, self._chunks)

    def wait(self, timeout: float = 60.0) -> JobSnapshot:
        """Block until no chunk is in flight and the job is not running, or ``timeout`` passes."""
        self._wait_until_settled(timeout)
        return self.snapshot()

    def _idle_wait(self) -> bool:
        return self._ticket is not None or self._mode == RUNNING

    def _fail(self, exc: BaseException) -> None:
        self._error = exc
        self._mode = FAILED

    def _next(self) -> None:
        try:
            fn, args = self.job.next_call()
        except Exception as exc:
            self._fail(exc)
            return
        self._submit_call(fn, args)

    def _chunk_done(self, future: Future, generation: int) -> None:
        finished = False
        with self._lock:
            if generation != self._generation:
                return
            self._ticket = None
            exc = future.exception()
            if exc is None:
                try:
                    self.job.absorb(future.result())
                    self._chunks += 1
                except Exception as err:
                    exc = err
            if exc is not None:
                self._fail(exc)
                return
            if self.job.done():
                self._mode = FINISHED
                finished = True
            elif self._mode == RUNNING and self._abandoned():
                self._mode = STOPPED  # the browser was closed: free the shared workers
            elif self._mode == RUNNING:
                self._next()
        if finished and self.on_finish is not None:
            self.on_finish(self)
