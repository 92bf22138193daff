"""Full-page screenshots of every page in both languages.

Usage:
    .venv/bin/python scripts/screenshots.py [--pages data,train] [--lang es] [--no-data] [--out DIR]

Starts ``streamlit run app.py`` on a free loopback port, drives Debian's Chromium (1600x1000) and
writes ``artifacts/screenshots/<lang>-<url_path>.png``. Each language is one browser session:
unless ``--no-data`` is given it first opens the Data page and presses its load button (the
built-in dataset that the page offers by default), so the later pages have data to show.
Emoji render as boxes unless Debian's ``fonts-noto-color-emoji`` is installed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.helpers import (  # noqa: E402
    chromium_available,
    full_page_screenshot,
    launch_chromium,
    open_in_session,
    streamlit_server,
    wait_for_app,
)
from ui.nav import PAGES  # noqa: E402

LOCALES = {"es": "es-ES", "en": "en-US"}
# Key of the Data page's "load" button for the built-in dataset (Streamlit gives keyed elements the CSS
# class st-key-<key>).
DATA_BUTTON_KEYS = ("data_load",)


def load_default_dataset(page, base_url: str) -> bool:
    """Open the Data page and press its load button; True when a dataset shows in the sidebar."""
    spec = next((s for s in PAGES if s.url_path == "data"), None)
    if spec is None:
        return False
    open_in_session(page, base_url, spec)
    for key in DATA_BUTTON_KEYS:
        button = page.locator(f".st-key-{key} button")
        if button.count():
            before = page.locator('[data-testid="stSidebar"]').inner_text()
            button.first.click()
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                wait_for_app(page)
                if page.locator('[data-testid="stSidebar"]').inner_text() != before:
                    return True
                page.wait_for_timeout(250)
            return False
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", help="comma-separated url paths (default: every page in ui.nav.PAGES)")
    ap.add_argument("--lang", choices=sorted(LOCALES), help="one language (default: es and en)")
    ap.add_argument("--no-data", action="store_true", help="do not load a dataset first")
    ap.add_argument("--out", type=Path, default=ROOT / "artifacts" / "screenshots")
    ap.add_argument("--width", type=int, default=1600)
    ap.add_argument("--height", type=int, default=1000)
    args = ap.parse_args(argv)

    if not chromium_available():
        print("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    wanted = args.pages.split(",") if args.pages else [s.url_path for s in PAGES]
    unknown = sorted(set(wanted) - {s.url_path for s in PAGES})
    if unknown:
        print(f"unknown page(s) {unknown}; known: {[s.url_path for s in PAGES]}", file=sys.stderr)
        return 2
    specs = [s for s in PAGES if s.url_path in wanted]
    langs = [args.lang] if args.lang else list(LOCALES)
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with streamlit_server(log_path=args.out / "server.log") as base, sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for lang in langs:
                ctx = browser.new_context(locale=LOCALES[lang],
                                          viewport={"width": args.width, "height": args.height})
                ctx.set_default_timeout(90_000)
                page = ctx.new_page()
                page.goto(f"{base}/")
                wait_for_app(page)
                if not args.no_data:
                    ok = load_default_dataset(page, base)
                    print(f"[{lang}] dataset loaded: {ok}")
                for spec in specs:
                    open_in_session(page, base, spec)
                    path = args.out / f"{lang}-{spec.url_path}.png"
                    full_page_screenshot(page, path)
                    print(f"[{lang}] {spec.url_path:<22} -> {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
                ctx.close()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
