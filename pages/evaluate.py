"""Evaluate: "¿Nuestro modelo es correcto?" The general process (train / validation / test, test
looks counted), curve diagnosis, validation metrics, k-fold cross-validation, capacity and
learning-curve sweeps, the bias-variance decomposition and regularisation side by side."""

import streamlit as st

from ui.common import require_data, tr

st.title(tr("eval.title"))
st.markdown(tr("eval.intro"))

data = require_data()

from ui import evaluate as ev  # noqa: E402
from ui.training import controller, sync_runs  # noqa: E402

ctrl, _notice = controller(data)
sync_runs(ctrl)  # a run that finished while the user is here joins the recorded runs

tabs = st.tabs([tr(f"eval.tab.{name}") for name in
                ("process", "diagnosis", "metrics", "cv", "capacity", "learning", "biasvar", "regularisation")])
with tabs[0]:
    ev.process_section(data)
    ev.test_section(data, ctrl)
with tabs[1]:
    ev.diagnosis_section(data, ctrl)
with tabs[2]:
    ev.validation_section(data, ctrl)
with tabs[3]:
    ev.cv_section(data)
with tabs[4]:
    ev.capacity_section(data)
with tabs[5]:
    ev.learning_section(data)
with tabs[6]:
    ev.biasvar_section(data)
with tabs[7]:
    ev.regularisation_section(data)
