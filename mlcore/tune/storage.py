"""Where studies live: an embedded journal file per study by default, PostgreSQL by URL.

Why the journal file and not SQLite for the embedded default: a study is written by several
processes at once (the app's runner and ``python -m mlcore.tune worker`` processes). Optuna's
documentation advises against SQLite with parallel writers (one writer lock for the whole file:
"database is locked" under contention), and offers ``JournalStorage`` with a
``JournalFileBackend`` for exactly this case: an append-only log guarded by a file lock, which
every process replays. Measured on this stack with TPE and a trivial objective, the journal file
cost 7-12 ms per trial against 65-77 ms for SQLite, which matters for a < 5 % overhead target.
It needs no server and no schema, and a study is one file you can copy or open with
``optuna-dashboard <file>``.

Layout: ``<data dir>/studies/<name>.journal``, one file per study, so that opening one student's
study never replays the whole class's logs, and deleting a study removes its file. The data dir
is ``$MLPLAB_DATA_DIR`` (default ``./data``), created on first use. Study names are validated
(letters, digits, ``-``, ``_`` and ``.``; no path can escape the data dir).

``$MLPLAB_STORAGE_URL`` (for example ``postgresql+psycopg://user@host:5432/mlplab``) switches to
one Optuna RDB storage for every study, so that several machines can work on one study.

Ownership: each study records its owner (a session key) and whether it is shared with the class,
as study user attributes; :meth:`StudyStore.list` shows a session its own studies plus the
shared ones.

Keeping the sampler and storage overhead small (target < 5 % of trial time; measured by
``python -m bench.bench_tune``). Optuna's ``JournalFileBackend`` takes the file lock, appends and
``fsync``s for every single operation, and ``Trial.report`` is one operation per epoch: with
~11 ms of batched training per epoch and 1-4 ms per fsync'd append (more on a busy disk), the
reports alone cost 10-15 % of a trial. Three changes, all measured in the bench:

- :class:`MLPlabJournalStorage` buffers a running trial's intermediate values (``Trial.report``),
  parameters, user attributes and heartbeat in memory and writes them in the same append as the
  storage's next write (the trial's tell at the latest) or when the job flushes (:func:`flush`,
  at most every second), so other processes (optuna-dashboard, another session's page) see a
  running trial's epochs within a second, and every finished trial whole. The pruner still sees
  every epoch's value: it reads the running trial from optuna's ``Trial`` object, which keeps its
  reports, and the finished trials from the storage. A trial's writes go from about one append
  per epoch to a few per trial.
- :class:`TrialDurableFileBackend` keeps the file lock, the append and the ``flush`` of every
  write (so other processes see it at once, and a killed process or a restarted server loses
  nothing it wrote), but ``fsync``s only study changes (creation, attributes, deletion) at once,
  and finished trials at most every 5 s (an fsync took 1-4 ms on this machine, more when the disk
  is busy: one per trial was still 1-2 % of trial time). fsync writes the whole file, so after an
  OS crash or a power cut a study loses at most the trials finished in the last 5 s, plus the
  running trials' last intermediate values (those trials are failed as stale anyway).
- Its lock is optuna's lock file, whose link names the journal relative to its folder instead of
  by absolute path (:class:`mlcore.tune.journal.RelativeSymlinkLock`): ext4 keeps a link's target
  in the inode only below 60 bytes, and a data dir's absolute journal paths are usually longer,
  which cost a data block allocated and freed with every lock (0.3 ms a trial, two locks, on
  62-byte paths; more on longer ones).

Why not only cache the study for ``should_prune``: the pruner's read replays just the new log
lines (0.2 ms a call, measured; "nothing new" costs one ``stat``); the appends were the cost.

Interrupted trials (a closed tab, a restarted server, a killed headless worker) would stay
RUNNING for ever. Each running trial records a heartbeat (:func:`beat`, at most every
``HEARTBEAT_SECONDS``); :func:`fail_stale_trials` marks FAIL, with a ``fail_reason``, every
RUNNING trial whose heartbeat is older than ``GRACE_SECONDS``. It runs before every ask (as
``Study.optimize`` does with optuna's heartbeat), when a worker starts, and when the page opens a
study. PostgreSQL uses optuna's own heartbeat (``RDBStorage(heartbeat_interval=...,
grace_period=...)``, its heartbeat table and the server's clock). ``JournalStorage`` has no
heartbeat in optuna 5, so :class:`MLPlabJournalStorage` implements optuna's ``BaseHeartbeat``
interface with a trial system attribute (the time of the last beat; a trial without one counts
from its start), and optuna's own ``study.optimize`` would use it too.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from mlcore.errors import ConfigError

ENV_URL = "MLPLAB_STORAGE_URL"
ENV_DIR = "MLPLAB_DATA_DIR"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
OWNER, SHARED = "mlplab_owner", "mlplab_shared"
_RDB_SCHEMES = ("postgresql", "sqlite", "mysql")
HEARTBEAT_SECONDS = 5  # a running trial records a heartbeat at most this often
GRACE_SECONDS = 30  # a RUNNING trial without a heartbeat for this long is failed as stale
STALE_REASON = "stale: no heartbeat for {seconds} s (its page was closed, the server restarted or the worker was killed)"


def validate_name(name: str) -> str:
    """The name, stripped; ``ConfigError('err.tune.name')`` when empty, too long, with other
    characters than letters, digits, ``- _ .``, or made of dots (``..``)."""
    name = (name or "").strip()
    if not name:
        raise ConfigError("err.tune.name_empty")
    if not NAME_RE.match(name) or ".." in name:
        raise ConfigError("err.tune.name", value=name)
    return name


def new_name(base: str, tag: str = "", room: int = 0) -> str:
    """A fresh valid study name from a dataset's name: ``<base>[-<tag>]-<4 hex>``, leaving
    ``room`` characters for what the caller appends (``-random``).

    Dataset names come from file names (``clientes_año.csv``, ``Ventas 2024 (copia)``): accents
    are dropped (``año`` -> ``ano``), any other character that a name cannot hold becomes ``_``,
    and the base is cut so that the whole name fits :data:`NAME_RE`."""
    import unicodedata
    import uuid

    ascii_base = unicodedata.normalize("NFKD", str(base)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_base)
    slug = re.sub(r"\.{2,}", ".", slug).strip("_.-") or "study"
    suffix = (f"-{tag}" if tag else "") + f"-{uuid.uuid4().hex[:4]}"
    return validate_name(slug[:64 - room - len(suffix)].rstrip("_.-") + suffix)


def data_dir() -> Path:
    return Path(os.environ.get(ENV_DIR) or "data")


@dataclass(frozen=True)
class StudyInfo:
    """One row of the study list."""

    name: str
    owner: str | None
    shared: bool
    direction: str
    n_trials: int
    n_complete: int
    best_value: float | None
    created: str | None


def _is_rdb(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0] in _RDB_SCHEMES


class StudyStore:
    """Create, open, list and delete studies in one place (a data dir or an RDB URL).

    ``location``: an RDB URL, a journal file path (``*.journal``, one study) or a data dir;
    default ``$MLPLAB_STORAGE_URL``, else ``$MLPLAB_DATA_DIR``/``./data``.
    """

    def __init__(self, location: str | os.PathLike | None = None, *, heartbeat_seconds: int = HEARTBEAT_SECONDS,
                 grace_seconds: int = GRACE_SECONDS) -> None:
        location = str(location) if location is not None else (os.environ.get(ENV_URL) or str(data_dir()))
        self.kind = "rdb" if _is_rdb(location) else "journal"
        self.location = location
        self._single_file = self.kind == "journal" and location.endswith(".journal")
        self._rdb = None
        self.heartbeat_seconds, self.grace_seconds = int(heartbeat_seconds), int(grace_seconds)

    # ---- storages ------------------------------------------------------------------------
    @property
    def study_dir(self) -> Path:
        return Path(self.location).parent if self._single_file else Path(self.location) / "studies"

    def path_for(self, name: str) -> Path:
        name = validate_name(name)
        if self._single_file:
            return Path(self.location)
        root = self.study_dir.resolve()
        path = (root / f"{name}.journal").resolve()
        if path.parent != root:  # defence in depth: the name check already forbids this
            raise ConfigError("err.tune.name", value=name)
        return path

    def url_for(self, name: str) -> str:
        """What ``--storage`` and optuna-dashboard take for this study."""
        return self.location if self.kind == "rdb" else str(self.path_for(name))

    def storage(self, name: str):
        """The Optuna storage holding study ``name`` (created on first use)."""
        if self.kind == "rdb":
            if self._rdb is None:
                import optuna

                with warnings.catch_warnings():  # heartbeat_interval is "experimental"
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    self._rdb = optuna.storages.RDBStorage(
                        self.location, engine_kwargs={"pool_pre_ping": True},
                        heartbeat_interval=self.heartbeat_seconds, grace_period=self.grace_seconds)
            return self._rdb
        from mlcore.tune.journal import MLPlabJournalStorage, TrialDurableFileBackend

        path = self.path_for(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return MLPlabJournalStorage(TrialDurableFileBackend(str(path)), heartbeat_interval=self.heartbeat_seconds,
                                    grace_period=self.grace_seconds)

    # ---- studies -------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        if self.kind == "journal" and not self.path_for(name).exists():
            return False
        return validate_name(name) in self._names(name)

    def _names(self, name: str) -> list[str]:
        import optuna

        return optuna.study.get_all_study_names(self.storage(name))

    def create(self, name: str, direction: str, attrs: dict, owner: str | None = None, shared: bool = False,
               sampler=None, pruner=None):
        """A new study; ``ConfigError('err.tune.exists')`` when the name is taken."""
        import optuna

        name = validate_name(name)
        if self.exists(name):
            raise ConfigError("err.tune.exists", name=name)
        study = optuna.create_study(storage=self.storage(name), study_name=name, direction=direction,
                                    sampler=sampler, pruner=pruner)
        for key, value in attrs.items():
            study.set_user_attr(key, value)
        study.set_user_attr(OWNER, owner)
        study.set_user_attr(SHARED, bool(shared))
        return study

    def load(self, name: str, sampler=None, pruner=None):
        """An existing study (pass the same sampler and pruner again: Optuna does not store them)."""
        import optuna

        name = validate_name(name)
        if not self.exists(name):
            raise ConfigError("err.tune.missing", name=name)
        return optuna.load_study(study_name=name, storage=self.storage(name), sampler=sampler, pruner=pruner)

    def set_shared(self, name: str, shared: bool) -> None:
        self.load(name).set_user_attr(SHARED, bool(shared))

    def delete(self, name: str, owner: str | None = None) -> None:
        """Delete a study; only its owner may (``owner=None`` skips the check, for the CLI)."""
        import optuna

        info = self.info(name)
        if owner is not None and info.owner not in (None, owner):
            raise ConfigError("err.tune.not_owner", name=name)
        optuna.delete_study(study_name=info.name, storage=self.storage(name))
        if self.kind == "journal" and not self._single_file:
            path = self.path_for(name)
            for extra in (path, path.with_name(path.name + ".lock")):
                extra.unlink(missing_ok=True)

    def info(self, name: str) -> StudyInfo:
        return self._info(self.load(name))

    @staticmethod
    def _info(study) -> StudyInfo:
        from optuna.trial import TrialState

        trials = study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        best = None
        if complete:
            best = study.best_value
        starts = [t.datetime_start for t in trials if t.datetime_start is not None]
        attrs = study.user_attrs
        return StudyInfo(study.study_name, attrs.get(OWNER), bool(attrs.get(SHARED)), study.direction.name.lower(),
                         len(trials), len(complete), best, min(starts).isoformat(timespec="minutes") if starts else None)

    def list(self, owner: str | None = None) -> list[StudyInfo]:
        """Studies visible to ``owner``: its own plus the shared ones (``None``: all), by name."""
        import optuna

        if self.kind == "rdb":
            storage = self.storage("x")
            names = optuna.study.get_all_study_names(storage)
        elif self._single_file:
            names = optuna.study.get_all_study_names(self.storage("x")) if Path(self.location).exists() else []
        else:
            names = sorted(p.stem for p in self.study_dir.glob("*.journal")) if self.study_dir.exists() else []
        out = []
        for name in names:
            if not NAME_RE.match(name):
                continue
            try:
                info = self.info(name)
            except ConfigError:
                continue
            if owner is None or info.shared or info.owner == owner:
                out.append(info)
        return sorted(out, key=lambda i: i.name)


# ---- running trials: buffered reports, heartbeat, stale trials ---------------------------------------
# These take a study and reach its storage (``study._storage``, as optuna's own fail_stale_trials
# does); for other storages than the two above they do what optuna's defaults do.


def flush(study) -> None:
    """Write the study's buffered intermediate values now (a no-op for other storages)."""
    fn = getattr(study._storage, "flush", None)
    if fn is not None:
        fn()


def discard(study, trial_id: int) -> None:
    """Drop the study's buffered writes to ``trial_id`` (another process finished that trial)."""
    fn = getattr(study._storage, "discard", None)
    if fn is not None:
        fn(trial_id)


def heartbeat_seconds(study) -> int | None:
    """How often a running trial of this study should beat; None: the storage has no heartbeat."""
    from optuna.storages._heartbeat import is_heartbeat_enabled

    storage = study._storage
    return storage.get_heartbeat_interval() if is_heartbeat_enabled(storage) else None


def beat(study, trial) -> None:
    """Record that ``trial`` (an ``optuna.Trial``) is still being run."""
    if heartbeat_seconds(study) is not None:
        study._storage.record_heartbeat(trial._trial_id)


def fail_trial(study, trial_id: int, reason: str, key: str, **params) -> bool:
    """Mark a RUNNING trial FAIL with its reason (``fail_reason`` in English for the CLI and
    optuna-dashboard, ``fail_key``/``fail_params`` for the page's catalogue). False when another
    process finished it first."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = study._storage
    try:
        storage.set_trial_user_attr(trial_id, "fail_reason", reason)
        storage.set_trial_user_attr(trial_id, "fail_key", {"key": key, "params": params})
        return bool(storage.set_trial_state_values(trial_id, TrialState.FAIL))
    except UpdateFinishedTrialError:
        return False


def fail_stale_trials(study) -> list[int]:
    """Fail every RUNNING trial of ``study`` whose heartbeat is older than the storage's grace
    period, with its reason; returns their numbers. What ``optuna.storages.fail_stale_trials`` does,
    plus the reason (a finished trial takes no attributes, so they are set first)."""
    from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled

    storage = study._storage
    if not isinstance(storage, BaseHeartbeat) or not is_heartbeat_enabled(storage):
        return []
    inner = getattr(storage, "_backend", None)  # RDBStorage comes wrapped in optuna's _CachedStorage
    grace = (getattr(storage, "grace_period", None) or getattr(inner, "grace_period", None)
             or 2 * storage.get_heartbeat_interval())
    failed = []
    for trial_id in storage._get_stale_trial_ids(study._study_id):
        if fail_trial(study, trial_id, STALE_REASON.format(seconds=int(grace)), "tune.fail.stale", seconds=int(grace)):
            failed.append(storage.get_trial(trial_id).number)
    return failed
