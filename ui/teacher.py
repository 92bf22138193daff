"""Teacher mode: hide chosen controls for the class and hand out a link with the setup fixed.

- ``visible("train.optimizer")``: pages ask this before drawing a control. A control is hidden
  when a link asked for it (``hide=opt,lr``) and the student has not pressed "unlock". In teacher
  mode nothing is hidden on the teacher's own screen: the teacher picks what the class will not
  see, and the student link carries it.
- ``sidebar_panel()``: the teacher-mode switch (remembered in the link as ``tm=1``), the choice of
  controls to hide per page, the student link; for students, the "unlock" button.
- ``restore_view(query, notices)``: applies a link's teacher parameters once per session.

This is a teaching aid, not a security boundary: everything stays one click ("unlock") away.
Session keys (defaults in ``ui.state``): ``teacher_mode``, ``teacher_hide`` (the teacher's
choice for the link), ``hidden_controls`` (what a link hid here), ``preset`` (lesson step ref).
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from mlcore.i18n import t
from ui.common import lang, multiselect, tr

HIDEABLE: dict[str, tuple[str, ...]] = {
    "data": ("data.dataset",),
    "build": ("build.architecture", "build.init", "build.regularisation", "build.loss"),
    "train": ("train.optimizer", "train.lr", "train.hyper", "train.batch", "train.epochs", "train.seed",
              "train.early_stopping"),
}


def hidden() -> frozenset[str]:
    ss = st.session_state
    if ss.get("teacher_mode"):
        return frozenset()
    return frozenset(ss.get("hidden_controls") or ())


def visible(control: str) -> bool:
    """False when a teacher's link hides ``control`` (and the student has not unlocked)."""
    return control not in hidden()


def fixed_note(page: str) -> None:
    """One line saying which of this page's settings the teacher fixed (nothing if none)."""
    names = [tr(f"teacher.control.{c}") for c in HIDEABLE.get(page, ()) if c in hidden()]
    if names:
        st.caption("🔒 " + tr("teacher.fixed", names=", ".join(names)))


def restore_view(query, notices: list) -> None:
    """Apply a link's ``hide``, ``tm`` and ``preset`` parameters (see ``mlcore.share.decode_view``)."""
    from mlcore.presets import parse_ref
    from mlcore.share import decode_view

    hide, teacher, preset, view_notices = decode_view(query)
    notices.extend(view_notices)
    ss = st.session_state
    ss["hidden_controls"] = hide
    ss["teacher_mode"] = teacher
    if teacher:
        ss["teacher_hide"] = hide
    if preset is not None:
        found = parse_ref(preset)
        if found is None:
            notices.append(("preset.unknown", {}))
        else:
            ss["preset"] = preset
            if "arch" not in query and "ds" not in query:  # a bare lesson link: the step is the setup
                from mlcore.errors import MLCoreError
                from mlcore.presets import prepare_source

                step = found[1]
                ss["model_cfg"], ss["train_cfg"] = step.model, step.train
                try:
                    ss["data"] = prepare_source(step.source)
                except MLCoreError:  # pragma: no cover - presets are tested to load
                    notices.append(("share.invalid", {"group": "data"}))


def _on_teacher_toggle() -> None:
    st.session_state["teacher_mode"] = bool(st.session_state["_teacher_widget"])


def _on_hide_change(page: str) -> None:
    chosen = set(st.session_state.get("teacher_hide") or ())
    chosen -= set(HIDEABLE[page])
    chosen |= set(st.session_state.get(f"_teacher_hide_{page}") or ())
    st.session_state["teacher_hide"] = tuple(c for group in HIDEABLE.values() for c in group if c in chosen)


def _on_unlock() -> None:
    st.session_state["hidden_controls"] = ()


def link_params(hide=(), teacher: bool = False) -> dict[str, str]:
    """The share link's parameters for the session's current setup plus the teacher's view."""
    from mlcore.share import encode, encode_view
    from ui.training import model_cfg, train_cfg

    data = st.session_state.get("data")
    source = data.source if data is not None and isinstance(data.source, dict) else {}
    params = encode(model_cfg(), train_cfg(), source)
    params.update(encode_view(hide, teacher, st.session_state.get("preset")))
    return params


def _link(params: dict[str, str]) -> str:
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{urlencode(params, safe=',:')}"


def sidebar_panel() -> None:
    ss = st.session_state
    box = st.sidebar.container(border=True)
    from ui.projector import projector_switch

    projector_switch(box)
    ss["_teacher_widget"] = bool(ss.get("teacher_mode"))
    box.toggle(tr("teacher.mode"), key="_teacher_widget", on_change=_on_teacher_toggle,
               help=tr("teacher.mode.help"))
    language = lang()
    if ss.get("teacher_mode"):
        chosen = set(ss.get("teacher_hide") or ())
        with box.expander(tr("teacher.hide_title"), expanded=False):
            for page, controls in HIDEABLE.items():
                ss[f"_teacher_hide_{page}"] = [c for c in controls if c in chosen]
                multiselect(st, tr(f"nav.{page}"), controls, key=f"_teacher_hide_{page}",
                            format_func=lambda c, L=language: t(f"teacher.control.{c}", L),
                            on_change=_on_hide_change, args=(page,), placeholder=tr("teacher.hide_none"))
        data = ss.get("data")
        box.markdown(f"**{tr('teacher.student_link')}**")
        box.code(_link(link_params(ss.get("teacher_hide") or ())), language="text", wrap_lines=True)
        with box.expander(tr("teacher.own_link"), expanded=False):
            st.code(_link(link_params(ss.get("teacher_hide") or (), teacher=True)), language="text",
                    wrap_lines=True)
        if data is not None and not (isinstance(data.source, dict) and data.source.get("kind") == "builtin"):
            box.caption(tr("share.csv_note"))
        box.caption(tr("teacher.aid"))
    elif hidden():
        box.info(tr("teacher.locked", n=len(hidden())), icon="🔒")
        box.button(tr("teacher.unlock"), key="teacher_unlock", on_click=_on_unlock, icon=":material/lock_open:",
                   width="stretch")
        box.caption(tr("teacher.aid"))
