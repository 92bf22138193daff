"""Screenshots of the Build and Train pages mid-training, in both languages (manual review aid).

Usage: .venv/bin/python scripts/shot_train.py [--dataset moons] [--out artifacts/train]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.helpers import launch_chromium, open_in_session, streamlit_server, wait_for_app  # noqa: E402
from ui.nav import PAGES  # noqa: E402

SPEC = {p.url_path: p for p in PAGES}


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "artifacts" / "train")
    ap.add_argument("--seconds", type=float, default=6.0)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url, sync_playwright() as p:
        browser = launch_chromium(p)
        for lang, locale in (("es", "es-ES"), ("en", "en-US")):
            page = browser.new_context(locale=locale, viewport={"width": 1600, "height": 2000}).new_page()
            page.goto(f"{url}/data")
            wait_for_app(page)
            page.locator(".st-key-data_load button").click()
            wait_for_app(page)
            open_in_session(page, url, SPEC["build"])
            page.screenshot(path=str(args.out / f"{lang}-build.png"), full_page=True)
            open_in_session(page, url, SPEC["train"])
            page.locator(".st-key-t_play button").click()
            time.sleep(args.seconds)
            page.screenshot(path=str(args.out / f"{lang}-train-playing.png"), full_page=True)
            page.locator(".st-key-t_pause button").click()
            time.sleep(2)
            wait_for_app(page)
            page.get_by_role("tab").nth(1).click()
            time.sleep(1)
            page.screenshot(path=str(args.out / f"{lang}-train-results.png"), full_page=True)
            page.get_by_role("tab").nth(2).click()
            time.sleep(3)
            page.screenshot(path=str(args.out / f"{lang}-train-optimizers.png"), full_page=True)
            exc = page.locator('[data-testid="stException"]').count()
            print(lang, "exceptions:", exc)
        browser.close()


if __name__ == "__main__":
    main()
