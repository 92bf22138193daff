"""Helpers for Streamlit AppTest tests: a clean cache per test and ``make_app``."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True, scope="session")
def _full_error_details():
    """.streamlit/config.toml hides error details from students; tests want the real message."""
    from streamlit import config

    before = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")
    yield
    config.set_option("client.showErrorDetails", before)


@pytest.fixture(autouse=True)
def _training_on_threads(monkeypatch):
    """AppTest pages run training jobs on a thread (``ui.training.worker_pool``): the same
    controller code without starting worker processes in every test. The process pool has its
    own unit test, and the browser tests run the real server with processes."""
    monkeypatch.setenv("MLPLAB_POOL", "thread")


@pytest.fixture(autouse=True, scope="session")
def _navigation_mode():
    """Run every AppTest run through app.py, as the server does.

    With a ``pages/`` folder, Streamlit starts in its legacy multipage mode; the server leaves it
    for good on the first page run (``ui.common._leave_mpa_v1``). AppTest resets that flag before
    every run, which would run switched-to pages without app.py's frame, so here the flag is set
    the way the server has it after its first run.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    yield
    PagesManager.__init__ = original


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    """Each test starts with empty ``st.cache_data``/``st.cache_resource`` (no cross-test leaks)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def make_app(lang: str, page: str | None = None, timeout: float = 90) -> AppTest:
    """Run ``app.py`` in ``lang`` ("es"/"en"); with ``page`` ("pages/x.py"), switch to it and rerun."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["lang"] = lang
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    return at


def exceptions(at: AppTest) -> str:
    """The app's exceptions as readable text (message plus the last stack lines) for assertions."""
    parts = []
    for exc in at.exception:
        stack = "".join(exc.stack_trace[-4:]) if exc.stack_trace else ""
        parts.append(f"{exc.message}\n{stack}")
    return "\n".join(parts)


def table_texts(el):
    """What an ``st.dataframe`` / ``st.table`` element shows, as a DataFrame: its pandas Styler's
    display texts where it has them (``ui.common.number_table``), its values otherwise."""
    from streamlit import dataframe_util

    shown = el.proto.arrow_data.styler.display_values
    return dataframe_util.convert_arrow_bytes_to_pandas_df(shown) if shown else el.value
