"""The lesson-presets panel (top of the Train page): one click sets up a lesson step; the prompt
shows while the class predicts, the explanation once the run has ended (see ``mlcore.presets``)."""

from __future__ import annotations

import streamlit as st

from mlcore.errors import MLCoreError
from mlcore.i18n import t
from ui.common import lang, show_error, tr

# widget keys of the Build and Train pages: dropped when a preset replaces the configuration,
# so the widgets show the preset's values instead of their last ones
_WIDGET_PREFIXES = ("t_opt", "t_h_", "t_batch", "t_epochs", "t_seed", "t_es", "t_patience", "b_units_", "b_act_",
                    "b_init", "b_dropout", "b_l2", "b_l1", "b_head", "b_loss")


def apply_step(ref: str) -> None:
    """Make the lesson step ``ref`` ("xor.hidden") the session's data, model and training."""
    from mlcore.presets import parse_ref, prepare_source

    found = parse_ref(ref)
    if found is None:
        st.session_state["_preset_error"] = ("preset.unknown", {})
        return
    preset, step = found
    ss = st.session_state
    try:
        data = ss.get("data")
        same = data is not None and isinstance(data.source, dict) and all(
            data.source.get(k) == v for k, v in step.source.items() if k != "scale") and \
            bool(data.source.get("scale", True)) == bool(step.source.get("scale", True))
        if not same:
            ss["data"] = prepare_source(step.source)
            ss["data_source"] = dict(ss["data"].source)
    except MLCoreError as err:
        ss["_preset_error"] = err
        return
    ss["model_cfg"], ss["train_cfg"] = step.model, step.train
    ss["preset"] = f"{preset.id}.{step.key}"
    for key in list(ss.keys()):
        if isinstance(key, str) and key.startswith(_WIDGET_PREFIXES):
            del ss[key]
    ss["_preset_flash"] = ("preset.applied", {"title": tr(preset.title_key),
                                              "step": tr(f"preset.{preset.id}.step.{step.key}")})


def _leave() -> None:
    st.session_state["preset"] = None


def _ended() -> bool:
    """Whether this session's training of the current setup has run to its end."""
    ss = st.session_state
    ctrl = ss.get("controller")
    if ctrl is None or ss.get("_controller_data") is not ss.get("data") or ctrl.model_cfg != ss.get("model_cfg"):
        return False
    state = ctrl.snapshot().state
    return state.status == "diverged" or (state.epoch > 0 and state.status in ("done", "early_stopped"))


def presets_panel() -> None:
    from mlcore.presets import PRESET_IDS, get_preset, parse_ref

    ss = st.session_state
    language = lang()
    active = parse_ref(ss["preset"]) if ss.get("preset") else None
    with st.expander(tr("preset.panel"), expanded=active is None and ss.get("data") is None,
                     icon=":material/school:"):
        st.caption(tr("preset.panel.help"))
        current = active[0].id if active else PRESET_IDS[0]
        choice = st.selectbox(tr("preset.choose"), PRESET_IDS, index=PRESET_IDS.index(current), key="p_choose",
                              format_func=lambda p, L=language: t(f"preset.{p}.title", L))
        preset = get_preset(choice)
        cols = st.columns(len(preset.steps))
        for col, step in zip(cols, preset.steps):
            col.button(tr(f"preset.{preset.id}.step.{step.key}"), key=f"p_apply_{preset.id}_{step.key}",
                       on_click=apply_step, args=(f"{preset.id}.{step.key}",), width="stretch",
                       type="primary" if active and active[1] is step else "secondary")
    err = ss.pop("_preset_error", None)
    if isinstance(err, MLCoreError):
        show_error(err)
    elif err:
        st.warning(tr(err[0], **err[1]), icon="⚠️")
    flash = ss.pop("_preset_flash", None)
    if flash:
        st.toast(tr(flash[0], **flash[1]), icon="🎓")
    if active is None:
        return
    preset, step = active
    with st.container(border=True):
        c1, c2 = st.columns([3, 1], vertical_alignment="center")
        c1.markdown(tr("preset.active", title=tr(preset.title_key), step=tr(f"preset.{preset.id}.step.{step.key}")))
        c2.button(tr("preset.leave"), key="p_leave", on_click=_leave, icon=":material/close:")
        st.markdown(f"**{tr('preset.prompt_title')}.** {tr(preset.prompt_key)}")
        if _ended():
            st.success(f"**{tr('preset.explain_title')}.** {tr(preset.explain_key)}", icon="💡")
            others = [s for s in preset.steps if s is not step]
            if others:
                st.markdown(tr("preset.next"))
                cols = st.columns(len(others))
                for col, other in zip(cols, others):
                    col.button(tr(f"preset.{preset.id}.step.{other.key}"), key=f"p_next_{other.key}",
                               on_click=apply_step, args=(f"{preset.id}.{other.key}",), width="stretch")
        else:
            st.caption(tr("preset.after_run"))
        with st.expander(tr("preset.link")):
            from ui.teacher import _link, link_params

            st.code(_link(link_params(preset.hidden)), language="text", wrap_lines=True)
