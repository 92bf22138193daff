"""Play / Pause / Step / Reset over the worker pool, and session independence.

Most tests run the pool on threads (same code path, no process start-up); one test uses the
real process pool that the app uses.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import make_moons

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, Task, TrainConfig
from mlcore.jobs import FINISHED, PAUSED, WorkerPool, TrainingController, ViewSpec

torch = pytest.importorskip("torch")
from mlcore import train  # noqa: E402

MODEL = ModelConfig(hidden=(LayerSpec(8, "tanh"),))


def _arrays(seed=0, n=120):
    X, y = make_moons(n, noise=0.2, random_state=seed)
    X = X.astype(np.float32)
    y = y.astype(np.int64)
    return train.TrainArrays(X[:90], y[:90], X[90:], y[90:], Task.BINARY, 2)


def _cfg(epochs=6, lr=0.05, seed=0):
    return TrainConfig(optim=OptimConfig(name="adam", lr=lr), batch_size=16, epochs=epochs, seed=seed)


@pytest.fixture
def pool():
    # One thread: train.advance sets process-wide torch state, so (like the app's worker
    # processes) each executor runs one job at a time. The real process pool is tested below.
    p = WorkerPool(n_workers=1, executor=ThreadPoolExecutor(1))
    yield p
    p.shutdown()


def _weights(state):
    return {k: v.detach().clone() if hasattr(v, "detach") else v for k, v in state.model_state.items()}


def test_play_runs_to_the_end_and_matches_fit(pool):
    arrays, cfg = _arrays(), _cfg()
    ctrl = TrainingController(pool, arrays, MODEL, cfg)
    ctrl.play()
    snap = ctrl.wait()
    assert snap.mode == FINISHED and snap.state.epoch == cfg.epochs
    reference = train.fit(arrays, MODEL, cfg)
    assert [r.train_loss for r in snap.state.history] == pytest.approx([r.train_loss for r in reference.history])
    for key, value in reference.model_state.items():
        torch.testing.assert_close(snap.state.model_state[key], value)
    assert snap.result.val_pred.shape[0] == len(arrays.y_val)


def test_an_adopted_run_is_finished_and_goes_on_as_if_trained_here(pool):
    """adopt_run (the Tune page's retrained best): the controller holds that run; with more epochs,
    Play continues it exactly as one uninterrupted training would."""
    from mlcore.jobs import run_chunk

    arrays = _arrays()
    done = run_chunk(arrays, MODEL, _cfg(epochs=4), train.init_state(arrays, MODEL, _cfg(epochs=4)), 4, None, None)
    ctrl = TrainingController(pool, arrays, MODEL, _cfg(epochs=4))
    ctrl.adopt_run(done)
    snap = ctrl.snapshot()
    assert snap.mode == FINISHED and snap.state.epoch == 4 and snap.result.val_pred is not None
    ctrl.play()  # finished: nothing to do
    assert ctrl.wait().state.epoch == 4
    ctrl.set_train_config(_cfg(epochs=6))
    ctrl.play()
    snap = ctrl.wait()
    reference = train.fit(arrays, MODEL, _cfg(epochs=6))
    assert snap.state.epoch == 6
    assert [r.train_loss for r in snap.state.history] == pytest.approx([r.train_loss for r in reference.history])
    for key, value in reference.model_state.items():
        torch.testing.assert_close(snap.state.model_state[key], value)


def test_finished_in_times_play_to_the_last_epoch(pool):
    """The Train page shows how long a training took from Play (queue wait included)."""
    import time

    arrays, cfg = _arrays(), _cfg(epochs=4)
    ctrl = TrainingController(pool, arrays, MODEL, cfg)
    assert ctrl.snapshot().finished_in is None
    start = time.monotonic()
    ctrl.play()
    snap = ctrl.wait()
    elapsed = time.monotonic() - start
    assert snap.mode == FINISHED and 0 < snap.finished_in <= elapsed
    ctrl.reset()
    assert ctrl.snapshot().finished_in is None
    ctrl.step()  # a run ended by steps, not by Play, has no Play-to-end time
    assert ctrl.wait().finished_in is None


def test_steps_then_play_equals_uninterrupted(pool):
    arrays, cfg = _arrays(), _cfg(epochs=5)
    ctrl = TrainingController(pool, arrays, MODEL, cfg)
    ctrl.step()
    assert ctrl.wait().state.epoch == 1 and ctrl.mode == PAUSED
    ctrl.step()
    assert ctrl.wait().state.epoch == 2
    ctrl.play()
    paused_path = ctrl.wait().state
    reference = train.fit(arrays, MODEL, cfg)
    assert paused_path.epoch == 5
    for key, value in reference.model_state.items():
        torch.testing.assert_close(paused_path.model_state[key], value)


def test_learning_rate_change_while_paused_keeps_weights(pool):
    arrays = _arrays()
    ctrl = TrainingController(pool, arrays, MODEL, _cfg(epochs=4))
    ctrl.step()
    before = _weights(ctrl.wait().state)
    ctrl.set_train_config(_cfg(epochs=4, lr=0.5))
    snap = ctrl.snapshot()
    for key, value in before.items():
        torch.testing.assert_close(snap.state.model_state[key], value)  # nothing reset
    ctrl.step()
    after = ctrl.wait().state
    assert after.epoch == 2
    # the second epoch used lr=0.5: compare with a reference that switches lr after epoch 1
    ref = train.advance(arrays, MODEL, _cfg(epochs=4), train.init_state(arrays, MODEL, _cfg(epochs=4)), max_epochs=1)
    ref = train.advance(arrays, MODEL, _cfg(epochs=4, lr=0.5), ref, max_epochs=1)
    for key, value in ref.model_state.items():
        torch.testing.assert_close(after.model_state[key], value)


def test_reset_returns_to_initial_weights(pool):
    arrays, cfg = _arrays(), _cfg(epochs=3)
    ctrl = TrainingController(pool, arrays, MODEL, cfg)
    initial = _weights(ctrl.snapshot().state)
    ctrl.play()
    ctrl.wait()
    ctrl.reset()
    snap = ctrl.snapshot()
    assert snap.state.epoch == 0 and snap.result is None and snap.mode == "idle"
    for key, value in initial.items():
        torch.testing.assert_close(snap.state.model_state[key], value)


def test_two_sessions_on_one_pool_do_not_interfere(pool):
    a_arrays, b_arrays = _arrays(0), _arrays(1)
    a = TrainingController(pool, a_arrays, MODEL, _cfg(epochs=4, seed=1))
    b = TrainingController(pool, b_arrays, ModelConfig(hidden=(LayerSpec(4, "relu"),)), _cfg(epochs=3, seed=2))
    a.play()
    b.play()
    sa, sb = a.wait(), b.wait()
    ra = train.fit(a_arrays, MODEL, _cfg(epochs=4, seed=1))
    rb = train.fit(b_arrays, ModelConfig(hidden=(LayerSpec(4, "relu"),)), _cfg(epochs=3, seed=2))
    assert sa.state.epoch == 4 and sb.state.epoch == 3
    for key, value in ra.model_state.items():
        torch.testing.assert_close(sa.state.model_state[key], value)
    for key, value in rb.model_state.items():
        torch.testing.assert_close(sb.state.model_state[key], value)


def test_queue_position_when_every_worker_is_busy():
    import threading

    gate = threading.Event()
    p = WorkerPool(n_workers=1, executor=ThreadPoolExecutor(1))
    first = p.submit(gate.wait, 5)
    second = p.submit(gate.wait, 5)
    third = p.submit(gate.wait, 5)
    assert (p.position(first), p.position(second), p.position(third)) == (0, 1, 2)
    gate.set()
    third.future.result(timeout=5)
    assert p.position(third) == 0 and p.busy == 0
    p.shutdown()


def test_views_are_computed_in_the_worker(pool):
    arrays = _arrays()
    grid = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    ctrl = TrainingController(pool, arrays, MODEL, _cfg(epochs=1), views=ViewSpec(grid=grid, hidden_grid=grid[:10]))
    ctrl.step()
    snap = ctrl.wait()
    model = train.load_model(MODEL, arrays, snap.state)
    np.testing.assert_allclose(snap.result.grid_out, train.predict(model, grid, Task.BINARY), rtol=1e-6)
    assert snap.result.hidden_out[0].shape == (10, 8)


def test_real_process_pool_two_sessions_at_once():
    """Two sessions training at the same time in the app's process pool get their own results."""
    p = WorkerPool(n_workers=2)
    try:
        other_model = ModelConfig(hidden=(LayerSpec(4, "relu"),))
        a_arrays, b_arrays = _arrays(0), _arrays(1)
        a = TrainingController(p, a_arrays, MODEL, _cfg(epochs=3, seed=1))
        b = TrainingController(p, b_arrays, other_model, _cfg(epochs=2, seed=2))
        a.play()
        b.play()
        sa, sb = a.wait(timeout=180), b.wait(timeout=180)
        assert sa.error is None and sb.error is None
        assert (sa.state.epoch, sb.state.epoch) == (3, 2)
        for snap, reference in ((sa, train.fit(a_arrays, MODEL, _cfg(epochs=3, seed=1))),
                                (sb, train.fit(b_arrays, other_model, _cfg(epochs=2, seed=2)))):
            for key, value in reference.model_state.items():
                torch.testing.assert_close(snap.state.model_state[key], value)
    finally:
        p.shutdown()


def test_play_pauses_itself_when_nobody_looks(pool, monkeypatch):
    import mlcore.jobs as jobs

    monkeypatch.setattr(jobs, "IDLE_PAUSE_SECONDS", 0.0)
    ctrl = TrainingController(pool, _arrays(), MODEL, _cfg(epochs=3000))  # more than one 0.3 s chunk
    ctrl.play()
    deadline = time.monotonic() + 60
    while ctrl.busy or ctrl.mode == "playing":  # poll without snapshot(): nobody is looking
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert ctrl.mode == PAUSED
    assert 0 < ctrl._state.epoch < 3000


def _die() -> None:
    import os

    os._exit(1)  # a worker killed mid-job (as by the out-of-memory killer)


def test_a_dead_worker_fails_one_job_and_the_pool_recovers():
    from concurrent.futures.process import BrokenProcessPool

    p = WorkerPool(n_workers=1)
    try:
        with pytest.raises(BrokenProcessPool):
            p.submit(_die).future.result(timeout=120)
        assert p.submit(pow, 2, 10).future.result(timeout=120) == 1024
    finally:
        p.shutdown()
