"""Real browser: the Evaluate page runs a 3-fold cross-validation in both languages."""

from __future__ import annotations

import time

import pytest

from tests.e2e.helpers import wait_for_app
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
            if (!plot || !plot._fullData || !plot._fullData.length) return 0;
            return plot._fullData[0].y.length;  // the box trace carries every fold's score
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
    from urllib.parse import urlencode

    from mlcore.config import ModelConfig, TrainConfig
    from mlcore.share import encode

    # a teacher's share link opens the Evaluate page on moons (the Data page has its own tests)
    query = encode(ModelConfig(), TrainConfig(), {"kind": "builtin", "name": "moons", "n_samples": 300, "noise": 0.2,
                                                  "n_classes": 2, "seed": 0, "val_frac": 0.2, "test_frac": 0.2,
                                                  "split_seed": 0})
    page = new_page(text["locale"])
    page.goto(f"{server_url}/{SPEC['evaluate'].url_path}?{urlencode(query)}")
    wait_for_app(page)
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
