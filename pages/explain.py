"""Explain: interpretability theory in the course's words, then SHAP, counterfactuals, saliency
maps, prototypes, a rule surrogate and where they disagree, on the session's trained model."""

import streamlit as st

from ui.common import lazy_tabs, require_data, tab_open, tr

st.title(tr("explain.title"))
st.markdown(tr("explain.intro"))


def theory(data) -> None:
    st.markdown(tr("explain.theory.interpretability"))
    st.markdown(tr("explain.theory.xai"))
    st.markdown(tr("explain.theory.red_blue"))
    st.markdown(tr("explain.theory.table"))
    image = data is None or data.image_shape is not None  # before a dataset is loaded: what an MLP allows
    rows = [  # (technique, family, applies here)
        ("fi", "tabular", True), ("rb", "tabular", True), ("pr", "both", True), ("cf", "both", True),
        ("sm", "image", image), ("ca", "image", False), ("sh", "text", False), ("ab", "text", False),
    ]
    lines = [f"| {tr('explain.theory.col.technique')} | {tr('explain.theory.col.data')} | "
             f"{tr('explain.theory.col.applies')} | {tr('explain.theory.col.where')} |", "|---|---|---|---|"]
    for code, family, applies in rows:
        lines.append(f"| {tr(f'explain.tech.{code}')} | {tr(f'explain.family.{family}')} | "
                     f"{tr('explain.yes') if applies else '—'} | {tr(f'explain.tech.{code}.where')} |")
    st.markdown("\n".join(lines))
    st.info(tr("explain.theory.text_na"), icon="📝")
    st.markdown(tr("explain.theory.question"))


data = st.session_state.get("data")
if data is None:
    with st.expander(tr("explain.tab.theory"), expanded=True):
        theory(None)
    require_data()

from ui import explain as ux  # noqa: E402
from ui.training import controller  # noqa: E402

ctrl, _ = controller(data)
snap = ctrl.snapshot()
ctx = ux.context(data, ctrl) if ux.has_trained_weights(ctrl, snap) else None
if ctx is not None:
    if ctx.epoch > 0:
        st.caption(tr("explain.model_caption", arch=ctx.model.architecture(), epoch=ctx.epoch))
    else:
        st.caption(tr("explain.model_caption_adopted", arch=ctx.model.architecture()))
TABS = ("shap", "cf", "saliency", "prototypes", "surrogate", "disagreement", "theory")
tabs = dict(zip(TABS, lazy_tabs([f"explain.tab.{name}" for name in TABS], "x_tab")))  # hidden tabs do not run
with tabs["theory"]:
    if tab_open(tabs["theory"]):
        theory(data)
if ctx is None:
    with tabs["shap"]:
        st.warning(tr("explain.need_training"), icon="🏋️")
        st.page_link("pages/train.py", label=tr("nav.train"), icon=":material/model_training:")
    st.stop()

RENDER = {"shap": ux.shap_tab, "cf": ux.counterfactual_tab, "saliency": ux.saliency_tab,
          "prototypes": ux.prototypes_tab, "surrogate": ux.surrogate_tab, "disagreement": ux.disagreement_tab}
for name, render in RENDER.items():
    with tabs[name]:
        if tab_open(tabs[name]):
            render(ctx)
st.info(tr("explain.question"), icon="❓")
