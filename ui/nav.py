"""The navigation: sections and pages, with titles from the i18n catalogue.

To add a page, add one ``PageSpec`` line to ``PAGES`` (and its ``nav.*`` title key to both
catalogues). Sections: ``home``, ``course`` (concept pages in the lesson's order) and
``workflow`` (data, build, train, evaluate, tune, explain).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui.common import tr


@dataclass(frozen=True)
class PageSpec:
    section: str  # "home" | "course" | "workflow"
    path: str
    title_key: str
    icon: str
    url_path: str
    default: bool = False


PAGES: list[PageSpec] = [
    PageSpec("home", "pages/home.py", "nav.home", ":material/home:", "home", default=True),
    PageSpec("course", "pages/course_neuron.py", "nav.neuron", ":material/hub:", "neuron"),
    PageSpec("course", "pages/course_activations.py", "nav.activations", ":material/show_chart:", "activations"),
    PageSpec("course", "pages/course_forward.py", "nav.forward", ":material/grid_on:", "forward"),
    PageSpec("course", "pages/course_gradient.py", "nav.gradient", ":material/trending_down:", "gradient"),
    PageSpec("course", "pages/course_losses.py", "nav.losses", ":material/target:", "losses"),
    PageSpec("course", "pages/course_backprop.py", "nav.backprop", ":material/keyboard_double_arrow_left:", "backprop"),
    PageSpec("course", "pages/course_universal.py", "nav.universal", ":material/functions:", "universal"),
    PageSpec("course", "pages/course_preprocess.py", "nav.preprocess", ":material/straighten:", "preprocess"),
    PageSpec("workflow", "pages/data.py", "nav.data", ":material/table_chart:", "data"),
    PageSpec("workflow", "pages/build.py", "nav.build", ":material/account_tree:", "build"),
    PageSpec("workflow", "pages/train.py", "nav.train", ":material/model_training:", "train"),
    PageSpec("workflow", "pages/evaluate.py", "nav.evaluate", ":material/fact_check:", "evaluate"),
    PageSpec("workflow", "pages/tune.py", "nav.tune", ":material/tune:", "tune"),
    PageSpec("workflow", "pages/explain.py", "nav.explain", ":material/psychology:", "explain"),
]

SECTIONS = ("home", "course", "workflow")


def build_navigation():
    """Return the ``st.navigation`` page object for the current language."""
    grouped: dict[str, list] = {section: [] for section in SECTIONS}
    for spec in PAGES:
        grouped[spec.section].append(
            st.Page(spec.path, title=tr(spec.title_key), icon=spec.icon, url_path=spec.url_path,
                    default=spec.default)
        )
    sections = {section_label(s): pages for s, pages in grouped.items() if pages}
    return st.navigation(sections, position="sidebar", expanded=True)


def section_label(section: str) -> str:
    return "" if section == "home" else tr(f"nav.section.{section}")
