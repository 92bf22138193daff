"""The Spanish decimal-comma check shared by the AppTest tests: no number in a page's texts,
captions, metrics, formulas, widget labels or tables is written with a decimal point (the Spanish
mark is the comma), and no multiselect shows Streamlit's English placeholder."""

from __future__ import annotations

import re

from tests.app.conftest import exceptions, table_texts

POINT = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")  # 0.5, 12.25; not v1.2.3, x.5 or nn.L1
ASIDE = re.compile(r"`[^`]*`|\(https?:[^)]*\)|https?://\S+")


def texts_shown(at) -> list[tuple[str, str]]:
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "latex", "subheader", "header",
                 "title", "text"):
        out += [(kind, str(el.value)) for el in getattr(at, kind)]
    out += [("metric", f"{m.label} {m.value}") for m in at.metric]
    for kind in ("button", "selectbox", "slider", "radio", "checkbox", "toggle", "number_input", "select_slider"):
        out += [(kind, str(el.label)) for el in getattr(at, kind)]
    out += [("select_slider", str(o)) for el in at.select_slider for o in el.options]
    for kind in ("dataframe", "table"):
        for el in getattr(at, kind):
            out += [(kind, text) for text in _cells(el)]
    return out


def _cells(el) -> list[str]:
    """A table's decimal cells as the browser prints them: a Styler's display text, or, for a
    float column without one, the table widget's own printing (always with a point)."""
    values, shown = el.value, table_texts(el)
    out = []
    for column in values.columns:
        if values[column].dtype.kind != "f":
            continue
        for value, text in zip(values[column], shown[column]):
            if value == value and value != round(value):  # not NaN, not a whole number
                out.append(str(text) if shown is not values else repr(float(value)))
    return out


def assert_no_decimal_point(at, where: str) -> None:
    assert not at.exception, (where, exceptions(at))
    found = [(kind, text) for kind, text in texts_shown(at) if POINT.search(ASIDE.sub("", text))]
    assert not found, (where, found)
    # and no multiselect shows Streamlit's English "Choose options" when it is empty
    english = [el.key for el in at.multiselect if el.proto.placeholder in ("", "Choose options")]
    assert not english, (where, english)
