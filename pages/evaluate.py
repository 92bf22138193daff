"""Evaluate: "¿Nuestro modelo es correcto?" The general process (train / validation / test, test
looks counted), curve diagnosis, validation metrics, k-fold cross-validation, capacity and
learning-curve sweeps, the bias-variance decomposition and regularisation side by side."""

import streamlit as st

from ui.common import lazy_tabs, require_data, tab_open, tr

st.title(tr("eval.title"))
st.markdown(tr("eval.intro"))

data = require_data()

from ui import evaluate as ev  # noqa: E402
from ui.training import controller, sync_runs, tuned_note  # noqa: E402

ctrl, _notice = controller(data)
sync_runs(ctrl)  # a run that finished while the user is here joins the recorded runs

SECTIONS = {  # tab -> what it draws; hidden tabs do not run (lazy_tabs)
    "process": lambda: (ev.process_section(data), ev.test_section(data, ctrl)),
    "diagnosis": lambda: (tuned_note(ctrl), ev.diagnosis_section(data, ctrl)),
    "metrics": lambda: (tuned_note(ctrl), ev.validation_section(data, ctrl)),
    "cv": lambda: ev.cv_section(data),
    "capacity": lambda: ev.capacity_section(data),
    "learning": lambda: ev.learning_section(data),
    "biasvar": lambda: ev.biasvar_section(data),
    "regularisation": lambda: ev.regularisation_section(data),
}
for name, tab in zip(SECTIONS, lazy_tabs([f"eval.tab.{name}" for name in SECTIONS], "e_tab")):
    with tab:
        if tab_open(tab):
            SECTIONS[name]()
