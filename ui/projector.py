"""Layout CSS for the lecture hall: labels that wrap instead of being cut, formulas that stay in
their column, and the projector view (a sidebar switch: larger fonts, a wider page, and
figures with larger fonts: :func:`show_chart`).

Streamlit has no option for these, so a small style sheet is injected on every page run
(``st.html`` with a ``<style>`` element takes no space on the page). The selectors use
Streamlit's ``data-testid`` attributes, which its own tests rely on.
"""

from __future__ import annotations

import streamlit as st

from ui.common import tr

# Always on: a narrow column wraps a label onto two lines rather than cutting it ("Paso (1 ép…").
BASE_CSS = """
[data-testid="stButton"] button p, [data-testid="stDownloadButton"] button p,
[data-testid="stPageLink"] p, [data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] label,
[data-testid="stCheckbox"] label p, button[role="tab"] p, [data-testid="stExpander"] summary p,
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere;
}
[data-testid="stSidebarNav"] a span, [data-testid="stSidebarNav"] a .stMarkdownEllipsis,
[data-testid="stSidebarNav"] a p, [data-testid="stPageLink"] .stMarkdownEllipsis {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
[data-testid="stSidebarNavLink"] { height: auto !important; min-height: 2rem; }
[data-testid="stButton"] button, [data-testid="stDownloadButton"] button {
  height: auto; min-height: 2.5rem; min-width: min-content;  /* wrap between words, never inside one */
}
[data-testid="stButton"] button p, [data-testid="stDownloadButton"] button p, button[role="tab"] p {
  overflow-wrap: normal; word-break: normal;
}
/* the wide layout's 5rem side padding costs a 1280 px projector 100 px of figure */
[data-testid="stMainBlockContainer"] { padding-left: 2rem !important; padding-right: 2rem !important; }
[data-testid="stWidgetLabel"] { max-width: 100% !important; }
[data-testid="stWidgetLabel"] > div, [data-testid="stWidgetLabel"] > label { max-width: 100% !important; }
button[role="tab"] { height: auto; min-height: 2.5rem; }
[data-baseweb="tab-list"] { flex-wrap: wrap; }
/* a formula wider than its column gets smaller and, at worst, scrolls inside the column */
[data-testid="stColumn"] .katex-display > .katex { font-size: 1.0em; }
.katex-display { overflow-x: auto; overflow-y: hidden; max-width: 100%; padding-bottom: 2px; }
[data-testid="stMarkdownContainer"] .katex { white-space: normal; }
"""

PROJECTOR_CSS = """
html { font-size: 20px; }
[data-testid="stMainBlockContainer"], .block-container {
  max-width: 100% !important; padding-left: 1.5rem !important; padding-right: 1.5rem !important;
}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.05rem; }
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p { font-size: inherit; }  /* not 21 px */
h1 { font-size: 2.2rem !important; }
/* the page list stays at its usual 16 px: at 20 px the sidebar's names wrapped to 2-3 lines each and
   the list filled the sidebar; the room goes to the page, which the hall reads */
[data-testid="stSidebarNav"] a span, [data-testid="stSidebarNav"] a p,
[data-testid="stSidebarNav"] header, [data-testid="stNavSectionHeader"] { font-size: 0.8rem !important; }
[data-testid="stSidebarNavLink"] { min-height: 1.6rem; }
"""


def _on_toggle() -> None:
    st.session_state["projector"] = bool(st.session_state["_projector_widget"])


def projector_switch(container) -> None:
    """The projector-view switch (in the sidebar) and the page's style sheet."""
    st.session_state["_projector_widget"] = bool(st.session_state.get("projector"))
    container.toggle(tr("projector.mode"), key="_projector_widget", on_change=_on_toggle,
                     help=tr("projector.mode.help"))
    css = BASE_CSS + (PROJECTOR_CSS if st.session_state.get("projector") else "")
    st.html(f"<style>{css}</style>")


# The projector view's html font size is 20 px against Streamlit's 16: figures' fonts grow alike.
FIGURE_FONT_SCALE = 1.25


def show_chart(where, fig, **kwargs):
    """``where.plotly_chart(fig, **kwargs)``; in the projector view, with the figure's fonts
    ``FIGURE_FONT_SCALE`` times larger (``mlcore.plots.style.scaled_fonts``, on a copy: the
    figure itself may be cached and shown to other sessions), and in every view with plotly.js
    formatting numbers and dates in the session's language (``mlcore.plots.style.plotly_config``:
    the figure is not touched). Every page draws its figures through here, so that the projector
    view and the locale reach them all."""
    from mlcore.plots.style import plotly_config
    from ui.common import lang

    if st.session_state.get("projector"):
        from mlcore.plots.style import scaled_fonts

        fig = scaled_fonts(fig.to_dict() if hasattr(fig, "to_dict") else fig, FIGURE_FONT_SCALE)
    # numbers and dates drawn by plotly.js in the page's language (0,5 and "3 dic 2026" in Spanish)
    kwargs["config"] = plotly_config(lang(), kwargs.get("config"))
    return where.plotly_chart(fig, **kwargs)


def uploader_texts_css(key: str, button: str, limits: str) -> str:
    """A style sheet that shows ``button`` and ``limits`` in place of the file uploader's own
    English texts ("Upload", "25MB per file • CSV, TXT, TSV") for the uploader with widget key
    ``key``: Streamlit has no option for them (streamlit#13500). Each original text is drawn at
    size 0 and the translation as its ``::after`` content at the size Streamlit gives it (its
    small font, 0.875 rem, so the projector view scales it too)."""
    import json

    scope = f".st-key-{key}"
    texts = ((f'{scope} [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p', button),
             (f'{scope} [data-testid="stFileUploaderDropzoneInstructions"] span', limits))
    # a JSON string is a valid CSS string (quotes and backslashes escaped); a "<" (CSS escape \3c)
    # cannot close the style element
    return "".join(f"{sel} {{ font-size: 0 !important; }}\n"
                   f"{sel}::after {{ content: {json.dumps(text, ensure_ascii=False).replace('<', chr(92) + '3c ')}; "
                   f"font-size: 0.875rem; }}\n" for sel, text in texts)
