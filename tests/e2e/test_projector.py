"""Projector sizes and teacher links in Chromium.

At 1280x720 and 1920x1080, in both languages, on every page: no button, toggle, tab or widget
label is cut (``scrollWidth`` against ``clientWidth``), no formula is wider than its box, and the
Train page's decision boundary has a square plot area at least 480 px wide at 1280x720.
Screenshots of every page at both sizes go to ``artifacts/e2e/projector/``. One server, one
browser; each language is one session opened from a lesson-preset link (data, network, seed).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from mlcore.i18n import t
from tests.e2e.helpers import read_text, wait_for_app
from ui.nav import PAGES

LOCALES = {"es": "es-ES", "en": "en-US"}
SIZES = ((1280, 720), (1920, 1080))
SPEC = {s.url_path: s for s in PAGES}

_OVERFLOW_JS = """() => {
  const labels = ['[data-testid="stButton"] button p', '[data-testid="stDownloadButton"] button p',
                  '[data-testid="stWidgetLabel"] p', 'button[role="tab"] p', '[data-testid="stPageLink"] p',
                  '[data-testid="stCheckbox"] label p', '[data-testid="stExpander"] summary p',
                  '[data-testid="stSidebarNav"] a span', '[data-testid="stSidebarNavLink"]',
                  '[data-testid="stSidebarNav"] .stMarkdownEllipsis', '[data-testid="stMetricLabel"] p'];
  const cut = [];
  const shown = el => el.offsetParent !== null && el.getClientRects().length > 0;
  for (const sel of labels) for (const el of document.querySelectorAll(sel)) {
    if (shown(el) && el.scrollWidth > el.clientWidth + 1) cut.push('label: ' + el.innerText.slice(0, 50));
  }
  for (const el of document.querySelectorAll('.katex-display')) {
    if (shown(el) && el.scrollWidth > el.clientWidth + 1)
      cut.push('formula: ' + el.innerText.replace(/\\s+/g, ' ').slice(0, 50));
  }
  return cut;
}"""

_BOUNDARY_JS = """() => {
  const area = document.querySelector('.st-key-t_boundary .nsewdrag');
  if (!area) return null;
  const r = area.getBoundingClientRect();
  return [r.width, r.height];
}"""


def _open(page, base_url: str, spec) -> None:
    """Follow the sidebar link to ``spec`` in the same session (a page may add its own query)."""
    href = f"{base_url}/" if spec.default else f"{base_url}/{spec.url_path}"
    page.locator(f'[data-testid="stSidebarNav"] a[href="{href}"]').click()
    page.wait_for_url(lambda url: url.split("?")[0] == href)
    wait_for_app(page)


def _shoot_and_measure(page, artifacts, lang: str, name: str) -> list[str]:
    problems = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)  # a resize re-lays out the page in the browser only (no rerun)
        problems += [f"{lang} {name} {width}x{height} {p}" for p in page.evaluate(_OVERFLOW_JS)]
        page.screenshot(path=str(artifacts / f"{lang}-{name}-{width}x{height}.png"))  # what the room sees
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    return problems


@pytest.mark.parametrize("lang", list(LOCALES))
def test_every_page_fits_a_projector(lang, server_url, browser, artifacts):
    out = artifacts / "projector"
    out.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(locale=LOCALES[lang], viewport={"width": 1280, "height": 720})
    ctx.set_default_timeout(60_000)
    try:
        page = ctx.new_page()
        page.goto(f"{server_url}/train?preset=xor.hidden")
        wait_for_app(page)
        page.locator(".st-key-t_play button").click()
        read_text(page, '[data-testid="stMain"]', expect=t("preset.explain_title", lang), timeout_ms=120_000)
        wait_for_app(page)
        page.locator(".st-key-t_boundary .nsewdrag").wait_for(timeout=60_000)
        page.wait_for_timeout(300)
        w, h = page.evaluate(_BOUNDARY_JS)
        problems = _shoot_and_measure(page, out, lang, "train")
        assert w >= 480 and abs(w - h) <= 2, f"boundary plot area {w:.0f}x{h:.0f} px at 1280x720"
        for spec in PAGES:
            if spec.url_path == "train":
                continue
            _open(page, server_url, spec)
            assert page.locator('[data-testid="stException"]').count() == 0, spec.url_path
            problems += _shoot_and_measure(page, out, lang, spec.url_path)
        # the projector view (larger fonts, full width) on the pages with the widest rows
        page.locator('[data-testid="stSidebar"] label').filter(has_text=t("projector.mode", lang)).click()
        wait_for_app(page)
        for name in ("train", "backprop", "forward", "gradient"):
            if name in SPEC:
                _open(page, server_url, SPEC[name])
                problems += _shoot_and_measure(page, out, lang, f"projector-{name}")
        _open(page, server_url, SPEC["train"])
        page.locator(".st-key-t_boundary .nsewdrag").wait_for(timeout=60_000)
        w, h = page.evaluate(_BOUNDARY_JS)
        assert w >= 480 and abs(w - h) <= 2, f"projector view: boundary plot area {w:.0f}x{h:.0f} px at 1280x720"
        assert not problems, "\n".join(problems)
    finally:
        ctx.close()


def test_teacher_link_in_a_fresh_browser_session(server_url, browser, artifacts):
    """Teacher mode on, hide the optimizer, copy the student link, open it in a new context."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1600, "height": 1000})
    ctx.set_default_timeout(60_000)
    try:
        teacher = ctx.new_page()
        teacher.goto(f"{server_url}/train?preset=diverge.high&tm=1&hide=opt")
        wait_for_app(teacher)
        link = read_text(teacher, '[data-testid="stSidebar"] [data-testid="stCode"]', expect="hide=")
        query = dict(parse_qsl(urlsplit(link.strip()).query))
        assert query["hide"] == "opt" and query["opt"] == "sgd" and query["lr"] == "5"
        assert teacher.locator(".st-key-t_opt").count() == 1  # the teacher still sees it
    finally:
        ctx.close()
    ctx = browser.new_context(locale="en-US", viewport={"width": 1600, "height": 1000})
    ctx.set_default_timeout(60_000)
    try:
        student = ctx.new_page()
        student.goto(f"{server_url}/train?{urlencode(query)}")
        wait_for_app(student)
        sidebar = read_text(student, '[data-testid="stSidebar"]', expect="sin")
        assert "sin" in sidebar and t("teacher.locked", "en", n=1) in sidebar
        assert student.locator(".st-key-t_opt").count() == 0
        assert student.locator(".st-key-t_h_lr_text").count() == 1
        student.screenshot(path=str(artifacts / "teacher-student-link.png"), full_page=True)
        student.locator(".st-key-teacher_unlock button").click()
        wait_for_app(student)
        assert "SGD" in read_text(student, ".st-key-t_opt", expect="SGD")
    finally:
        ctx.close()
