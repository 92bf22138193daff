"""Data: pick a built-in dataset or upload a CSV, choose target and features, split, and see
what preprocessing did. The result lives in ``st.session_state["data"]`` (a ``PreparedData``).

Kept light on purpose (first page a class opens): numpy, pandas and plotly at import time,
scikit-learn only when a dataset is prepared, never torch.

Widget values reset when the user leaves the page, so every widget's value is seeded into
``st.session_state`` before the widget is drawn (see ``_seed``): from the current dataset's
``source`` when there is one, else from sensible defaults. A failed load shows the error and
leaves the current dataset untouched.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pandas as pd
import streamlit as st

from mlcore.config import BuiltinConfig, ColumnChoice, SplitConfig, Task
from mlcore.data import (
    BUILTINS,
    IMPUTE_CHOICES,
    MAX_UPLOAD_MB,
    class_balance,
    column_notes,
    default_choice,
    image_samples,
    infer_columns,
    infer_task,
    prepare_builtin,
    prepare_table,
    read_csv_bytes,
    split_counts,
    target_histogram,
    view_2d,
)
from mlcore.errors import MLCoreError
from mlcore.i18n import t
from mlcore.plots.data import (
    class_balance_figure,
    image_grid,
    image_grid_figure,
    scatter_2d_figure,
    target_histogram_figure,
)
from ui.common import (class_names, decimal_slider, lang, lazy_tabs, multiselect, number_table, page_header, show_error, show_notes,
                       tab_open, tr)
from ui.projector import show_chart, uploader_texts_css
from ui.teacher import fixed_note, visible
from ui.training import worker_pool

SEP_KEYS = {",": "data.sep.comma", ";": "data.sep.semicolon", "\t": "data.sep.tab", "|": "data.sep.pipe"}
TASK_CHOICES = ("auto", "classification", "regression")
VAL_RANGE = (0.05, 0.4)
TEST_RANGE = (0.0, 0.4)
MAX_SEED = 10_000


# --- cached pure work -------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def _builtin(name: str, n_samples: int, noise: float, n_classes: int, seed: int,
             val_frac: float, test_frac: float, split_seed: int):
    cfg = BuiltinConfig(name=name, n_samples=n_samples, noise=noise, n_classes=n_classes, seed=seed)
    return prepare_builtin(cfg, SplitConfig(val_frac=val_frac, test_frac=test_frac, seed=split_seed))


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _read_csv(digest: str, filename: str, _raw: bytes):
    """Keyed on the bytes' digest (and name): the bytes themselves are not hashed again."""
    return read_csv_bytes(_raw, filename)


# --- widget state -----------------------------------------------------------------------------


def _seed(key: str, value) -> None:
    """Give widget ``key`` its current value, or ``value`` when it has none, in THIS run.

    Assigning on every run (not only when the key is missing) matters: a value set through
    ``st.session_state`` reaches the browser only if it was set in the run that draws the widget.
    A value seeded while the widget was hidden (a real dataset hides the noise slider) would
    otherwise stay on the server while the browser shows the slider's minimum.
    """
    st.session_state[key] = st.session_state[key] if key in st.session_state else value


def _source() -> dict:
    data = st.session_state.get("data")
    return dict(getattr(data, "source", None) or {})


def _clamp(value, low, high):
    return min(max(value, low), high)


def _seed_common(src: dict) -> None:
    _seed("data_source_kind", "upload" if src.get("kind") == "csv" else "builtin")
    _seed("data_val_frac", _clamp(float(src.get("val_frac", 0.2)), *VAL_RANGE))
    _seed("data_test_frac", _clamp(float(src.get("test_frac", 0.2)), *TEST_RANGE))
    _seed("data_split_seed", _clamp(int(src.get("split_seed", 0)), 0, MAX_SEED))


def _seed_builtin(src: dict) -> None:
    builtin = src if src.get("kind") == "builtin" and src.get("name") in BUILTINS else {}
    spec = BUILTINS[builtin.get("name", "moons")]
    _seed("data_builtin", spec.name)
    _seed("data_n_samples", _clamp(int(builtin.get("n_samples", 500)), *spec.n_samples_range))
    _seed("data_noise", _clamp(float(builtin.get("noise", spec.default_noise)), *spec.noise_range))
    _seed("data_n_classes", _clamp(int(builtin.get("n_classes", 3)), *spec.classes_range))
    _seed("data_seed", _clamp(int(builtin.get("seed", 0)), 0, MAX_SEED))


def _picker_values(table, src: dict) -> dict:
    """Widget values for a table: the current dataset's choices if it came from this very file,
    else the defaults (last column as target, constants and identifiers unselected)."""
    cols = [str(c) for c in table.df.columns]
    if src.get("kind") == "csv" and src.get("digest") == table.digest and src.get("target") in cols:
        task = {None: "auto", "regression": "regression"}.get(src.get("task"), "classification")
        return {
            "data_target": src["target"],
            "data_features": [f for f in src.get("features", []) if f in cols and f != src["target"]],
            "data_task": task, "data_categorical": list(src.get("categorical", [])),
            "data_scale": bool(src.get("scale", True)), "data_impute": src.get("impute_numeric", "median"),
            "data_date_parts": bool(src.get("date_parts", False)),
        }
    choice = default_choice(table.df)
    return {"data_target": choice.target, "data_features": list(choice.features), "data_task": "auto",
            "data_categorical": [], "data_scale": True, "data_impute": "median", "data_date_parts": False}


# --- loading ----------------------------------------------------------------------------------


def _split() -> SplitConfig:
    return SplitConfig(val_frac=float(st.session_state["data_val_frac"]),
                       test_frac=float(st.session_state["data_test_frac"]),
                       seed=int(st.session_state["data_split_seed"]))


def _store(data) -> None:
    """Make ``data`` the session's dataset and rerun, so the sidebar shows it at once."""
    st.session_state["data"] = data
    st.session_state["data_source"] = dict(data.source)
    st.session_state["data_flash"] = ("data.loaded", {"name": data.name, "rows": data.n_rows,
                                                      "features": data.n_features})
    worker_pool()  # start the training workers (torch loads in them, not here) before the first Play
    st.rerun()


def _split_controls() -> None:
    st.markdown(f"**{tr('data.split')}**")
    c1, c2, c3 = st.columns(3)
    decimal_slider(c1, tr("data.val_frac"), *VAL_RANGE, None, 0.05, key="data_val_frac", help=tr("data.split.help"))
    decimal_slider(c2, tr("data.test_frac"), *TEST_RANGE, None, 0.05, key="data_test_frac")
    c3.number_input(tr("data.split_seed"), min_value=0, max_value=MAX_SEED, step=1, key="data_split_seed")


def _builtin_controls() -> None:
    _seed_builtin(_source())
    names = list(BUILTINS)
    left, right = st.columns([1, 1])
    with left:
        name = st.selectbox(
            tr("data.dataset"), names, key="data_builtin",
            format_func=lambda n, L=lang(): f"{t(f'data.builtin.{n}', L)} · "
                                            f"{t(f'data.group.{BUILTINS[n].group}', L)}",
        )
        st.caption(tr(f"data.builtin.{name}.desc"))
    spec = BUILTINS[name]
    with right:
        if spec.uses_n_samples:
            st.slider(tr("data.n_samples"), spec.n_samples_range[0], spec.n_samples_range[1], step=50,
                      key="data_n_samples")
        if spec.uses_noise:
            decimal_slider(st, tr("data.noise"), spec.noise_range[0], spec.noise_range[1], None, 0.05, key="data_noise")
        if spec.uses_classes:
            st.slider(tr("data.n_classes"), *spec.classes_range, key="data_n_classes")
        if spec.is_toy:
            st.number_input(tr("data.seed"), min_value=0, max_value=MAX_SEED, step=1, key="data_seed",
                            help=tr("data.seed.help"))
    _split_controls()
    if st.button(tr("data.load"), key="data_load", type="primary", icon=":material/download:"):
        ss = st.session_state
        try:
            with st.spinner(tr("data.loading")):
                data = _builtin(name, int(ss["data_n_samples"]), float(ss["data_noise"]),
                                int(ss["data_n_classes"]), int(ss["data_seed"]), float(ss["data_val_frac"]),
                                float(ss["data_test_frac"]), int(ss["data_split_seed"]))
        except MLCoreError as err:
            show_error(err)
        else:
            _store(data)


def _upload_controls() -> None:
    ss = st.session_state
    texts = uploader_texts_css("data_upload", tr("data.upload.button"), tr("data.upload.limits", mb=MAX_UPLOAD_MB))
    st.html(f"<style>{texts}</style>")  # the uploader's own texts are English in every language
    upload = st.file_uploader(tr("data.upload"), type=["csv", "txt", "tsv"], key="data_upload",
                              help=tr("data.upload.help", limit_mb=MAX_UPLOAD_MB),
                              max_upload_size=MAX_UPLOAD_MB)
    table = None
    if upload is not None:
        raw = upload.getvalue()
        digest = hashlib.sha256(raw).hexdigest()
        try:
            table = _read_csv(digest, upload.name, raw)
        except MLCoreError as err:
            show_error(err)
            return
        previous = ss.get("data_csv")
        if previous is None or previous.digest != table.digest:
            ss["data_csv"] = table
            ss.update(_picker_values(table, _source()))
    elif ss.get("data_csv") is not None:
        table = ss["data_csv"]
        st.caption(tr("data.upload.kept", filename=table.filename, rows=len(table.df),
                      cols=table.df.shape[1]))
    if table is None:
        st.info(tr("data.upload.hint"), icon="📄")
        return
    for key, value in _picker_values(table, _source()).items():
        _seed(key, value)
    _table_pickers(table)


def _table_pickers(table) -> None:
    ss = st.session_state
    df = table.df
    st.caption(tr("data.upload.read", rows=len(df), cols=df.shape[1], encoding=table.encoding,
                  sep=tr(SEP_KEYS.get(table.sep, "data.sep.comma"))))
    infos = infer_columns(df)
    with st.expander(tr("data.preview_upload"), expanded=False):
        st.dataframe(number_table(df.head(20), digits=6), hide_index=True)
    with st.expander(tr("data.columns_detected"), expanded=True):
        st.dataframe(pd.DataFrame({
            tr("data.col.name"): [c.name for c in infos],
            tr("data.col.kind"): [tr(f"data.kind.{c.kind}") for c in infos],
            tr("data.col.missing"): [c.missing for c in infos],
            tr("data.col.unique"): [c.unique for c in infos],
        }), hide_index=True)
    columns = [str(c) for c in df.columns]
    if ss.get("data_target") not in columns:
        ss["data_target"] = columns[-1]
    left, right = st.columns([1, 1])
    with left:
        target = st.selectbox(tr("data.target"), columns, key="data_target")
        options = [c for c in columns if c != target]
        ss["data_features"] = [f for f in ss.get("data_features", []) if f in options]
        features = multiselect(st, tr("data.features"), options, key="data_features",
                               help=tr("data.features.help"), placeholder=tr("data.choose"))
        numeric = [c for c in features if pd.api.types.is_numeric_dtype(df[c])]
        ss["data_categorical"] = [c for c in ss.get("data_categorical", []) if c in numeric]
        if numeric:
            multiselect(st, tr("data.categorical"), numeric, key="data_categorical",
                        placeholder=tr("data.choose"))
    with right:
        auto = tr(f"task.{infer_task(df[target]).value}")
        st.selectbox(tr("data.task"), TASK_CHOICES, key="data_task",
                     format_func=lambda c, L=lang(): t("data.task.auto", L, task=auto) if c == "auto"
                     else t(f"data.task.{c}", L))
        st.toggle(tr("data.scale"), key="data_scale", help=tr("data.scale.help"))
        st.selectbox(tr("data.impute"), IMPUTE_CHOICES, key="data_impute",
                     format_func=lambda c, L=lang(): t(f"data.impute.{c}", L))
        if any(c.kind == "date" for c in infos):
            st.checkbox(tr("data.date_parts"), key="data_date_parts")
    _split_controls()
    if st.button(tr("data.apply"), key="data_apply", type="primary", icon=":material/check:"):
        task = {"auto": None, "regression": Task.REGRESSION}.get(ss["data_task"], Task.MULTICLASS)
        try:
            choice = ColumnChoice(
                target=target, features=tuple(features), task=task,
                categorical=tuple(ss.get("data_categorical", []) if numeric else ()),
                scale=bool(ss["data_scale"]),
                impute_numeric=ss["data_impute"], date_parts=bool(ss.get("data_date_parts", False)),
            )
            with st.spinner(tr("data.loading")):
                data = prepare_table(table, choice, _split())
        except MLCoreError as err:
            show_error(err)
        else:
            _store(data)


# --- the current dataset ----------------------------------------------------------------------


def _column_table(data) -> pd.DataFrame:
    rows = data.columns
    return pd.DataFrame({
        tr("data.col.name"): [c.name for c in rows],
        tr("data.col.kind"): [tr(f"data.kind.{c.kind}") for c in rows],
        tr("data.col.missing"): [c.missing for c in rows],
        tr("data.col.action"): [tr(c.action) for c in rows],
        tr("data.col.onehot"): [str(c.onehot_width) if c.onehot_width else "" for c in rows],
        tr("data.col.scaled"): [c.scaled for c in rows],
        tr("data.col.used"): [c.used for c in rows],
        tr("data.col.note"): [_note_text(c) for c in rows],
    })


def _note_text(report) -> str:
    """A column report's notes, in the session's language, as one text."""
    return " ".join(tr(key, **params) for key, params in column_notes(report))


def _preview(data) -> pd.DataFrame:
    preview = data.raw_train.head(20).copy()
    y = data.y_train[:20]
    names = class_names(data)
    preview[data.target_name] = [names[int(v)] for v in y] if names else y
    return preview


def _show_current(data) -> None:
    st.subheader(f"{tr('data.current')}: {data.name}")
    st.markdown(f"**{tr(f'task.{data.task.value}')}** · "
                + tr("data.loaded", name=data.name, rows=data.n_rows, features=data.n_features))
    show_notes(data.notes)
    counts = split_counts(data)
    for col, split in zip(st.columns(3), ("train", "val", "test")):
        col.metric(tr(f"data.counts.{split}"), tr("data.counts.rows", n=counts[split]))

    keys = ["data.columns", "data.balance" if data.task.is_classification else "data.histogram", "data.view",
            "data.preview"]
    draw = [_columns_tab, _target_tab, _view_tab, _preview_tab]
    if data.image_shape is not None:
        keys.append("data.digits")
        draw.append(_digits_tab)
    # only the open tab runs (the 2-D view is a PCA and a scatter of every row); one set of tabs
    # per kind of dataset, since their labels differ
    tabs = lazy_tabs(keys, f"data_tab{len(keys)}{'c' if data.task.is_classification else 'r'}")
    for tab, fn in zip(tabs, draw):
        with tab:
            if tab_open(tab):
                fn(data)


def _columns_tab(data) -> None:
    st.dataframe(_column_table(data), hide_index=True)
    # the notes in full below the table: a cell cuts a long one off ("Parece un ide…")
    notes = [(c.name, text) for c in data.columns if (text := _note_text(c))]
    if notes:
        st.markdown("\n".join(f"- **{name}**: {text}" for name, text in notes))
    with st.expander(tr("data.why")):
        st.markdown(tr("data.why.text"))


def _target_tab(data) -> None:
    if data.task.is_classification:
        balance = replace(class_balance(data), class_names=class_names(data))
        show_chart(st, class_balance_figure(balance, lang()), key="data_fig_balance")
        if not any(key == "data.note.not_stratified" for key, _ in data.notes):
            st.caption(tr("data.balance.caption"))
    else:
        show_chart(st, target_histogram_figure(target_histogram(data), data.target_name, lang()),
                        key="data_fig_hist")


def _view_tab(data) -> None:
    view = view_2d(data)
    if view.class_names:
        view = replace(view, class_names=class_names(data))
    if view.method == "pca":
        pc1, pc2 = view.explained or (0.0, 0.0)
        st.caption(tr("data.view.pca", pc1=round(100 * pc1), pc2=round(100 * pc2)))
    else:
        st.caption(tr(f"data.view.{view.method}"))
    show_chart(st, scatter_2d_figure(view, lang()), key="data_fig_view")
    st.caption(tr("data.view.symbols"))


def _preview_tab(data) -> None:
    st.dataframe(number_table(_preview(data), digits=6), hide_index=True)


def _digits_tab(data) -> None:
    images, image_labels = image_samples(data, 40)
    grid = image_grid(images, image_labels, 10)
    show_chart(st, image_grid_figure(grid, lang()), key="data_fig_digits")


# --- page -------------------------------------------------------------------------------------

page_header("data.title", "data.intro")
_seed_common(_source())
flash = st.session_state.get("data_flash")
if flash:
    st.session_state["data_flash"] = None
    st.success(tr(flash[0], **flash[1]), icon="✅")

if not visible("data.dataset"):
    fixed_note("data")
else:
    with st.container(border=True):
        # format_func binds the language now: AppTest calls it again outside the script run.
        kind = st.radio(tr("data.source"), ("builtin", "upload"), key="data_source_kind", horizontal=True,
                        format_func=lambda k, L=lang(): t(f"data.source.{k}", L))
        if kind == "builtin":
            _builtin_controls()
        else:
            _upload_controls()

current = st.session_state.get("data")
if current is None:
    st.info(tr("data.none"), icon="👈")
else:
    _show_current(current)
