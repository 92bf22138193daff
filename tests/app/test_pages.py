"""Every registered page renders in both languages, and the app frame (language, sidebar) works.

The page list comes from ``ui.nav.PAGES``, so pages added later are tested without editing this
file. A page that needs a dataset must still render (with a hint) before one is loaded.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mlcore.config import Task
from mlcore.dataset import PreparedData
from mlcore.i18n import LANGS, catalogue, t
from tests.app.conftest import exceptions, make_app
from ui.nav import PAGES

PAGE_IDS = [spec.url_path for spec in PAGES]
# A visible string that looks like "section.some_key" is almost surely an untranslated catalogue key.
KEY_LIKE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


def visible_texts(at) -> list[str]:
    """The text a user reads: headings, markdown, captions, alerts and widget labels."""
    texts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning",
                 "error", "latex"):
        texts += [str(el.value) for el in getattr(at, kind)]
    for kind in ("button", "checkbox", "selectbox", "slider", "radio", "number_input", "text_input",
                 "multiselect", "toggle", "select_slider"):
        texts += [str(el.label) for el in getattr(at, kind)]
    return [x for x in texts if x]


def tiny_dataset(name: str = "mini_moons") -> PreparedData:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    raw = pd.DataFrame(X, columns=["x1", "x2"])
    return PreparedData(
        name=name, task=Task.BINARY,
        X_train=X[:12], y_train=y[:12], X_val=X[12:16], y_val=y[12:16], X_test=X[16:], y_test=y[16:],
        feature_names=["x1", "x2"], raw_feature_names=["x1", "x2"], class_names=["0", "1"],
        raw_train=raw.iloc[:12], raw_val=raw.iloc[12:16], raw_test=raw.iloc[16:], preprocessor=None,
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("spec", PAGES, ids=PAGE_IDS)
def test_page_renders(spec, lang):
    at = make_app(lang, None if spec.default else spec.path)
    assert not at.exception, f"{spec.path} ({lang}):\n{exceptions(at)}"
    assert len(at.title) >= 1 and at.title[0].value.strip(), f"{spec.path} ({lang}) has no st.title"
    assert t("err.unexpected", lang) not in [e.value for e in at.error]
    known = set(catalogue(lang))
    raw_keys = [x for x in visible_texts(at) if KEY_LIKE.match(x.strip()) and x.strip() not in known]
    raw_keys += [x for x in visible_texts(at) if x.strip() in known]  # a key shown instead of its text
    assert not raw_keys, f"{spec.path} ({lang}) shows untranslated keys: {raw_keys[:5]}"


@pytest.mark.parametrize("spec", PAGES, ids=PAGE_IDS)
def test_page_text_follows_the_language(spec):
    page = None if spec.default else spec.path
    es, en = make_app("es", page), make_app("en", page)
    assert not es.exception and not en.exception
    assert set(visible_texts(es)) != set(visible_texts(en))


def test_home_intro_and_sidebar_in_each_language():
    es, en = make_app("es"), make_app("en")
    assert es.markdown[0].value == t("home.intro", "es")
    assert en.markdown[0].value == t("home.intro", "en")
    assert t("home.intro", "es") != t("home.intro", "en")
    assert [c.value for c in es.sidebar.caption] == [t("sidebar.no_data", "es")]
    assert [c.value for c in en.sidebar.caption] == [t("sidebar.no_data", "en")]


def test_language_switch_in_the_sidebar_persists_across_pages():
    at = make_app("es")
    assert at.markdown[0].value == t("home.intro", "es")
    at.segmented_control(key="_lang_widget").set_value("en").run()
    assert not at.exception, exceptions(at)
    assert at.session_state["lang"] == "en"
    assert at.markdown[0].value == t("home.intro", "en")
    other = next((s for s in PAGES if not s.default), None)
    if other is not None:
        at.switch_page(other.path).run()
        assert not at.exception, exceptions(at)
        assert at.session_state["lang"] == "en"
        assert at.segmented_control(key="_lang_widget").value == "en"


@pytest.mark.parametrize("spec", PAGES, ids=PAGE_IDS)
def test_every_run_goes_through_the_app_frame(spec):
    """Reruns and page switches still run app.py: language control and state summary stay."""
    at = make_app("en")
    at.run()  # a plain rerun (what any widget change does)
    assert not at.exception, exceptions(at)
    assert at.segmented_control(key="_lang_widget").value == "en"
    at.switch_page(spec.path).run()
    assert not at.exception, exceptions(at)
    assert at.segmented_control(key="_lang_widget").value == "en"
    assert any(c.value == t("sidebar.no_data", "en") for c in at.sidebar.caption)


@pytest.mark.parametrize(("locale", "expected"), [("es-ES", "es"), ("es", "es"), ("en-US", "en"),
                                                  (None, "en"), ("fr", "en")])
def test_default_language_comes_from_the_browser_locale(locale, expected):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    at = AppTest.from_file(APP, default_timeout=90)
    at.context = {"locale": locale}
    at.run()
    assert not at.exception, exceptions(at)
    assert at.session_state["lang"] == expected
    assert at.markdown[0].value == t("home.intro", expected)


@pytest.mark.parametrize("lang", LANGS)
def test_sidebar_summary_shows_the_loaded_dataset(lang):
    at = make_app(lang)
    assert t("sidebar.no_data", lang) in [c.value for c in at.sidebar.caption]
    at.session_state["data"] = tiny_dataset()
    at.run()
    assert not at.exception, exceptions(at)
    summary = " ".join(m.value for m in at.sidebar.markdown)
    assert "mini_moons" in summary
    assert "20" in summary  # rows
    assert t("task.binary", lang) in summary
    assert t("sidebar.no_data", lang) not in [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize("spec", [s for s in PAGES if not s.default], ids=[s.url_path for s in PAGES
                                                                           if not s.default])
def test_pages_render_with_a_dataset_loaded(spec):
    """With a (tiny, hand-made) dataset in the session, every page still renders cleanly."""
    at = make_app("es")
    at.session_state["data"] = tiny_dataset()
    at.switch_page(spec.path).run()
    assert not at.exception, f"{spec.path}:\n{exceptions(at)}"
    assert "mini_moons" in " ".join(m.value for m in at.sidebar.markdown)


def test_builtin_dataset_from_mlcore_shows_in_the_sidebar():
    data_mod = pytest.importorskip("mlcore.data")
    if not hasattr(data_mod, "prepare_builtin"):
        pytest.skip("mlcore.data.prepare_builtin is not available")
    from mlcore.config import BuiltinConfig, SplitConfig

    data = data_mod.prepare_builtin(BuiltinConfig(name="moons", n_samples=60, seed=0), SplitConfig())
    at = make_app("en")
    at.session_state["data"] = data
    at.run()
    assert not at.exception, exceptions(at)
    assert data.name in " ".join(m.value for m in at.sidebar.markdown)
