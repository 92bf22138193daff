"""Start-up benchmark: how fast a class gets its first page, and what the first pages import.

    .venv/bin/python -m bench.bench_startup [--repeat 3] [--all-pages]

For each repeat it starts a fresh ``streamlit run app.py`` server and measures, with Debian's
Chromium already running:
  (a) server start -> ``/_stcore/health`` answers "ok";
  (b) health ok -> the home page's title is visible (first visitor: app.py and home imported);
  (c) a second visitor's home page (modules already imported: what the other students get).
Then it runs the home and data pages (``--all-pages``: every page) through AppTest, each in a fresh
interpreter, and lists which heavy libraries (torch, lightning, shap, optuna, captum) they imported.
Target: (b) under 2 s, and no heavy library on the home and data pages.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.helpers import (  # noqa: E402
    StreamlitServer,
    chromium_available,
    launch_chromium,
    page_heavy_imports,
)

TARGET_HOME_S = 2.0
LIGHT_URLS = ("home", "data")


def _title_visible(page, url: str) -> float:
    t0 = time.perf_counter()
    page.goto(url)
    page.locator('[data-testid="stMain"] h1').first.wait_for(state="visible", timeout=120_000)
    return time.perf_counter() - t0


def time_startup(repeat: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    log_dir = ROOT / "artifacts" / "bench"
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for i in range(repeat):
                server = StreamlitServer(log_path=log_dir / f"startup-{i}.log")
                try:
                    url = server.start()
                    health = server.healthy - server.started
                    first_ctx = browser.new_context(locale="es-ES")
                    first = _title_visible(first_ctx.new_page(), f"{url}/")
                    second_ctx = browser.new_context(locale="en-US")
                    second = _title_visible(second_ctx.new_page(), f"{url}/")
                    first_ctx.close()
                    second_ctx.close()
                finally:
                    server.stop()
                rows.append({"health": health, "first": first, "second": second})
        finally:
            browser.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="MLP Lab start-up benchmark")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--all-pages", action="store_true", help="check heavy imports on every page")
    args = ap.parse_args(argv)

    print("MLP Lab start-up benchmark")
    print(f"python {sys.version.split()[0]}, {sys.platform}")
    if chromium_available():
        rows = time_startup(args.repeat)
        print(f"\n{'run':>4} {'(a) start->health':>18} {'(b) health->home':>17} {'(c) 2nd visitor':>16}")
        for i, r in enumerate(rows, 1):
            print(f"{i:>4} {r['health']:>17.2f}s {r['first']:>16.2f}s {r['second']:>15.2f}s")
        med = {k: statistics.median(r[k] for r in rows) for k in ("health", "first", "second")}
        print(f"{'med':>4} {med['health']:>17.2f}s {med['first']:>16.2f}s {med['second']:>15.2f}s")
        verdict = "OK" if med["first"] <= TARGET_HOME_S else "OVER TARGET"
        print(f"home page {med['first']:.2f} s after the server answers (target {TARGET_HOME_S:.1f} s): {verdict}")
        print(f"ratio first/second visitor: {med['first'] / med['second']:.2f}x")
    else:
        print("\n(no /usr/bin/chromium: browser timings skipped; apt-get install chromium)")

    from ui.nav import PAGES

    specs = [s for s in PAGES if args.all_pages or s.url_path in LIGHT_URLS]
    print(f"\n{'page':<24} {'heavy modules imported':<34} {'AppTest run':>11}")
    bad = []
    for spec in specs:
        res = page_heavy_imports(None if spec.default else spec.path)
        heavy = ", ".join(res["heavy"]) or "-"
        flag = " (exception)" if res["exception"] else ""
        print(f"{spec.url_path:<24} {heavy:<34} {res['seconds']:>10.2f}s{flag}")
        if spec.url_path in LIGHT_URLS and res["heavy"]:
            bad.append(spec.url_path)
    if bad:
        print(f"\nlight pages importing heavy modules: {', '.join(bad)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
