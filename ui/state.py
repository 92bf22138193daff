"""Session-state keys that persist across pages, defined once.

Widget values reset when the user switches page, so anything that must survive lives in plain
``st.session_state`` keys set here with ``setdefault``. Each session has its own copy: there is no
module-level mutable state shared between users.
"""

from __future__ import annotations

import streamlit as st

from mlcore.i18n import lang_from_locale


def _defaults() -> dict:
    # Built fresh per call: never share mutable defaults between sessions.
    return {
        "data": None,  # mlcore.dataset.PreparedData currently in use
        "data_source": None,  # dict describing how it was built (for the summary and share links)
        "data_error": None,  # last MLCoreError from the Data page (shown once)
        "model_cfg": None,  # mlcore.config.ModelConfig chosen on the Build page (None = default)
        "train_cfg": None,  # mlcore.config.TrainConfig chosen on the Train page (None = default)
        "controller": None,  # mlcore.jobs.TrainingController of this session
        "runs": [],  # mlcore.runs.RunRecord list (recorded trainings)
        "share_notices": [],  # notices from decoding a share link, shown once
    }


def init_state() -> None:
    ss = st.session_state
    if "lang" not in ss:
        try:
            locale = st.context.locale
        except Exception:  # pragma: no cover - context not available (bare mode)
            locale = None
        ss["lang"] = lang_from_locale(locale)
    for key, value in _defaults().items():
        ss.setdefault(key, value)
