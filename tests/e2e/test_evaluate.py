"""Real browser: the Evaluate page runs a 3-fold cross-validation in both languages."""

from __future__ import annotations

import time

import pytest

from tests.e2e.helpers import open_in_session, wait_for_app
from ui.nav import PAGES

SPEC = {p.url_path: p for p in PAGES}
TEXT = {
    "es": {"locale": "es-ES", "tab": "Validación cruzada", "mean": "media ± desviación", "done": "Terminado"},
    "en": {"locale": "en-US", "tab": "Cross-validation", "mean": "Mean Accuracy ± std", "done": "Finished"},
}


def _fold_points(page) -> int:
    return page.evaluate(
        """() => {
            const plot = document.querySelector('.st-key-e_cv_strip .js-plotly-plot');
            if (!plot || !plot._fullData || plot._fullData.length < 2) return 0;
            return plot._fullData[1].y.length;
        }"""
    )


def _wait_until(predicate, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@pytest.mark.parametrize("lang", ["es", "en"])
def test_three_fold_cross_validation(lang, server_url, new_page, artifacts):
    text = TEXT[lang]
    page = new_page(text["locale"])
    page.goto(f"{server_url}/data")
    wait_for_app(page)
    page.locator(".st-key-data_load button").click()
    wait_for_app(page)
    open_in_session(page, server_url, SPEC["evaluate"])
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_role("tab", name=text["tab"]).click()
    slider = page.locator(".st-key-e_cv_k input[type='range']")
    slider.focus()
    slider.press("ArrowLeft")
    wait_for_app(page)
    slider.press("ArrowLeft")
    wait_for_app(page)
    assert slider.input_value() == "3"
    epochs = page.locator(".st-key-e_cv_epochs input")
    epochs.fill("10")
    epochs.press("Enter")
    wait_for_app(page)
    page.locator(".st-key-eval_job_cv_start button").click()
    assert _wait_until(lambda: _fold_points(page) == 3), "the fold scores did not appear"
    page.get_by_text(text["mean"]).first.wait_for()
    page.get_by_text(text["done"]).first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / f"evaluate-cv-{lang}.png"), full_page=True)
