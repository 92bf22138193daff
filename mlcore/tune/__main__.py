"""Headless worker: ``python -m mlcore.tune worker --storage URL --study NAME --trials N``.

Runs N trials of an existing MLP Lab study from another process or machine. ``--storage`` is a
journal file (``data/studies/NAME.journal``), a data dir, or an RDB URL such as
``postgresql+psycopg://user@host:5432/db``; by default ``$MLPLAB_STORAGE_URL`` or
``$MLPLAB_DATA_DIR``. The objective (data, settings, base configs) is read from the study itself.
The worker's sampler seed differs from the app's (``--seed``, default from the process id), so
that two workers do not draw the same random trials.

Interrupted (Ctrl-C or SIGTERM), the worker fails its running trial with the reason before it
exits; killed outright (SIGKILL, a lost machine), its trial stops beating and the next ask of any
process, or the page, fails it as stale (see :mod:`mlcore.tune.storage`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcore.tune")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("worker", help="run trials of an existing study")
    w.add_argument("--storage", default=None, help="journal file, data dir or RDB URL")
    w.add_argument("--study", required=True)
    w.add_argument("--trials", type=int, required=True)
    w.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)

    import optuna
    import torch

    from mlcore.errors import MLCoreError
    from mlcore.tune.objective import TuneJob, from_study
    from mlcore.tune.storage import StudyStore

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from mlcore.tune.storage import fail_stale_trials

    def _interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    job = None
    try:
        store = StudyStore(args.storage)
        settings, arrays = from_study(store.load(args.study))
        seed = args.seed if args.seed is not None else settings.seed + 1 + os.getpid() % 100_000
        sampler, pruner, _ = settings.sampler_and_pruner(seed)
        study = store.load(args.study, sampler=sampler, pruner=pruner)
        stale = fail_stale_trials(study)
        if stale:
            print(f"failed stale trials: {stale}", file=sys.stderr)
        job = TuneJob(study, settings, arrays, args.trials)
        job.run_inline()
    except MLCoreError as err:
        print(f"error: {err.message('en')}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, SystemExit):  # Lightning turns an interrupt during a fit into sys.exit(1)
        if job is not None:
            job.abandon("interrupted")
        print("interrupted", file=sys.stderr)
        return 130
    print(f"{job.finished} trials told: {job.told}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
