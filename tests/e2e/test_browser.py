"""Real-browser checks: every page in both languages, the language switch, the browser locale,
a CSV upload, and a deep link on a freshly started server.

The server runs as users get it (``MLPLAB_RAISE`` unset), so a failing page shows the generic
error box; the tests look for that box, for ``stException`` and for the word "Traceback".
Screenshots go to ``artifacts/e2e/`` (gitignored).
"""

from __future__ import annotations

import re

import pytest

from mlcore.data.csvfile import MAX_UPLOAD_MB
from mlcore.i18n import t
from tests.e2e.helpers import (
    LANG_LABELS,
    full_page_screenshot,
    open_in_session,
    read_text,
    streamlit_server,
    wait_for_app,
)
from ui.nav import PAGES

LOCALES = {"es": "es-ES", "en": "en-US"}


def url_for(base: str, spec) -> str:
    return f"{base}/" if spec.default else f"{base}/{spec.url_path}"


def assert_clean(page, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, f"{where}: st.exception shown"
    body = page.locator('[data-testid="stApp"]').inner_text()
    assert "Traceback" not in body, f"{where}: a traceback is visible"
    for lang in LOCALES:
        assert t("err.unexpected", lang) not in body, f"{where}: the page failed (generic error box)"


def h1(page) -> str:
    return read_text(page, '[data-testid="stMain"] h1').strip()


def sidebar_text(page) -> str:
    return read_text(page, '[data-testid="stSidebar"]')


def test_fresh_server_deep_link_gets_the_app_frame(chromium_ready, new_page, artifacts):
    """The first visitor of a freshly started server opens a page URL directly (a bookmark, or tabs
    that reconnect after a restart): the page must still come with the sidebar and language.
    The Data page is the one a class opens first."""
    spec = next((s for s in PAGES if s.url_path == "data"), None) or next(s for s in PAGES if not s.default)
    with streamlit_server(log_path=artifacts / "server-deeplink.log") as base:
        page = new_page("en-US")
        page.goto(url_for(base, spec))
        wait_for_app(page)
        page.screenshot(path=str(artifacts / f"deeplink-{spec.url_path}.png"))
        assert_clean(page, spec.url_path)
        assert page.get_by_role("radio", name=LANG_LABELS["en"]).count() == 1, "no language control"
        assert t("sidebar.no_data", "en") in sidebar_text(page)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert t(spec.title_key, "en") in nav  # English, from the browser locale
        assert h1(page)


@pytest.mark.parametrize(("lang", "how"), [("es", "url"), ("en", "sidebar")])
def test_every_page_loads_cleanly(server_url, new_page, artifacts, lang, how):
    """Spanish: each page opened by its URL (a new session each); English: one session that
    walks through the sidebar navigation."""
    page = new_page(LOCALES[lang])
    if how == "sidebar":
        page.goto(f"{server_url}/")
        wait_for_app(page)
    failures = []
    for spec in PAGES:
        if how == "url":
            page.goto(url_for(server_url, spec))
            wait_for_app(page)
        else:
            open_in_session(page, server_url, spec)
        full_page_screenshot(page, artifacts / f"{lang}-{spec.url_path}.png")
        try:
            assert_clean(page, f"{spec.url_path} ({lang})")
            assert h1(page), f"{spec.url_path} ({lang}): empty title"
            assert t("sidebar.no_data", lang) in sidebar_text(page), f"{spec.url_path} ({lang}): no frame"
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("lang", list(LOCALES))
def test_default_language_follows_the_browser_locale(server_url, new_page, lang):
    page = new_page(LOCALES[lang])
    page.goto(f"{server_url}/")
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert t("home.map", lang) in main
    other = "en" if lang == "es" else "es"
    assert t("home.map", other) not in main
    checked = page.get_by_role("radio", name=LANG_LABELS[lang])
    assert checked.get_attribute("aria-checked") == "true"


def test_language_switch_changes_the_text_and_persists(server_url, new_page, artifacts):
    page = new_page("en-US")
    page.goto(f"{server_url}/")
    wait_for_app(page)
    assert t("home.map", "en") in page.locator('[data-testid="stMain"]').inner_text()

    page.get_by_role("radio", name=LANG_LABELS["es"]).click()
    page.get_by_text(t("home.map", "es"), exact=True).wait_for()
    wait_for_app(page)
    assert t("home.map", "en") not in page.locator('[data-testid="stMain"]').inner_text()
    assert t("sidebar.no_data", "es") in sidebar_text(page)

    # The choice survives navigation inside the app (same session) ...
    spec = next(s for s in PAGES if not s.default)
    page.locator('[data-testid="stSidebarNav"]').get_by_text(t(spec.title_key, "es"), exact=True).click()
    page.wait_for_url(re.compile(rf"/{spec.url_path}$"))
    wait_for_app(page)
    assert page.get_by_role("radio", name=LANG_LABELS["es"]).get_attribute("aria-checked") == "true"
    title_es = h1(page)
    page.screenshot(path=str(artifacts / f"switched-es-{spec.url_path}.png"))
    assert_clean(page, spec.url_path)

    # ... and switching back on this page changes its title.
    page.get_by_role("radio", name=LANG_LABELS["en"]).click()
    page.locator('[data-testid="stSidebar"]').get_by_text(t("sidebar.no_data", "en"), exact=True).wait_for()
    wait_for_app(page)
    assert h1(page) != title_es
    assert t(spec.title_key, "en") in page.locator('[data-testid="stSidebarNav"]').inner_text()


def test_csv_upload_loads_the_dataset(server_url, new_page, artifacts, tmp_path):
    """Upload a small CSV on the Data page, apply the default choices, and see it in the sidebar."""
    import numpy as np

    rng = np.random.default_rng(0)
    hours = rng.uniform(0, 10, 40).round(1)
    attendance = rng.uniform(50, 100, 40).round(0)
    passed = np.where(hours * 8 + attendance > 110, "si", "no")
    csv = tmp_path / "notas_clase.csv"
    rows = ["horas,asistencia,aprobado", *(f"{h},{a},{p}" for h, a, p in zip(hours, attendance, passed))]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")

    page = new_page("es-ES")
    page.goto(f"{server_url}/data")
    wait_for_app(page)
    page.locator(".st-key-data_source_kind").get_by_text(t("data.source.upload", "es"), exact=True).click()
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.wait_for(state="attached")
    # the uploader's own English texts ("Upload", "25MB per file") are drawn over in Spanish
    # (ui.projector.uploader_texts_css): what the page shows is the style's content, the original at size 0
    shown = page.evaluate("""() => ['[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p',
                                    '[data-testid="stFileUploaderDropzoneInstructions"] span'].map(s => {
        const e = document.querySelector('.st-key-data_upload ' + s);
        return e ? [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content] : null; })""")
    assert shown == [["0px", f'"{t("data.upload.button", "es")}"'],
                     ["0px", f'"{t("data.upload.limits", "es", mb=MAX_UPLOAD_MB)}"']], shown
    uploader.set_input_files(str(csv))
    apply_button = page.locator(".st-key-data_apply button")
    apply_button.wait_for(state="visible")
    wait_for_app(page)
    apply_button.click()
    page.locator('[data-testid="stSidebar"]').get_by_text("notas_clase", exact=False).first.wait_for()
    wait_for_app(page)
    full_page_screenshot(page, artifacts / "upload-es-data.png")
    assert_clean(page, "data upload")
    summary = sidebar_text(page)
    assert "notas_clase" in summary and "40" in summary
    assert t("sidebar.no_data", "es") not in summary
