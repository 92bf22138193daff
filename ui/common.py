"""Small helpers every page uses: the current language, translation, error display."""

from __future__ import annotations

import logging

import streamlit as st

from mlcore.errors import MLCoreError
from mlcore.i18n import LANGS, t

log = logging.getLogger("mlplab")


def lang() -> str:
    value = st.session_state.get("lang")
    return value if value in LANGS else "es"


def tr(key: str, **params) -> str:
    """Translate ``key`` into the session's language."""
    return t(key, lang(), **params)


def show_error(err: MLCoreError) -> None:
    """Show a typed mlcore error in the user's language (never a traceback)."""
    st.error(err.message(lang()), icon="⚠️")


def show_notes(notes) -> None:
    """Show (key, params) notices from mlcore as info boxes."""
    for key, params in notes:
        st.info(tr(key, **params), icon="ℹ️")


def page_header(title_key: str, intro_key: str | None = None) -> None:
    st.title(tr(title_key))
    if intro_key:
        st.markdown(tr(intro_key))
