"""Tune page: the server's time for one full rerun, study list open against closed.

    python -m bench.bench_tune_page [--trials 30] [--repeats 12]

One session (Streamlit's AppTest, so the time is the script run on the server: widgets, the study
list, Optuna's figure, serialisation) on breast cancer, with one finished study of ``--trials``
trials in a fresh data directory. A widget change on the New-study tab reruns the whole page; the
study list and the comparison run only while their tab is open (``ui.common.lazy_tabs``), so the
two medians below are what a rerun costs with the New-study tab open (what a student changing the
search space pays) and with the study list open (it loads the study, fails its stale trials and
builds Optuna's history plot). Until 2026-12-02 every rerun paid the second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=12)
    args = ap.parse_args()
    os.environ["MLPLAB_DATA_DIR"] = data_dir = tempfile.mkdtemp(prefix="bench-tune-page-")
    os.environ.pop("MLPLAB_STORAGE_URL", None)
    import optuna
    from streamlit.testing.v1 import AppTest

    from mlcore.config import BuiltinConfig, OptimConfig, SplitConfig, TrainConfig
    from mlcore.data import prepare_builtin
    from mlcore.i18n import t
    from mlcore.train import TrainArrays
    from mlcore.tune.objective import TuneJob, TuneSettings, study_attrs
    from mlcore.tune.storage import StudyStore

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = prepare_builtin(BuiltinConfig(name="breast_cancer"), SplitConfig())
    at = AppTest.from_file(os.path.join(os.path.dirname(__file__), "..", "app.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.session_state["data"] = data
    at.session_state["train_cfg"] = TrainConfig(optim=OptimConfig(lr=0.05), epochs=5, batch_size=32)
    at.run()
    at.switch_page("pages/tune.py").run()
    settings = TuneSettings(k=1, pruner="none", train_cfg=TrainConfig(epochs=5, batch_size=32))
    sampler, pruner, _ = settings.sampler_and_pruner()
    arrays = TrainArrays.from_prepared(data)
    study = StudyStore(data_dir).create("bench-page", settings.direction, study_attrs(settings, arrays),
                                        owner=at.session_state["tune_owner"], sampler=sampler, pruner=pruner)
    TuneJob(study, settings, arrays, args.trials).run_inline()

    def median_rerun(tab: str) -> float:
        at.session_state["tu_tab_en"] = t(f"tune.tab.{tab}", "en")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        return 1000 * statistics.median(times[1:])

    closed, opened = median_rerun("run"), median_rerun("studies")
    print(f"Tune page, breast cancer, one study of {args.trials} trials: full rerun (server, median of {args.repeats})")
    print(f"  New-study tab open (study list not run): {closed:6.1f} ms")
    print(f"  study list open (study loaded, history plot): {opened:6.1f} ms  ({opened / closed:.1f}x)")


if __name__ == "__main__":
    main()
