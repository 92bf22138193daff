"""MLP Lab: page config, language, session defaults and navigation. Nothing else."""

import logging
import os

import streamlit as st

from ui.common import tr
from ui.nav import build_navigation
from ui.sidebar import language_selector, state_summary
from ui.state import init_state

st.set_page_config(page_title="MLP Lab", page_icon="🧠", layout="wide")
init_state()
language_selector()
page = build_navigation()
state_summary()

try:
    page.run()
except Exception as exc:  # last line of defence: students never see a traceback
    if type(exc).__name__ in {"RerunException", "StopException"} or os.environ.get("MLPLAB_RAISE"):
        raise
    logging.getLogger("mlplab").exception("unhandled error on page %s", page.title)
    st.error(tr("err.unexpected"), icon="⚠️")
