"""Shared look of every figure: projector-sized fonts and a clean white template.

``base_layout`` works on a ``go.Figure`` and on a ``mlcore.plots.fast.FastFigure`` alike; on the
latter, ``template="plotly_white"`` becomes a cached dict instead of a ``Template`` rebuilt from its
name on every call (that rebuild alone cost about 7 ms a figure)."""

from __future__ import annotations

import math

import plotly.graph_objects as go

FONT = dict(size=16)
SMALL = 14


def base_layout(fig: go.Figure, height: int, title: str | None = None, *, legend_size: int | None = None,
                annotation_size: int | None = None) -> go.Figure:
    """Height, fonts, margins and template; explicit axis fonts, because Streamlit's chart theme
    would otherwise shrink tick labels below 14 px."""
    fig.update_layout(
        height=height,
        font=FONT,
        margin=dict(l=10, r=10, t=60 if title else 30, b=10),
        title=dict(text=title, font=dict(size=18)) if title else None,
        template="plotly_white",
    )
    if legend_size:
        fig.update_layout(legend=dict(font=dict(size=legend_size)))
    fig.update_xaxes(tickfont=dict(size=SMALL), title_font=dict(size=FONT["size"]))
    fig.update_yaxes(tickfont=dict(size=SMALL), title_font=dict(size=FONT["size"]))
    if annotation_size:
        fig.update_annotations(font=dict(size=annotation_size))
    return fig


def scaled_fonts(spec: dict, factor: float) -> dict:
    """A copy of a figure's dict (``fig.to_dict()``) with every font ``factor`` times larger: the
    layout's, the axes' ticks and titles, legends, annotations, colour bars, text on traces and in
    animation frames. Only the dicts and lists that hold fonts are copied; the data arrays are
    shared with ``spec``, which is left as it was (a cached figure may be shown to other sessions).

    For the projector view: the page's text grows with its CSS, but a figure's fonts are set in
    the figure (16 px, ticks 14), so they are scaled here, at render time, per session, and the
    figure's height with them (the larger text would otherwise eat the plot area: the Train page's
    decision boundary shrank below 480 px at 1280x720). Fonts the figure leaves to Streamlit's
    chart theme (legends, colour bar ticks) are set, at ``SMALL`` times ``factor``; a legend below
    the plot moves down alike, below the larger axis title."""

    def size(value):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value * factor
        if isinstance(value, (list, tuple)):
            return [size(v) for v in value]
        return value

    def walk(node, font: bool = False):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if font and key == "size":
                    out[key] = size(value)
                elif isinstance(value, (dict, list)):
                    out[key] = walk(value, key.endswith("font"))
                    if key == "colorbar" and isinstance(value, dict) and "size" not in value.get("tickfont", {}):
                        out[key]["tickfont"] = {**value.get("tickfont", {}), "size": SMALL * factor}
                else:
                    out[key] = value
            return out
        if isinstance(node, list) and any(isinstance(v, dict) for v in node):
            return [walk(v, font) for v in node]
        return node

    out = walk(spec)
    layout = out.setdefault("layout", {})
    if isinstance(layout.get("height"), (int, float)):  # and the room the larger text takes
        layout["height"] = round(layout["height"] * factor)
    if "size" not in layout.get("font", {}):
        layout["font"] = {**layout.get("font", {}), "size": 12 * factor}  # plotly's default, 12 px
    legend = layout.setdefault("legend", {})
    if "size" not in legend.get("font", {}):
        legend["font"] = {**legend.get("font", {}), "size": SMALL * factor}
    if isinstance(legend.get("y"), (int, float)) and legend["y"] < 0:
        legend["y"] = legend["y"] * factor
    return out


def number(value: float, spec: str, decimal: str = ".") -> str:
    """``format(value, spec)`` with ``decimal`` as the decimal mark: for the numbers a builder
    writes into a figure's texts itself (titles, legends, annotations, bar labels), which the
    chart's locale (below) does not reach."""
    text = format(value, spec)
    return text.replace(".", decimal) if decimal != "." else text


def tex_number(value: float, digits: int = 2, decimal: str = ".") -> str:
    """``value`` with ``digits`` decimals for LaTeX (no "-0.00"); with ``decimal`` "," the comma is
    braced (``0{,}50``): a bare comma in TeX math is punctuation and gets a space after it."""
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return tex_decimal(text, decimal)


def tex_decimal(latex: str, decimal: str = ".") -> str:
    """A LaTeX formula's numbers (``1.5``, ``0.01``) with the decimal mark ``decimal``, braced
    as in :func:`tex_number`."""
    import re

    return re.sub(r"(?<=\d)\.(?=\d)", "{,}", latex) if decimal == "," else latex


def plain_number(value: float, digits: int = 4, decimal_comma: bool = False) -> str:
    """``value`` with about ``digits`` significant digits in positional notation, never dropping
    an integer digit: 24963.2 -> "24963", 12.3456 -> "12.35", 0.000123456 -> "0.0001235", whole
    numbers as integers. Feature values in the user's units (incomes, prices) read as numbers, not
    as ``2.496e+04``; an exponent only outside 1e-6 ... 1e15. ``decimal_comma`` writes "12,35"."""
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if abs(v - round(v)) < 1e-9 and abs(v) < 1e15:
        text = str(int(round(v)))
    elif 1e-6 <= abs(v) < 1e15:
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(v))))
        text = f"{v:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = f"{v:.{digits}g}"
    if text in ("-0", "-0.0"):
        text = "0"
    return text.replace(".", ",") if decimal_comma else text



# plotly.js formats numbers and dates in the browser (axis ticks, hover labels, text templates)
# with d3's locale, English by default: an accuracy of 0.5 read "0.5" on a Spanish page beside
# "0,5" in the page's text, and the Tune timeline's axis "Dec 3, 2026". plotly.js takes a locale
# definition in a chart's config (``locales``, then ``locale`` to pick it), so no locale bundle is
# needed: this is Spain's (CLDR's "es" formats: decimal comma, thousands dot, month names).
PLOTLY_LOCALES = {
    "es": {"format": {
        "decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " €"],
        "days": ["domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"],
        "shortDays": ["dom", "lun", "mar", "mié", "jue", "vie", "sáb"],
        "months": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                   "octubre", "noviembre", "diciembre"],
        "shortMonths": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
        "periods": ["a. m.", "p. m."], "date": "%d/%m/%Y", "time": "%H:%M:%S", "dateTime": "%A, %e de %B de %Y, %X",
        "year": "%Y", "month": "%b %Y", "dayMonth": "%e %b", "dayMonthYear": "%e %b %Y",
    }},
}


def plotly_config(lang: str, config: dict | None = None) -> dict:
    """``config`` (a chart's plotly.js config) with this language's number and date locale, when
    it is not English (a new dict: the caller's is left as it was)."""
    out = dict(config or {})
    if lang in PLOTLY_LOCALES and "locale" not in out:
        out["locales"] = {f"mlp-{lang}": PLOTLY_LOCALES[lang]}
        out["locale"] = f"mlp-{lang}"
    return out
