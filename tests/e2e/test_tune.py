"""Real browser: a 3-trial study on the Tune page in both languages, with the real worker
processes: the progress line, the trials table (read from the grid's accessible table: the grid
itself is a canvas) and the optimisation history with Optuna's labels in the page's language."""

from __future__ import annotations

import time

import pytest

from mlcore.i18n import t
from tests.e2e.helpers import (load_default_data, open_in_session, read_text, read_value, set_number,
                               wait_for_app)
from ui.nav import PAGES

SPEC = {p.url_path: p for p in PAGES}


def _grid_text(page, done, timeout_s: float = 60.0) -> str:
    """The trials grid's text once ``done(text)`` holds (or what is there on timeout). The grid
    redraws its accessible table a moment after the rest of the fragment."""
    table = page.locator('[data-testid="stDataFrame"] table').first
    table.wait_for(state="attached", timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        try:
            text = table.inner_text()
        except Exception:  # noqa: BLE001 - redrawn between two looks
            text = ""
        if done(text):
            break
        page.wait_for_timeout(100)
    return text


@pytest.mark.parametrize("locale", ["es-ES", "en-US"])
def test_three_trial_study_finishes_and_lists_its_trials(locale, server_url, new_page, artifacts):
    lang = locale[:2]
    page = new_page(locale)
    load_default_data(page, server_url)
    open_in_session(page, server_url, SPEC["train"])
    set_number(page, "t_epochs", 4)  # the Train page's epochs are the trials' epochs (the epochs range is off)
    open_in_session(page, server_url, SPEC["tune"])
    for key, value in (("tu_trials", 3), ("tu_k", 2)):
        set_number(page, key, value)
    page.locator(".st-key-tu_start button").click()
    # "<name>: 3 of 3 trials (finished)" in the page's language
    done = t("tune.progress", lang, name="", done=3, total=3, status=t("tune.mode.finished", lang))
    done = done.replace("****: ", "")
    text = read_text(page, f'[data-testid="stMarkdownContainer"]:has-text("{done.split(" (")[0]}")',
                     expect=done, timeout_ms=180_000)
    assert done in text, (done, text)
    # the grid's accessible table has one row per trial (its text comes without line breaks),
    # and a column per tuned parameter, named in the page's language
    states = [t(f"tune.state.{s}", lang) for s in ("complete", "pruned", "fail")]
    heads = [t(f"tune.col.param.{p}", lang) for p in ("lr", "n_layers", "units")]

    def three_finished(text: str) -> bool:
        return all(h in text for h in heads) and sum(text.count(s) for s in states) == 3

    grid = _grid_text(page, three_finished)
    assert three_finished(grid), grid
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / f"tune-finished-{lang}.png"), full_page=True)

    page.get_by_role("tab", name=t("tune.tab.studies", lang)).click()
    figure = read_text(page, ".st-key-tu_fig", expect=t("tune.fig.best", lang), timeout_ms=30_000)
    assert t("tune.fig.best", lang) in figure and "Best Value" not in figure, figure[:300]
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / f"tune-studies-{lang}.png"), full_page=True)

    # "Use the best": the retrained best becomes the Train page's finished run, with its note
    page.locator(".st-key-tu_use_best button").first.click()
    adopted = t("tune.adopted", lang, number="§", name="§").split("§")[-1].strip()  # "is now your current model ..."
    text = read_text(page, '[data-testid="stAlertContentSuccess"]', expect=adopted, timeout_ms=120_000)
    assert adopted in text, text
    open_in_session(page, server_url, SPEC["train"])
    note = t("train.from_tune", lang, number="", name="").split("(")[0].replace("**", "").strip()
    text = read_text(page, f'[data-testid="stAlertContentInfo"]:has-text("{note}")', expect=note)
    assert note in text, text
    status = read_text(page, '[data-testid="stMarkdownContainer"]:has-text("4 / 4")', expect="4 / 4")
    assert "4 / 4" in status, status
    assert page.locator('[data-testid="stException"]').count() == 0


def test_settings_are_still_there_after_a_visit_to_the_build_page(server_url, new_page):
    """In a real session (st.navigation), the search space and the study settings a student
    chose come back when they return from another page."""
    page = new_page("es-ES")
    load_default_data(page, server_url)
    open_in_session(page, server_url, SPEC["tune"])
    set_number(page, "tu_trials", 7)
    page.locator(".st-key-tu_sampler [role=combobox]").click()
    page.get_by_role("option", name=t("tune.sampler.random.label", "es")).click()
    wait_for_app(page)
    open_in_session(page, server_url, SPEC["build"])
    open_in_session(page, server_url, SPEC["tune"])
    assert read_value(page, ".st-key-tu_trials input", expect="7") == "7"
    sampler = read_text(page, ".st-key-tu_sampler", expect=t("tune.sampler.random.label", "es"))
    assert t("tune.sampler.random.label", "es") in sampler, sampler
    assert page.locator('[data-testid="stException"]').count() == 0
