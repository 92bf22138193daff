"""Real browser: train on moons with Play, Pause and Step, and check that the curve grows."""

from __future__ import annotations

import re
import time

from tests.e2e.helpers import ROOT, load_default_data, open_in_session, read_text, read_value, wait_for_app
from ui.nav import PAGES

SPEC = {p.url_path: p for p in PAGES}
ROOT_ARTIFACTS = ROOT / "artifacts" / "e2e"
EPOCH = re.compile(r"Epoch (\d+) / (\d+)")


def _epoch(page) -> int:
    label = page.locator('strong:has-text("Epoch ")')
    if not label.count():
        return 0
    match = EPOCH.search(label.first.inner_text())
    return int(match.group(1)) if match else 0


def _curve_points(page) -> int:
    """Number of points of the train-loss line in the live curve figure."""
    return page.evaluate(
        """() => {
            const plot = document.querySelector('.st-key-t_curves .js-plotly-plot')
                || [...document.querySelectorAll('.js-plotly-plot')].find(p => p._fullData && p._fullData.length === 4);
            if (!plot || !plot._fullData || !plot._fullData.length) return 0;
            return plot._fullData[0].x.length;  // decoded (typed arrays travel base64-encoded)
        }"""
    )


def _wait_until(predicate, timeout: float = 60.0, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_play_pause_step_grows_the_curve(server_url, new_page, artifacts):
    page = new_page("en-US")
    load_default_data(page, server_url)
    open_in_session(page, server_url, SPEC["build"])
    open_in_session(page, server_url, SPEC["train"])
    assert page.locator('[data-testid="stException"]').count() == 0
    epochs = page.locator(".st-key-t_epochs input")
    epochs.fill("3000")
    epochs.press("Enter")  # long enough that Pause lands mid-run
    wait_for_app(page)

    page.locator(".st-key-t_play button").click()
    assert _wait_until(lambda: _epoch(page) >= 3, timeout=90), "training did not start"
    page.locator(".st-key-t_pause button").click()
    assert _wait_until(lambda: "paused" in page.locator('strong:has-text("Epoch ")').first.locator("xpath=..").inner_text())
    wait_for_app(page)
    paused_at = _epoch(page)
    points = _curve_points(page)
    assert points == paused_at > 0
    time.sleep(1.5)
    assert _epoch(page) == paused_at  # pause really stops

    page.locator(".st-key-t_step button").click()
    assert _wait_until(lambda: _epoch(page) == paused_at + 1, timeout=30)
    assert _wait_until(lambda: _curve_points(page) == paused_at + 1, timeout=30)

    page.locator(".st-key-t_play button").click()
    assert _wait_until(lambda: _epoch(page) > paused_at + 3, timeout=60)
    assert _wait_until(lambda: _curve_points(page) > paused_at + 3, timeout=30)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "train-playing.png"), full_page=True)


def test_share_link_opens_the_same_setup(server_url, new_page):
    """A teacher's link restores dataset, architecture and optimizer in a fresh browser session."""
    from urllib.parse import urlencode

    from mlcore.config import LayerSpec, ModelConfig, OptimConfig, TrainConfig
    from mlcore.share import encode

    query = encode(ModelConfig(hidden=(LayerSpec(6, "tanh"),)), TrainConfig(optim=OptimConfig(name="rmsprop")),
                   {"kind": "builtin", "name": "circles", "n_samples": 300, "noise": 0.1, "n_classes": 3,
                    "seed": 0, "val_frac": 0.2, "test_frac": 0.2, "split_seed": 0})
    page = new_page("en-US")
    page.goto(f"{server_url}/train?{urlencode(query)}")
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    sidebar = read_text(page, '[data-testid="stSidebar"]', expect="300 rows")
    assert "circles" in sidebar and "300 rows" in sidebar
    page.screenshot(path=str(ROOT_ARTIFACTS / "share-link.png"), full_page=True)
    assert "RMSprop" in read_text(page, ".st-key-t_opt", expect="RMSprop")
    open_in_session(page, server_url, SPEC["build"])
    assert read_value(page, ".st-key-b_units_0 input", expect="6") == "6"
    assert page.locator(".st-key-b_units_1").count() == 0


def test_spanish_learning_rate_box_reads_a_decimal_comma(server_url, new_page, artifacts):
    """Streamlit's number box dropped the comma as it was typed ("0,05" became 5); the Train
    page's learning-rate box reads it, prints the comma, and says so when a text is no number."""
    from mlcore.i18n import t

    page = new_page("es-ES")
    load_default_data(page, server_url)
    open_in_session(page, server_url, SPEC["train"])
    box = ".st-key-t_h_lr_text input"
    for typed, shown in (("0.05", "0,05"), ("0,2", "0,2")):  # a point is read too, and printed as a comma
        page.locator(box).fill(typed)
        page.locator(box).press("Enter")
        wait_for_app(page)
        assert read_value(page, box, expect=shown) == shown
    page.locator(box).fill("0,2x")
    page.locator(box).press("Enter")
    wait_for_app(page)
    message = t("err.decimal.invalid", "es", text="0,2x", example="0,2")
    assert message in read_text(page, '[data-testid="stAlertContentError"]', expect=message)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "train-lr-comma-es.png"), full_page=True)
