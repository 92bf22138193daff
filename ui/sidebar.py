"""Sidebar widgets shown on every page: language switch and a summary of the session's state."""

from __future__ import annotations

import streamlit as st

from mlcore.i18n import LANGS
from ui.common import lang, tr

_LANG_NAMES = {"es": "Español", "en": "English"}


def _on_lang_change() -> None:
    st.session_state["lang"] = st.session_state["_lang_widget"]


def language_selector() -> None:
    # The widget's own key is reset on page switch; the choice persists in st.session_state["lang"].
    st.session_state["_lang_widget"] = lang()
    st.sidebar.segmented_control(
        "🌐",
        options=list(LANGS),
        format_func=lambda code: _LANG_NAMES[code],
        key="_lang_widget",
        on_change=_on_lang_change,
        label_visibility="collapsed",
    )


def state_summary() -> None:
    from ui.gc_policy import settle

    settle()  # once torch is loaded: freeze the long-lived heap (cheap full collections from then on)
    for key, params in st.session_state.pop("share_notices", None) or []:
        st.toast(tr(key, **params), icon="🔗")
    from ui.teacher import sidebar_panel

    sidebar_panel()  # teacher mode, hidden controls and the projector view
    controller = st.session_state.get("controller")
    if controller is not None:
        controller.touch()  # this session is still open: its training may keep playing
    data = st.session_state.get("data")
    box = st.sidebar.container(border=True)
    box.markdown(f"**{tr('sidebar.state')}**")
    if data is None:
        box.caption(tr("sidebar.no_data"))
        return
    box.markdown(
        tr(
            "sidebar.data_summary",
            name=data.name,
            rows=data.n_rows,
            features=data.n_features,
            task=tr(f"task.{data.task.value}"),
            train=len(data.y_train),
            val=len(data.y_val),
            test=len(data.y_test),
        )
    )
