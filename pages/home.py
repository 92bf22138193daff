"""Home: what MLP Lab is, the course map, and how to start."""

import streamlit as st

from ui.common import tr
from ui.nav import PAGES, section_label

st.title(tr("home.title"))
st.markdown(tr("home.intro"))

st.subheader(tr("home.map"))
for section in ("course", "workflow"):
    specs = [p for p in PAGES if p.section == section]
    if not specs:
        continue
    st.markdown(f"#### {section_label(section)}")
    cols = st.columns(2)
    for i, spec in enumerate(specs):
        with cols[i % 2].container(border=True):
            st.page_link(spec.path, label=tr(spec.title_key), icon=spec.icon)
            st.caption(tr(f"{spec.title_key}.desc"))

st.subheader(tr("home.start"))
st.markdown(tr("home.start_text"))
st.page_link("pages/data.py", label=tr("home.start_button"), icon=":material/arrow_forward:")
st.info(tr("home.motto"), icon="💡")
