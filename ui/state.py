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
        "data_csv": None,  # mlcore.data.CsvTable last uploaded (kept when the user switches page)
        "data_flash": None,  # (key, params) success message shown once after loading a dataset
        "model_cfg": None,  # mlcore.config.ModelConfig chosen on the Build page (None = default)
        "train_cfg": None,  # mlcore.config.TrainConfig chosen on the Train page (None = default)
        "controller": None,  # mlcore.jobs.TrainingController of this session
        "runs": [],  # mlcore.runs.RunRecord list (recorded trainings)
        "share_notices": [],  # notices from decoding a share link, shown once
        "teacher_mode": False,  # ui.teacher: the teacher's switch (remembered in links as tm=1)
        "teacher_hide": (),  # ui.teacher: control ids the teacher hides in the student link
        "hidden_controls": (),  # ui.teacher: control ids a link hid in this session (until "unlock")
        "preset": None,  # ui.presets: the active lesson step, "xor.hidden"
        "projector": False,  # ui.projector: projector view (large fonts, wide figures)
        "course_noise": None,  # mlcore.course.surfaces.MinibatchNoise last trained on the Gradient page
        "course_universal_fit": None,  # {"fit", "target", "label"} last trained on the Universal page
        "course_universal_sweep": None,  # {"sweep", "label"}: error against N on the Universal page
        "course_preprocess_run": None,  # mlcore.course.preprocess.ScalingComparison (Preprocess page)
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
    if not ss.get("_share_checked"):
        ss["_share_checked"] = True
        restore_share_link()


def restore_share_link() -> None:
    """Apply a share link's query parameters once per session (see ``mlcore.share``)."""
    from mlcore.errors import MLCoreError
    from mlcore.share import decode, is_share_link

    query = {key: st.query_params[key] for key in st.query_params}
    if not is_share_link(query):
        return
    ss = st.session_state
    source, model_cfg, train_cfg, notices = decode(query)
    ss["model_cfg"], ss["train_cfg"] = model_cfg, train_cfg
    from ui.teacher import restore_view

    restore_view(query, notices)  # teacher mode, hidden controls, lesson preset
    if source is not None:
        from mlcore.presets import prepare_source

        try:
            ss["data"] = prepare_source(source)
        except MLCoreError:
            notices.append(("share.invalid", {"group": "data"}))
    ss["share_notices"] = [*notices, ("share.restored", {})]
