"""Real browser: a 3-trial study on the Tune page, with the real worker processes."""

from __future__ import annotations

from tests.e2e.helpers import open_in_session, read_text, wait_for_app
from ui.nav import PAGES

SPEC = {p.url_path: p for p in PAGES}


def test_three_trial_study_finishes_and_lists_its_trials(server_url, new_page, artifacts):
    page = new_page("en-US")
    page.goto(f"{server_url}/data")
    wait_for_app(page)
    page.locator(".st-key-data_load button").click()
    wait_for_app(page)
    open_in_session(page, server_url, SPEC["train"])
    epochs = page.locator(".st-key-t_epochs input")
    epochs.fill("4")  # the Train page's epochs are the trials' epochs (the epochs range is off)
    epochs.press("Enter")
    wait_for_app(page)
    open_in_session(page, server_url, SPEC["tune"])
    for key, value in (("tu_trials", "3"), ("tu_k", "2")):
        box = page.locator(f".st-key-{key} input")
        box.fill(value)
        box.press("Enter")
        wait_for_app(page)
    page.locator(".st-key-tu_start button").click()
    text = read_text(page, '[data-testid="stMarkdownContainer"]:has-text("3 of 3 trials")',
                     expect="(finished)", timeout_ms=180_000)
    assert "3 of 3 trials (finished)" in text, text
    table = read_text(page, '[data-testid="stDataFrame"]', timeout_ms=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "tune-finished.png"), full_page=True)
    page.get_by_role("tab", name="Studies and plots").click()
    read_text(page, ".st-key-tu_fig", timeout_ms=30_000)  # the optimisation history is drawn
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "tune-studies.png"), full_page=True)
    assert table is not None
