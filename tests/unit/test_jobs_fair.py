"""Fair scheduling between sessions, the generic chunked job controller, and closed sessions.

Jobs here are plain functions on a thread pool: the pool's scheduling and the controllers' chaining
are the same code whatever the executor is.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import mlcore.jobs as jobs
from mlcore.jobs import (FAILED, FINISHED, RUNNING, STOPPED, ChunkJob, JobController, TrainingController,
                         WorkerPool, run_inline)


def _record(log, name, seconds):
    time.sleep(seconds)
    log.append(name)
    return name


@pytest.fixture
def one_worker():
    p = WorkerPool(n_workers=1, executor=ThreadPoolExecutor(1))
    yield p
    p.shutdown()


def test_owners_take_turns(one_worker):
    gate = threading.Event()
    log = []
    blocker = one_worker.submit(gate.wait, 5, owner="x")
    a = [one_worker.submit(_record, log, f"a{i}", 0.0, owner="A") for i in range(4)]
    b = [one_worker.submit(_record, log, f"b{i}", 0.0, owner="B") for i in range(2)]
    # B's first job waits for one of A's, not for all four
    assert [one_worker.position(t) for t in a] == [1, 3, 5, 6]
    assert [one_worker.position(t) for t in b] == [2, 4]
    gate.set()
    for t in a + b:
        t.future.result(timeout=5)
    blocker.future.result(timeout=5)
    assert log == ["a0", "b0", "a1", "b1", "a2", "a3"]
    assert one_worker.queued == 0 and one_worker.busy == 0 and one_worker.active_owners == 0


class Countdown(ChunkJob):
    """n chunks, each sleeping ``seconds`` in the worker and returning its index."""

    def __init__(self, n, seconds=0.0, fail_at=None):
        self.n, self.seconds, self.fail_at = n, seconds, fail_at
        self.results = []

    def next_call(self):
        i = len(self.results)
        if self.fail_at == i:
            return _boom, (i,)
        return _chunk, (i, self.seconds)

    def absorb(self, result):
        self.results.append(result)

    def done(self):
        return len(self.results) >= self.n

    def progress(self):
        return len(self.results) / self.n


def _chunk(i, seconds):
    time.sleep(seconds)
    return i


def _boom(i):
    raise ValueError(f"chunk {i} failed")


def test_two_long_jobs_both_progress(one_worker):
    """Two sessions with long jobs on ONE worker: both advance, alternating chunk by chunk."""
    a, b = Countdown(6, 0.01), Countdown(6, 0.01)
    ca = JobController(one_worker, a, owner="A")
    cb = JobController(one_worker, b, owner="B")
    ca.start()
    cb.start()
    deadline = time.monotonic() + 10
    while len(a.results) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert len(b.results) >= 2  # B did not wait for A's whole job
    assert ca.wait(10).mode == FINISHED and cb.wait(10).mode == FINISHED
    assert a.results == list(range(6)) and b.results == list(range(6))


def test_stop_keeps_finished_chunks_and_start_resumes(one_worker):
    job = Countdown(50, 0.01)
    ctrl = JobController(one_worker, job, owner="A")
    ctrl.start()
    while len(job.results) < 3:
        time.sleep(0.005)
    ctrl.stop()
    snap = ctrl.wait(5)
    kept = list(job.results)
    assert snap.mode == STOPPED and 3 <= len(kept) < 50 and kept == list(range(len(kept)))
    assert snap.progress == pytest.approx(len(kept) / 50)
    ctrl.start()
    assert ctrl.wait(10).mode == FINISHED and job.results == list(range(50))


def test_a_failing_chunk_fails_the_job_and_keeps_the_rest(one_worker):
    job = Countdown(5, fail_at=2)
    ctrl = JobController(one_worker, job, owner="A")
    ctrl.start()
    snap = ctrl.wait(5)
    assert snap.mode == FAILED and "chunk 2 failed" in str(snap.error)
    assert job.results == [0, 1]


def test_run_inline_gives_the_same_result():
    assert run_inline(Countdown(4)).results == [0, 1, 2, 3]


def test_a_closed_session_releases_its_worker(one_worker, monkeypatch):
    """Once the browser is gone (alive() False) for the grace period, no new chunk starts."""
    monkeypatch.setattr(jobs, "GONE_GRACE_SECONDS", 0.05)
    connected = {"yes": True}
    job = Countdown(10_000, 0.005)
    ctrl = JobController(one_worker, job, owner="A", alive=lambda: connected["yes"])
    ctrl.start()
    while len(job.results) < 3:
        time.sleep(0.005)
    assert ctrl.mode == RUNNING
    connected["yes"] = False
    t0 = time.monotonic()
    snap = ctrl.wait(5)
    assert snap.mode == STOPPED and time.monotonic() - t0 < 2
    assert one_worker.busy == 0 and one_worker.queued == 0
    assert len(job.results) < 10_000


def test_a_closed_session_pauses_its_training(one_worker, monkeypatch):
    np = pytest.importorskip("numpy")
    from sklearn.datasets import make_moons

    from mlcore.config import LayerSpec, ModelConfig, OptimConfig, Task, TrainConfig
    from mlcore.train import TrainArrays

    monkeypatch.setattr(jobs, "GONE_GRACE_SECONDS", 0.0)
    X, y = make_moons(60, noise=0.2, random_state=0)
    arrays = TrainArrays(X[:40].astype(np.float32), y[:40], X[40:].astype(np.float32), y[40:], Task.BINARY, 2)
    ctrl = TrainingController(one_worker, arrays, ModelConfig(hidden=(LayerSpec(4, "tanh"),)),
                              TrainConfig(optim=OptimConfig(), batch_size=8, epochs=5000),
                              owner="A", alive=lambda: False)
    ctrl.play()
    snap = ctrl.wait(30)
    assert snap.mode == "paused" and 0 < snap.state.epoch < 5000
    assert one_worker.busy == 0


def test_workers_from_the_environment(monkeypatch):
    monkeypatch.setenv("MLPLAB_WORKERS", "3")
    assert jobs.default_workers() == 3
    monkeypatch.setenv("MLPLAB_WORKERS", "zero")
    assert 1 <= jobs.default_workers() <= 4
