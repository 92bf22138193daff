"""Real browser: train breast cancer (restored from a share link), then the Explain page shows SHAP
with its additivity check in worker processes, and counterfactuals on request, with no exception."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, TrainConfig
from mlcore.share import encode
from tests.e2e.helpers import open_in_session, wait_for_app
from ui.nav import PAGES

SPEC = {p.url_path: p for p in PAGES}


def _wait_for_text(page, text: str, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in page.inner_text("body"):
            return True
        time.sleep(0.25)
    return False


def test_explain_page_after_training(server_url, new_page, artifacts):
    source = {"kind": "builtin", "name": "breast_cancer", "n_samples": 500, "noise": 0.2, "n_classes": 3,
              "seed": 0, "val_frac": 0.2, "test_frac": 0.2, "split_seed": 0}
    query = encode(ModelConfig(hidden=(LayerSpec(16, "relu"),)),
                   TrainConfig(optim=OptimConfig(lr=0.01), epochs=5, batch_size=32), source)
    page = new_page("en-US")
    page.goto(f"{server_url}/train?{urlencode(query)}")
    wait_for_app(page)
    page.locator(".st-key-t_play button").click()
    assert _wait_for_text(page, "Epoch 5 / 5"), "training did not finish"
    open_in_session(page, server_url, SPEC["explain"])
    assert _wait_for_text(page, "Additivity error"), "SHAP did not appear"
    assert _wait_for_text(page, "vectorised DeepLIFT")
    page.get_by_role("tab", name="Counterfactuals").click()
    page.locator(".st-key-explain_job_cf_run button").click()
    assert _wait_for_text(page, "Counterfactual 1") or _wait_for_text(page, "No counterfactual", 5)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "explain.png"), full_page=True)
