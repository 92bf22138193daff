"""The embedded study storage: Optuna's journal file, with fewer fsyncs, reports written per chunk,
and a heartbeat.

Why these subclasses (the measurements and the durability argument are in
:mod:`mlcore.tune.storage`): optuna 5's ``JournalFileBackend.append_logs`` fsyncs every
operation and ``JournalStorage`` writes every ``Trial.report`` as its own append, which cost
10-15 % of a trial; and ``JournalStorage`` does not implement optuna's ``BaseHeartbeat``, so a
killed worker's trial would stay RUNNING. What is overridden:

- :class:`TrialDurableFileBackend.append_logs`: the same lock, append and flush as optuna's, with
  ``os.fsync`` when a write changes a study, and when it finishes a trial if the last fsync is
  older than ``durable_seconds`` (5 s); ``read_logs`` answers "nothing new" from one ``stat``
  (the file's size is the offset already read) without opening the file;
- :class:`RelativeSymlinkLock`: optuna's own lock file (so stock optuna writers are excluded),
  its link pointing at the journal by file name instead of by absolute path, which ext4 stores
  in a data block of its own past 59 bytes;
- :class:`MLPlabJournalStorage`: ``set_trial_intermediate_value`` (``Trial.report``), a running
  trial's parameters and user attributes, and the heartbeat are buffered; the buffer goes out with
  the next write (in the same append, so the log order is kept: a trial's tell carries its last
  epochs) or with :meth:`MLPlabJournalStorage.flush` (the job flushes at most every
  ``FLUSH_SECONDS``). Reads do not flush: optuna's ``Trial`` keeps its own reported values and
  parameters, which is what the pruner and the sampler read for the running trial. A buffered
  write to a trial another process has finished raises ``UpdateFinishedTrialError`` when it goes
  out (the job then drops the trial, :meth:`MLPlabJournalStorage.discard`). The running trial's
  ``completed_rung_<n>`` (SuccessiveHalving / Hyperband, one write per rung: about half of those
  pruners' per-check cost, by cProfile) and TPE's ``tpe:relative_params:<i>`` are buffered too, and
  applied to this process's replay at once, since the pruner reads them back from the storage;
- :class:`_BatchedReplay`: optuna's replay, with a run of one trial's consecutive intermediate
  values applied with one copy of the trial (optuna copies it per value);
- ``BaseHeartbeat``: ``record_heartbeat`` sets a trial system attribute (wall-clock time);
  ``_get_stale_trial_ids`` lists RUNNING trials whose last beat (or start) is older than the
  grace period.

These lean on ``JournalStorage``'s private ``_write_log`` / ``_sync_with_backend`` /
``_thread_lock`` / ``_replay_result`` (optuna is pinned in requirements.txt; tests/unit/test_tune.py
checks the behaviour: one append per chunk, every epoch's value stored, stale trials failed).
"""

from __future__ import annotations

import copy
import json
import os
import time
from typing import Any

from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock, JournalStorage
from optuna.storages.journal._file import get_lock_file
from optuna.storages.journal._storage import JournalOperation, JournalStorageReplayResult
from optuna.trial import TrialState

HEARTBEAT_ATTR = "mlplab_heartbeat"
_now = time.time  # wall clock of the beats (shared by processes on one machine); tests move it
_STUDY_OPS = (JournalOperation.CREATE_STUDY, JournalOperation.DELETE_STUDY, JournalOperation.SET_STUDY_USER_ATTR,
              JournalOperation.SET_STUDY_SYSTEM_ATTR)
# json.dumps(log, separators=(",", ":")) builds an encoder per call: one shared encoder, same text
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
_VALUE = JournalOperation.SET_TRIAL_INTERMEDIATE_VALUE
# running-trial system attributes that are buffered (see MLPlabJournalStorage.set_trial_system_attr)
_BUFFERED_SYSTEM_ATTRS = ("completed_rung_", "tpe:relative_params:")


def _durability(log: dict) -> str | None:
    """``study`` (fsync now), ``trial`` (a finished trial: fsync if the last one is old) or None."""
    op = log.get("op_code")
    if op in _STUDY_OPS:
        return "study"
    if op == JournalOperation.SET_TRIAL_STATE_VALUES and TrialState(log["state"]).is_finished():
        return "trial"
    return None


class RelativeSymlinkLock(JournalFileSymlinkLock):
    """Optuna's default journal lock, its link pointing at the journal by file name.

    The lock is the link ``<journal>.lock``: whoever creates it holds the lock, so this excludes
    (and is excluded by) stock optuna writers on the same file, such as optuna-dashboard. What
    the link points at is only read by the grace-period check (``os.stat`` of the link: the
    journal's modification time); a name relative to the link's own folder, the journal's,
    points at the same file. Why not optuna's absolute path: ext4 keeps a link's target in the
    inode only below 60 bytes, and a longer one (``/home/.../data/studies/<study>.journal``)
    takes a data block, allocated and freed with every lock. Measured on ``bench.bench_tune``'s
    seed 4 (2026-12-05): journals at 62-byte paths (the bench's own temporary dir) cost 2.3-2.4
    ms of sampler + storage a trial against 2.05 at 54 bytes, and 2.6-3.3 at 100; with this
    lock 2.1-2.3 at all three (a point less of the shortest trials' overhead: 5.2 % to 4.3 %)."""

    def __init__(self, filepath: str, grace_period: int | None = 30) -> None:
        super().__init__(filepath, grace_period)
        self._lock_target_file = os.path.basename(filepath)


class TrialDurableFileBackend(JournalFileBackend):
    """``JournalFileBackend`` that fsyncs a study's changes at once and finished trials at most
    every ``durable_seconds`` (each append is still flushed to the OS, so every process sees it),
    locked by :class:`RelativeSymlinkLock` unless ``lock_obj`` is given."""

    def __init__(self, file_path: str, lock_obj=None, durable_seconds: float = 5.0) -> None:
        super().__init__(file_path, lock_obj if lock_obj is not None else RelativeSymlinkLock(file_path))
        self.durable_seconds = durable_seconds
        self.appends = 0  # counted for tests and the bench
        self.fsyncs = 0
        self._last_fsync = float("-inf")

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        text = "\n".join(map(_ENCODE, logs)) + "\n"
        now = time.monotonic()
        kinds = [_durability(log) for log in logs]
        durable = "study" in kinds or ("trial" in kinds and now - self._last_fsync >= self.durable_seconds)
        with get_lock_file(self._lock):
            with open(self._file_path, "ab") as f:
                f.write(text.encode("utf-8"))
                f.flush()
                if durable:
                    os.fsync(f.fileno())  # everything appended before it too
        self.appends += 1
        if durable:
            self.fsyncs += 1
            self._last_fsync = now

    def read_logs(self, log_number_from: int):
        # Every read of the study starts here; most find nothing new (TPE reads the trials several
        # times per suggestion, the pruner once per chunk): answer those from one stat, unopened.
        offset = self._log_number_offset.get(log_number_from)
        if offset is not None and os.stat(self._file_path).st_size == offset:
            return iter(())
        return super().read_logs(log_number_from)


class _BatchedReplay(JournalStorageReplayResult):
    """Optuna's replay, with each run of consecutive intermediate values of one trial (what a
    chunk's or a tell's append holds) applied with one copy of the trial instead of one per value.

    Why: optuna copies the trial and its values dict for every ``SET_TRIAL_INTERMEDIATE_VALUE``,
    so reading back a tell's append (up to an epoch count of values) was about a third of the
    tell (cProfile of ``bench.bench_tune``). The trial that comes out is the same: the same values
    in the same order, the later one winning at a repeated step; the updatable check is made once
    per run (a run holds no state change, and is one worker's), and a run of this worker's writes
    to a finished trial raises as optuna's first one does, with the whole run counted as read."""

    def apply_logs(self, logs) -> None:
        run: list[dict[str, Any]] = []
        try:
            for log in logs:
                if log["op_code"] == _VALUE and (not run or (log["trial_id"], log.get("worker_id")) ==
                                                 (run[0]["trial_id"], run[0].get("worker_id"))):
                    run.append(log)
                    continue
                if run:
                    pending, run = run, []
                    self._apply_values(pending)
                if log["op_code"] == _VALUE:
                    run.append(log)
                else:
                    super().apply_logs((log,))
        finally:
            if run:  # also when reading the file failed after them
                self._apply_values(run)

    def _apply_values(self, run: list[dict[str, Any]]) -> None:
        self.log_number_read += len(run)
        trial_id = run[0]["trial_id"]
        if self._trial_exists_and_updatable(trial_id, run[0]):
            trial = copy.copy(self._trials[trial_id])
            values = dict(trial.intermediate_values)
            for log in run:
                values[log["step"]] = log["intermediate_value"]
            trial.intermediate_values = values
            self._trials[trial_id] = trial


class MLPlabJournalStorage(JournalStorage, BaseHeartbeat):
    """``JournalStorage`` whose intermediate values and trial user attributes go out with the next
    write or read, and with a heartbeat (``heartbeat_interval`` / ``grace_period`` in seconds, as ``RDBStorage`` takes them)."""

    def __init__(self, backend, heartbeat_interval: int | None = 5, grace_period: float | None = 30) -> None:
        self._pending: list[dict[str, Any]] = []
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        super().__init__(backend)  # replays the file with optuna's own replay, then ours from here on
        self._replay_result.__class__ = _BatchedReplay

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        self._replay_result.__class__ = _BatchedReplay
        self._pending = []

    # ---- buffered reports ------------------------------------------------------------------
    def _buffer(self, op_code: int, fields: dict[str, Any]) -> None:
        with self._thread_lock:
            self._pending.append({"op_code": op_code, "worker_id": self._replay_result.worker_id, **fields})

    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: float) -> None:
        self._buffer(JournalOperation.SET_TRIAL_INTERMEDIATE_VALUE,
                     {"trial_id": trial_id, "step": step, "intermediate_value": intermediate_value})

    def set_trial_param(self, trial_id: int, param_name: str, param_value_internal: float, distribution) -> None:
        # a running trial's parameters: no sampler of another process reads them before the trial
        # ends (TPE, GP and random ignore running trials; grid, QMC and CMA-ES coordinate through
        # system attributes, which are not buffered); Trial caches them for this process
        from optuna.distributions import distribution_to_json

        self._buffer(JournalOperation.SET_TRIAL_PARAM, {"trial_id": trial_id, "param_name": param_name,
                                                        "param_value_internal": param_value_internal,
                                                        "distribution": distribution_to_json(distribution)})

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        # user attributes are the app's own (no sampler reads them); system attributes, which
        # samplers use to coordinate between processes (GridSampler's grid_id), are not buffered
        self._buffer(JournalOperation.SET_TRIAL_USER_ATTR, {"trial_id": trial_id, "user_attr": {key: value}})

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        # SuccessiveHalving's (and Hyperband's) ``completed_rung_<n>`` and TPE's constant-liar
        # ``tpe:relative_params:<i>`` are written to the running trial, one append each, which was
        # most of those pruners' per-check cost. Buffered like the trial's parameters (other
        # processes see them with the next write, at most ``FLUSH_SECONDS`` later, and with the
        # tell), and applied to this process's replay at once, because the pruner reads the running
        # trial's system attributes back from the storage (``Trial._get_latest_trial``).
        # Every other system attribute (GridSampler's grid_id, ...) is written at once, as optuna does.
        if not key.startswith(_BUFFERED_SYSTEM_ATTRS):
            return super().set_trial_system_attr(trial_id, key, value)
        log = {"op_code": JournalOperation.SET_TRIAL_SYSTEM_ATTR, "worker_id": self._replay_result.worker_id,
               "trial_id": trial_id, "system_attr": {key: value}}
        with self._thread_lock:
            # raises UpdateFinishedTrialError if the trial is finished, as optuna's write does
            self._replay_result._apply_set_trial_system_attr(log)
            self._pending.append(log)

    def _write_log(self, op_code: int, extra_fields: dict[str, Any]) -> None:
        logs, self._pending = self._pending, []
        logs.append({"op_code": op_code, "worker_id": self._replay_result.worker_id, **extra_fields})
        self._backend.append_logs(logs)

    def _sync_with_backend(self) -> None:
        # Reads do not write the buffer: this process's Trial objects keep their own values (the
        # pruner reads the running trial from its Trial, the other trials from the storage).
        # A buffered write to a trial that another process finished raises while it is replayed
        # (optuna counts that log as read); replay the rest too, so the error comes once, here.
        error = None
        while True:
            try:
                super()._sync_with_backend()
                break
            except UpdateFinishedTrialError as err:
                error = err
        if error is not None:
            raise error

    def flush(self) -> None:
        """Write the buffer now (and read what other processes wrote)."""
        with self._thread_lock:
            if self._pending:
                logs, self._pending = self._pending, []
                self._backend.append_logs(logs)
            self._sync_with_backend()

    def discard(self, trial_id: int) -> None:
        """Drop the buffered writes to a trial that another process has finished."""
        with self._thread_lock:
            self._pending = [log for log in self._pending if log.get("trial_id") != trial_id]

    # ---- heartbeat (optuna's BaseHeartbeat interface) -----------------------------------------
    def record_heartbeat(self, trial_id: int) -> None:
        self._buffer(JournalOperation.SET_TRIAL_SYSTEM_ATTR, {"trial_id": trial_id,
                                                             "system_attr": {HEARTBEAT_ATTR: _now()}})

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        grace = self.grace_period if self.grace_period is not None else 2 * (self.heartbeat_interval or 0)
        now = _now()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            last = trial.system_attrs.get(HEARTBEAT_ATTR)
            if last is None and trial.datetime_start is not None:
                last = trial.datetime_start.timestamp()  # naive local time, as the journal stores it
            if last is not None and now - float(last) > grace:
                stale.append(trial._trial_id)
        return stale

    def get_heartbeat_interval(self) -> int | None:
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self):
        return None
