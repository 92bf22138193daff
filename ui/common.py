"""Small helpers every page uses: the current language, translation, error display."""

from __future__ import annotations

import logging

import streamlit as st

from mlcore.errors import MLCoreError
from mlcore.i18n import LANGS, t

log = logging.getLogger("mlplab")


def _leave_mpa_v1() -> None:
    """Make sure every page runs inside app.py's frame.

    Streamlit still has the old multipage mode for apps with a ``pages/`` folder: until some
    session has run ``st.navigation``, a visitor who lands directly on ``/data`` gets
    ``pages/data.py`` run on its own (no language switch, no sidebar summary, no wide layout).
    The first page script that imports this module switches the server to ``st.navigation``
    mode and reruns, so app.py builds the frame. It runs once per server process.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
        PagesManager.uses_pages_directory = False
        st.rerun()




def lang() -> str:
    value = st.session_state.get("lang")
    return value if value in LANGS else "es"


def tr(key: str, **params) -> str:
    """Translate ``key`` into the session's language."""
    return t(key, lang(), **params)


def fmt(prefix: str, suffix: str = ""):
    """A ``format_func`` for widgets: ``value -> tr(prefix + value + suffix)``.

    The language is bound when the widget is created, because Streamlit may call ``format_func``
    outside the script run (then the session's language is not reachable).
    """
    language = lang()
    return lambda value: t(f"{prefix}{value}{suffix}", language)


def number_formatter():
    """``num(value, digits=3)``: a number with the session language's decimal mark (1,5 / 1.5).

    The language is bound now, so ``num`` also works as a widget ``format_func``.
    """
    from mlcore.plots.style import number

    decimal = decimal_mark()

    def num(value: float, digits: int = 3) -> str:
        return number(value, f".{digits}g", decimal)

    return num


def decimal_mark() -> str:
    """The session language's decimal mark ("," in Spanish), for figure builders' own texts."""
    return "," if lang() == "es" else "."


def fnum(value: float, spec: str = ".4f") -> str:
    """``format(value, spec)`` with the session language's decimal mark: ``fnum(0.5, ".3f")`` is
    "0,500" in Spanish, "0.500" in English (for metrics and texts; tables keep their numbers)."""
    from mlcore.plots.style import number

    return number(value, spec, decimal_mark())


def plain(value, digits: int = 4) -> str:
    """A number with about ``digits`` significant digits and no exponent (24963, not 2,496e+04), in
    the session language's decimal mark (``mlcore.plots.style.plain_number``); "-" for None."""
    from mlcore.plots.style import plain_number

    return "-" if value is None else plain_number(value, digits, decimal_comma=decimal_mark() == ",")


def number_table(data, digits: int = 4, formats: dict | None = None):
    """``data`` (rows as dicts, or a DataFrame) for ``st.dataframe`` / ``st.table``, its decimal
    numbers printed in the session language's decimal mark.

    Why: the table widget prints a float column with a point in every language, and keeps at
    most four decimals (a learning rate of 0.00213 read 0.0021, one of 1.2e-05 read 0.00001).
    A pandas ``Styler`` gives each cell its display text, which Streamlit shows, while the column
    stays numeric (right-aligned, sorted by value). Float columns get :func:`plain` with
    ``digits`` significant digits (whole numbers as integers), or ``format(value, spec)`` with
    the mark for the columns named in ``formats`` (``{column: ".6f"}``); missing values stay
    missing. The Styler costs about 20 us a cell on the server (7 ms for a 30-trial table), so a
    table without float columns comes back as it is."""
    import numbers

    import pandas as pd

    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    formats = dict(formats or {})
    floats = [c for c in df.columns if df[c].dtype.kind == "f" or c in formats]
    if not floats:
        return df
    mark = decimal_mark()

    def cell(spec):
        def text(value):
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                return "" if value is None else str(value)
            if value != value:  # NaN: a missing value
                return ""
            return _decimal_text(float(value), spec, mark, digits)
        return text

    return df.style.format({c: cell(formats.get(c)) for c in floats})


def parse_decimal(text: str, mark: str = ",") -> float:
    """A number as typed: "0.05", " 1e-3 ", "-2" and, where the language's decimal mark ``mark``
    is the comma, "0,05" and "1,5E-3" too. ``ValueError`` for anything else: a comma in English
    ("1,000": a thousands separator there), a text with both marks ("1.000,5": which one is the
    decimal?), a non-finite value."""
    import math

    s = str(text).strip().replace(" ", "")
    if not s or ("," in s and ("." in s or mark != "," or s.count(",") > 1)):
        raise ValueError(text)
    value = float(s.replace(",", "."))  # ValueError for "abc", "1,2,3"
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def decimal_input(where, label: str, lo: float | None, hi: float | None, value: float, spec: str | None = ".4g", *,
                  key: str, on_change=None, args: tuple = (), persist_state: str | None = None,
                  help: str | None = None) -> float:
    """A number box for a decimal value that reads and prints the session language's decimal
    mark ("0,05" in Spanish), bounded by ``lo`` .. ``hi`` (None: open); returns the value.

    Why not ``st.number_input``: its box drops every character but digits, one point, a sign and
    an exponent as they are typed, so a Spanish student's "0,05" became 5 and was taken without a
    word (a learning rate 100 times too large), and it prints with a point. This is a text box:
    what cannot be read as a number, or falls outside the range, gets a message in the session's
    language and the box keeps the student's text, while the value stays the last valid one.
    ``spec`` is the printing's format spec (".4g", ".2f"); None prints 6 significant digits
    without an exponent (:func:`plain`), for values in the data's own units.

    The value lives in ``st.session_state[key]`` (what ``on_change(*args)`` reads, as it did with
    the number box), the text under ``key + "_text"``. Like a widget's, the value starts from
    ``value`` whenever the box was not drawn on the last run (a visit to another page), unless
    ``persist_state="session"`` (``keep(key)``); a page that deletes ``key`` (a reset, a preset)
    gets ``value`` again, and one that sets it sees its text follow."""
    ss = st.session_state
    text_key, err_key = f"{key}_text", f"_{key}_error"
    if text_key not in ss or key not in ss:  # a fresh box: first draw, forgotten, or reset by the page
        if not (persist_state and isinstance(ss.get(key), (int, float))):
            ss[key] = float(value)
        ss.pop(err_key, None)
    error = ss.get(err_key)
    if error is not None and error[2] != ss[key]:  # the page set another value since (new weights)
        ss.pop(err_key)
        error = None
    mark = decimal_mark()
    if error is None:
        ss[text_key] = _decimal_text(float(ss[key]), spec, mark)
    where.text_input(label, key=text_key, on_change=_commit_decimal, persist_state=persist_state, help=help,
                     args=(key, lo, hi, spec, mark, on_change, tuple(args)))
    if error is not None:
        where.error(tr(error[0], **error[1]), icon="⚠️")
    return float(ss[key])


def _decimal_text(value: float, spec: str | None, mark: str, digits: int = 6) -> str:
    """``format(value, spec)`` with ``mark`` as the decimal mark; ``spec`` None: ``digits``
    significant digits without an exponent (:func:`plain`), for values in the data's units."""
    from mlcore.plots.style import number, plain_number

    if spec is None:
        return plain_number(value, digits, decimal_comma=mark == ",")
    return number(value, spec, mark)


def _commit_decimal(key, lo, hi, spec, mark, on_change, args) -> None:
    ss = st.session_state
    text, before = ss.get(f"{key}_text", ""), float(ss[key])
    example = _decimal_text(before, spec, mark)
    try:
        value = parse_decimal(text, mark)
    except ValueError:
        ss[f"_{key}_error"] = ("err.decimal.invalid", {"text": text, "example": example}, before)
        return
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        low = "-∞" if lo is None else _decimal_text(lo, spec, mark)
        high = "∞" if hi is None else _decimal_text(hi, spec, mark)
        ss[f"_{key}_error"] = ("err.decimal.range", {"text": text, "low": low, "high": high, "example": example},
                               before)
        return
    ss.pop(f"_{key}_error", None)
    ss[key] = value
    if on_change is not None:
        on_change(*args)


def multiselect(where, label: str, options, default=None, **kwargs):
    """``where.multiselect``, its empty box saying so in the session's language ("Elige
    opciones"): Streamlit's own placeholder is English ("Choose options"). ``placeholder=``
    still overrides it."""
    kwargs.setdefault("placeholder", tr("widget.choose"))
    return where.multiselect(label, options, default=default, **kwargs)


def decimal_slider(where, label: str, lo: float, hi: float, value, step: float, **kwargs):
    """A slider over ``lo``, ``lo + step`` ... ``hi`` whose numbers take the session language's
    decimal mark ("0,5" in Spanish). Why: ``st.slider`` formats floats with printf, always with a
    point; ``st.select_slider`` over the same values with :func:`fnum` looks and drags the same.

    ``where`` is ``st`` or a column. ``value`` (a number, a (low, high) pair for a range, or None
    for the value the page seeded in the session state under ``key`` in this run) snaps to the
    grid; a value remembered by the widget itself off the grid comes back as the option it prints
    as, one past the ends as ``value`` (Streamlit's own matching)."""
    from mlcore.plots.style import number

    text = f"{step:.10g}"
    digits = len(text.split(".")[1]) if "." in text else 0
    options = [round(lo + i * step, 10) for i in range(int(round((hi - lo) / step)) + 1)]

    def snap(v) -> float:
        return min(options, key=lambda o: abs(o - float(v)))

    if value is not None:
        kwargs["value"] = tuple(map(snap, value)) if isinstance(value, (tuple, list)) else snap(value)
    else:  # the page seeded the value in this run (a share link's 0.33): the nearest on the grid
        key = kwargs.get("key")
        seeded = st.session_state.get(key) if key is not None else None
        if isinstance(seeded, (int, float)) and seeded not in options:
            st.session_state[key] = snap(seeded)
    mark = decimal_mark()  # bound now: format_func may run outside this script run (AppTest)
    return where.select_slider(label, options=options, format_func=lambda v: number(v, f".{digits}f", mark),
                               **kwargs)


def guarded(func):
    """Run ``func`` (a fragment body) showing the generic message instead of a traceback.

    Fragment reruns do not pass through app.py's guard, so fragments wrap themselves.
    """
    import functools
    import os

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if type(exc).__name__ in {"RerunException", "StopException"} or os.environ.get("MLPLAB_RAISE"):
                raise
            log.exception("unhandled error in fragment %s", func.__name__)
            st.error(tr("err.unexpected"), icon="⚠️")

    return wrapper


def require_data():
    """The session's dataset; without one, point to the Data page and stop this page here."""
    data = st.session_state.get("data")
    if data is None:
        st.warning(tr("common.need_data"), icon="📂")
        st.page_link("pages/data.py", label=tr("nav.data"), icon=":material/table_chart:")
        st.stop()
    return data


def show_error(err: MLCoreError) -> None:
    """Show a typed mlcore error in the user's language (never a traceback)."""
    st.error(err.message(lang()), icon="⚠️")


def show_notes(notes) -> None:
    """Show (key, params) notices from mlcore as info boxes."""
    for key, params in notes:
        st.info(tr(key, **params), icon="ℹ️")


def lazy_tabs(label_keys: list[str], key: str) -> list:
    """``st.tabs`` whose hidden tabs do not run: only the open tab's content is computed.

    By default Streamlit runs every tab's content on every run and sends it all (figures, tables,
    a model file to download) although only one tab shows; with 30 students on one server that
    is most of a page run's cost. With an ``on_change`` callback a tab switch reruns the page and
    each tab's ``.open`` says whether to draw it (``tab_open``). The open tab is remembered by
    position, so it is still open after a visit to another page (Streamlit forgets the state of
    widgets that a run did not draw) and after a language switch (which renames the tabs).
    For the same reason every keyed widget inside a lazy tab takes :func:`keep`
    (``persist_state="session"``), so its value survives while another tab or page is open.
    """
    labels = [tr(k) for k in label_keys]
    widget = f"{key}_{lang()}"
    memory = st.session_state.setdefault("_open_tabs", {})
    index = memory.get(key, 0)
    if widget not in st.session_state and 0 < index < len(labels):
        st.session_state[widget] = labels[index]  # (not ``default=``: it is part of the widget's id)
    tabs = st.tabs(labels, key=widget, on_change="rerun")
    for i, tab in enumerate(tabs):
        if tab.open:
            memory[key] = i
    return tabs


def data_token():
    """What identifies the session's dataset: its name and how it was made (None without one)."""
    data = st.session_state.get("data")
    return None if data is None else (data.name, repr(sorted(data.source.items())))


def class_names(data) -> list[str] | None:
    """``data``'s class names in the session's language (a built-in dataset's, where the
    catalogue has them)."""
    from mlcore.data.builtins import display_class_names

    return display_class_names(data, lang())


def keep(key: str, *, lo=None, hi=None, per_data: bool = False) -> dict:
    """``key=`` and ``persist_state="session"`` for a widget whose value should come back after
    a visit to another page (``st.slider(..., **keep("e_cv_k"))``): Streamlit forgets the value of
    a widget that a run does not draw, so without it a student's search space or sweep settings
    were back to their defaults after a look at the Build page.

    A remembered value can stop fitting its widget. Streamlit itself drops a remembered option
    that a selectbox or multiselect no longer offers, but a number past ``hi`` (a row of a larger
    dataset) would raise, so a value outside ``lo`` .. ``hi`` is dropped first and the widget starts
    from its default. With ``per_data`` the value belongs to the dataset it was chosen on (a row,
    a counterfactual's target range): after another dataset is loaded, the widget starts afresh.
    """
    ss = st.session_state
    token = data_token() if per_data else None
    owners = ss.setdefault("_kept_for", {})
    if key in ss:
        value = ss[key]
        values = value if isinstance(value, (tuple, list)) else (value,)
        stale = per_data and owners.get(key) != token
        try:
            outside = any((lo is not None and v < lo) or (hi is not None and v > hi) for v in values)
        except TypeError:  # not a number: nothing to compare
            outside = False
        if stale or outside:
            del ss[key]
    if per_data:
        owners[key] = token
    return {"key": key, "persist_state": "session"}


def tab_open(tab) -> bool:
    """Whether to draw this tab's content (``open`` is None where tabs do not track state)."""
    return getattr(tab, "open", None) is not False


def page_header(title_key: str, intro_key: str | None = None) -> None:
    st.title(tr(title_key))
    if intro_key:
        st.markdown(tr(intro_key))


# Last, after every definition: it may raise Streamlit's rerun exception during this import, and
# another session's script importing this module at the same moment then sees a module that is
# already complete (called at the top, a concurrent first visitor got "cannot import name 'lang'").
_leave_mpa_v1()
