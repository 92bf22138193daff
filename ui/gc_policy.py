"""The server process's garbage collection, tuned for torch + lightning and a class of 30.

Streamlit's default is a full ``gc.collect(2)`` after every script and fragment run
(``runner.postScriptGC``). With torch, lightning, plotly and sklearn imported, one full
collection walks about half a million long-lived objects: 0.4-0.8 s each time, measured here, so
30 polling live views would spend the server's one core collecting garbage. ``.streamlit/config.toml``
turns it off, and this module does two things instead, once per server process:

- ``settle()`` (called on every page run; a few dict lookups): each time another heavy library has
  been imported since the last call (torch first, later sklearn, optuna, shap...), one full
  collection and then ``gc.freeze()``, which moves every object alive now (modules, classes,
  functions: they live as long as the process) out of the collector's reach. A full collection
  then costs milliseconds instead of most of a second. (Objects of sessions open at that moment
  are frozen too and never collected: a few sessions' worth, once per library.)
- A janitor thread runs a full collection every ``JANITOR_SECONDS``, so cyclic garbage left by
  closed sessions (their models, runs, figures) is freed even when no script runs any more.
"""

from __future__ import annotations

import gc
import sys
import threading

import streamlit as st

JANITOR_SECONDS = 60.0
HEAVY_MODULES = ("torch", "lightning", "plotly", "sklearn", "pandas", "scipy", "optuna", "shap", "captum")


class _Collector:
    def __init__(self) -> None:
        self.frozen: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mlplab-gc-janitor", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(JANITOR_SECONDS):
            gc.collect()

    def settle(self) -> None:
        loaded = frozenset(name for name in HEAVY_MODULES if name in sys.modules)
        if loaded <= self.frozen or "torch" not in loaded:
            return
        with self._lock:
            if loaded <= self.frozen:
                return
            gc.collect()
            gc.freeze()
            self.frozen = loaded

    def stop(self) -> None:
        self._stop.set()


@st.cache_resource(show_spinner=False, on_release=lambda c: c.stop())
def _collector() -> _Collector:
    return _Collector()


def settle() -> None:
    """Freeze the long-lived heap once the heavy imports are done (cheap after the first time)."""
    _collector().settle()
