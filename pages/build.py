"""Build: hidden layers, activations, initialisation, regularisation; diagram, parameters, code."""

from dataclasses import replace

import streamlit as st

from mlcore.config import ACTIVATIONS, BINARY_HEADS, INITS, REGRESSION_LOSSES, LayerSpec, Task
from mlcore.errors import MLCoreError
from ui.common import decimal_input, decimal_slider, fmt, require_data, show_error, tr
from ui.projector import show_chart
from ui.teacher import fixed_note, visible
from ui.training import model_cfg, train_cfg, worker_pool

st.title(tr("build.title"))
st.markdown(tr("build.intro"))

data = require_data()

from mlcore import model as mlmodel  # noqa: E402  (torch: only pages that need it import it)
from mlcore.export import export_code  # noqa: E402
from mlcore.plots.train import network_diagram  # noqa: E402

worker_pool()  # start the training workers now (torch loads in them), before the first Play
cfg = model_cfg()
LAYER_KEYS = ("b_units_", "b_act_")


def _clear_layer_widgets() -> None:
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(LAYER_KEYS):
            del st.session_state[key]


def _set_cfg(new) -> None:
    st.session_state["model_cfg"] = new


def _add_layer() -> None:
    current = model_cfg()
    width = current.hidden[-1].units if current.hidden else 8
    act = current.hidden[-1].activation if current.hidden else "relu"
    try:
        _set_cfg(replace(current, hidden=current.hidden + (LayerSpec(width, act),)))
    except MLCoreError as err:
        st.session_state["_build_error"] = err
    _clear_layer_widgets()


def _remove_layer(i: int) -> None:
    current = model_cfg()
    _set_cfg(replace(current, hidden=current.hidden[:i] + current.hidden[i + 1:]))
    _clear_layer_widgets()


def _layers_changed() -> None:
    current = model_cfg()
    layers = tuple(
        LayerSpec(int(st.session_state.get(f"b_units_{i}", h.units)), st.session_state.get(f"b_act_{i}", h.activation))
        for i, h in enumerate(current.hidden)
    )
    _set_cfg(replace(current, hidden=layers))


def _option_changed(field: str, key: str) -> None:
    _set_cfg(replace(model_cfg(), **{field: st.session_state[key]}))


left, right = st.columns([5, 7], gap="large")
with left:
    st.subheader(tr("build.layers"))
    for i, layer in enumerate(cfg.hidden if visible("build.architecture") else ()):
        c1, c2, c3 = st.columns([3, 4, 1], vertical_alignment="bottom")
        c1.number_input(tr("build.units", i=i + 1), min_value=1, max_value=256, value=layer.units, step=1,
                        key=f"b_units_{i}", on_change=_layers_changed)
        c2.selectbox(tr("build.activation"), ACTIVATIONS, index=ACTIVATIONS.index(layer.activation),
                     format_func=fmt("model.act."), key=f"b_act_{i}", on_change=_layers_changed)
        c3.button("✕", key=f"b_remove_{i}", on_click=_remove_layer, args=(i,), help=tr("build.remove"))
    if not cfg.hidden:
        st.caption(tr("build.no_hidden"))
    if visible("build.architecture"):
        st.button(tr("build.add"), key="b_add", on_click=_add_layer, icon=":material/add:",
                  disabled=len(cfg.hidden) >= 6)
    err = st.session_state.pop("_build_error", None)
    if err is not None:
        show_error(err)

    st.subheader(tr("build.options"))
    if visible("build.init"):
        st.selectbox(tr("build.init"), INITS, index=INITS.index(cfg.init), format_func=fmt("model.init."),
                     key="b_init", on_change=_option_changed, args=("init", "b_init"), help=tr("build.init_help"))
    if visible("build.regularisation"):
        decimal_slider(st, tr("build.dropout"), 0.0, 0.8, float(cfg.dropout), 0.05, key="b_dropout",
                       on_change=_option_changed, args=("dropout", "b_dropout"))
        c1, c2 = st.columns(2)
        decimal_input(c1, tr("build.l2"), 0.0, 1.0, float(cfg.l2), ".4g", key="b_l2",
                      on_change=_option_changed, args=("l2", "b_l2"))
        decimal_input(c2, tr("build.l1"), 0.0, 1.0, float(cfg.l1), ".4g", key="b_l1",
                      on_change=_option_changed, args=("l1", "b_l1"))
    fixed_note("build")
    show_loss = visible("build.loss")
    if show_loss and data.task is Task.BINARY:
        st.radio(tr("build.binary_head"), BINARY_HEADS, index=BINARY_HEADS.index(cfg.binary_head),
                 format_func=fmt("model.head."), key="b_head", horizontal=True,
                 on_change=_option_changed, args=("binary_head", "b_head"))
    if show_loss and data.task is Task.REGRESSION:
        current = cfg.loss or "mse"
        st.radio(tr("build.loss"), REGRESSION_LOSSES, index=REGRESSION_LOSSES.index(current),
                 format_func=fmt("model.loss."), key="b_loss", horizontal=True,
                 on_change=_option_changed, args=("loss", "b_loss"))
    st.info(tr(f"build.output.{data.task.value}"), icon="🎯")

cfg = model_cfg()
n_out = mlmodel.output_size(data.task, data.n_classes, cfg.binary_head)
ctrl = st.session_state.get("controller")
trained = (ctrl is not None and ctrl.model_cfg == cfg and st.session_state.get("_controller_data") is data
           and ctrl.snapshot().state.epoch > 0)


@st.cache_resource(show_spinner=False, max_entries=64)
def _initial_model(model_cfg, n_in: int, n_out: int, seed: int):
    """Seeded initial model for the diagram (read-only: never trained or mutated)."""
    return mlmodel.MLP(model_cfg, n_in, n_out, seed=seed)


if trained:
    from mlcore.train import load_model

    net = load_model(cfg, ctrl.arrays, ctrl.snapshot().state)
else:
    net = _initial_model(cfg, data.n_features, n_out, train_cfg().seed)

weights = [m.weight.detach().numpy() for m in net.linears]
names = ([tr("build.input")] + [tr("build.hidden_n", i=i + 1) for i in range(len(cfg.hidden))]
         + [tr("build.output")])

with right:
    st.subheader(tr("build.diagram"))
    st.caption(tr("build.diagram_trained" if trained else "build.diagram_initial"))
    show_chart(st, network_diagram(weights, names), key="b_diagram", config={"displayModeBar": False})
    table = mlmodel.param_table(net)
    rows = [{tr("build.col.layer"): names[k + 1], tr("build.col.shape"): row.formula,
             tr("build.col.activation"): tr(f"model.act.{row.activation}") if row.activation else "—"}
            for k, row in enumerate(table)]
    st.dataframe(rows, hide_index=True, width="stretch")
    st.metric(tr("build.total_params"), f"{sum(r.total for r in table):,}".replace(",", " "))

with st.expander(tr("build.repr"), expanded=False):
    st.code(repr(net), language="text")
with st.expander(tr("build.export"), expanded=False):
    st.caption(tr("build.export_help"))
    code = export_code(cfg, train_cfg(), data.n_features, n_out, data.task)
    st.code(code, language="python")
    st.download_button(tr("build.download_code"), code, file_name="mlp_lab_model.py", mime="text/x-python",
                       key="b_download_code", icon=":material/download:")
st.info(tr("build.try"), icon="🧪")
st.page_link("pages/train.py", label=tr("build.go_train"), icon=":material/play_arrow:")
