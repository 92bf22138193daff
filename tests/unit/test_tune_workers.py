"""Two ``python -m mlcore.tune worker`` processes and the app's runner share one study, on the
embedded journal file and on PostgreSQL: the trial count is the sum, every number appears once,
and no trial is lost, duplicated or left running ("database is locked" would fail a worker).
A killed worker's trial ends FAIL as stale (heartbeat), a stopped one's at once.

PostgreSQL comes from ``MLPLAB_TEST_PG_URL`` (``.ci/run`` starts a throwaway server with
``scripts/pg.sh``); without it the PostgreSQL case skips locally and fails under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from mlcore.config import BuiltinConfig, SplitConfig, TrainConfig
from mlcore.data import prepare_builtin
from mlcore.jobs import run_inline
from mlcore.train import TrainArrays
from mlcore.tune.objective import TuneJob, TuneSettings, study_attrs
from mlcore.tune.space import SearchSpace
from mlcore.tune.storage import StudyStore

ROOT = Path(__file__).resolve().parents[2]
optuna.logging.set_verbosity(optuna.logging.WARNING)


def _location(kind: str, tmp_path) -> str:
    if kind == "journal":
        return str(tmp_path)
    url = os.environ.get("MLPLAB_TEST_PG_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("MLPLAB_TEST_PG_URL is not set under CI=true (.ci/run starts PostgreSQL)")
        pytest.skip("no PostgreSQL (set MLPLAB_TEST_PG_URL, e.g. eval \"$(bash scripts/pg.sh start)\")")
    return url


def _setup(location: str, arrays, settings):
    store = StudyStore(location)
    name = f"shared-{uuid.uuid4().hex[:8]}"
    sampler, pruner, _ = settings.sampler_and_pruner()
    study = store.create(name, settings.direction, study_attrs(settings, arrays), owner="app",
                         sampler=sampler, pruner=pruner)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-m", "mlcore.tune", "worker", "--storage", store.url_for(name),
                                 "--study", name, "--trials", str(n)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in (2, 3)]
    return store, name, study, workers


def _locations(tmp_path) -> dict:
    """The journal file, and PostgreSQL when the tests have one (MLPLAB_TEST_PG_URL)."""
    locations = {"journal": _location("journal", tmp_path)}
    try:
        locations["postgresql"] = _location("postgresql", tmp_path)
    except pytest.skip.Exception:
        pass
    return locations


@pytest.mark.slow
def test_two_workers_and_the_app_share_one_study_on_journal_and_postgresql(tmp_path):
    """Both storages in one test: the four worker processes start together (their torch and
    Lightning imports are most of the time), then the app's runner works on each study."""
    locations = _locations(tmp_path)
    arrays = TrainArrays.from_prepared(prepare_builtin(BuiltinConfig(name="moons", n_samples=80), SplitConfig()))
    settings = TuneSettings(space=SearchSpace(lr=(1e-3, 0.1), n_layers=(1, 2), units=(2, 8)), sampler="random",
                            pruner="median", k=2, train_cfg=TrainConfig(batch_size=16, epochs=2))
    runs = {kind: _setup(loc, arrays, settings) for kind, loc in locations.items()}
    try:
        for kind, (store, name, study, workers) in runs.items():
            job = run_inline(TuneJob(study, settings, arrays, n_trials=2))
            outputs = [w.communicate(timeout=240) for w in workers]
            assert [w.returncode for w in workers] == [0, 0], (kind, [err for _, err in outputs])
            trials = StudyStore(locations[kind]).load(name).trials
            assert len(trials) == 2 + 2 + 3 and sorted(t.number for t in trials) == list(range(7)), kind
            assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials), kind
            told = set(job.told)
            for out, _ in outputs:
                told |= set(json.loads(out.strip().split(": ", 1)[1]))  # "N trials told: [..]"
            assert told == set(range(7)), kind
            if kind == "postgresql":
                store.delete(name)
    finally:
        for _, _, _, workers in runs.values():
            for w in workers:
                w.kill()
    if "postgresql" not in locations:
        pytest.skip("journal case passed; no PostgreSQL for the second case (MLPLAB_TEST_PG_URL)")


def _wait_for(check, what: str, timeout: float = 120.0):
    """Poll ``check()`` until it returns something truthy (content, not a fixed sleep)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_killed_worker_s_trial_ends_failed_as_stale_and_a_stopped_one_fails_its_trial_at_once(tmp_path):
    """Headless workers on long trials: one killed outright (SIGKILL: its trial stops beating and
    ``fail_stale_trials`` fails it, on the journal file and on PostgreSQL), one told to stop
    (SIGTERM: it fails its own trial before it exits)."""
    import signal

    from mlcore.tune.storage import fail_stale_trials

    locations = _locations(tmp_path)
    arrays = TrainArrays.from_prepared(prepare_builtin(BuiltinConfig(name="moons", n_samples=80), SplitConfig()))
    settings = TuneSettings(space=SearchSpace(lr=(1e-3, 0.1), n_layers=None, units=None), sampler="random",
                            pruner="none", k=2, train_cfg=TrainConfig(batch_size=16, epochs=5000))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []  # (kind, store, name, process, signal)
    for kind, location in locations.items():
        for sig in ((signal.SIGKILL, signal.SIGTERM) if kind == "journal" else (signal.SIGKILL,)):
            store = StudyStore(location)
            name = f"victim-{uuid.uuid4().hex[:8]}"
            sampler, pruner, _ = settings.sampler_and_pruner()
            store.create(name, settings.direction, study_attrs(settings, arrays), sampler=sampler, pruner=pruner)
            proc = subprocess.Popen([sys.executable, "-m", "mlcore.tune", "worker", "--storage", store.url_for(name),
                                     "--study", name, "--trials", "1"], cwd=ROOT, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            runs.append((kind, location, name, proc, sig))
    try:
        for kind, location, name, proc, sig in runs:
            def running_with_values(location=location, name=name):
                trials = StudyStore(location).load(name).trials
                return trials and trials[0].state == TrialState.RUNNING and trials[0].intermediate_values

            _wait_for(running_with_values, f"a running trial on {kind}")
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
            trial = StudyStore(location).load(name).trials[0]
            if sig == signal.SIGTERM:
                assert proc.returncode == 130, err
                assert trial.state == TrialState.FAIL and "interrupted" in trial.user_attrs["fail_reason"]
                assert trial.user_attrs["fail_key"]["key"] == "tune.fail.abandoned.interrupted"
                continue
            assert trial.state == TrialState.RUNNING, kind  # killed: nobody told the storage
            checker = StudyStore(location, grace_seconds=1)  # the app's store would wait GRACE_SECONDS
            assert _wait_for(lambda: fail_stale_trials(checker.load(name)), f"the stale trial on {kind}") == [0]
            trial = StudyStore(location).load(name).trials[0]
            assert trial.state == TrialState.FAIL and trial.user_attrs["fail_reason"].startswith("stale"), kind
            if kind == "postgresql":
                StudyStore(location).delete(name)
    finally:
        for *_, proc, _sig in runs:
            proc.kill()
    if "postgresql" not in locations:
        pytest.skip("journal case passed; no PostgreSQL for the second case (MLPLAB_TEST_PG_URL)")
