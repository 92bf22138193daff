"""Shared helpers for the browser tests, ``scripts/screenshots.py`` and ``bench/bench_startup.py``.

- ``streamlit_server()``: start ``streamlit run app.py`` headless on a free loopback port, wait for
  ``/_stcore/health``, yield the base URL, stop the server by its process id.
- ``launch_chromium()``: Debian's ``/usr/bin/chromium`` driven by Python playwright (no
  downloaded browser builds: the machines have no network for that).
- ``wait_for_app(page)``: wait until Streamlit has finished running the script.
- ``read_text(page, selector, expect)``: wait until an element is drawn with content (its text
  and its inputs' values, optionally containing ``expect``), then return that content. Tests read
  through it instead of reading once: on a loaded machine a widget's box can exist a moment
  before its value is drawn (``'RMSprop' in ' '``).
- ``page_heavy_imports(path)``: which heavy libraries a page imports, measured with AppTest in a
  fresh interpreter.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--disable-sync",
    "--no-first-run",
]
HEAVY_MODULES = ("torch", "lightning", "pytorch_lightning", "shap", "optuna", "captum")
LANG_LABELS = {"es": "Español", "en": "English"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().decode().strip() == "ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


class StreamlitServer:
    """A ``streamlit run app.py`` subprocess on 127.0.0.1; ``started``/``healthy`` are perf_counter times."""

    def __init__(self, port: int | None = None, log_path: Path | None = None,
                 env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.port = port or free_port()
        self.extra_env = dict(env or {})
        self.extra_args = tuple(args)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.started = self.healthy = 0.0
        self._log = None

    def start(self, timeout: float = 120) -> str:
        cmd = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true",
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
            *self.extra_args,
        ]
        # the real app, as users see it: no test switches (re-raising, training on threads)
        env = {k: v for k, v in os.environ.items() if k not in ("MLPLAB_RAISE", "MLPLAB_POOL")}
        env.update(self.extra_env)
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() ends its children too
        )
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early with code {self.proc.returncode}; see {self.log_path}")
            if _health_ok(self.url):
                self.healthy = time.perf_counter()
                return self.url
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"streamlit did not answer {self.url}/_stcore/health within {timeout:.0f} s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # the group we created, led by proc.pid
            try:
                proc.wait(timeout=5)  # a live training pool can hold up a clean exit
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None


@contextlib.contextmanager
def streamlit_server(log_path: Path | None = None, timeout: float = 120,
                     env: dict[str, str] | None = None) -> Iterator[str]:
    server = StreamlitServer(log_path=log_path, env=env)
    try:
        yield server.start(timeout=timeout)
    finally:
        server.stop()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_for_app(page, timeout_ms: float = 90_000, settle_ms: int = 500) -> None:
    """Wait until Streamlit has finished running the script and the page has settled.

    Streamlit marks its root: ``[data-testid="stApp"]`` carries ``data-test-script-state``
    ("running", "notRunning", ...) and ``data-test-connection-state``. Idle means: connected, not
    running, a page title (h1) shown, no "running" status widget and no stale (dimmed) element, for
    ``settle_ms`` in a row (a click starts its rerun a moment later, so one look is not enough).
    """
    page.wait_for_selector('[data-testid="stApp"]', state="attached", timeout=timeout_ms)
    page.evaluate("() => { window.__mlplabIdleSince = undefined; }")
    page.wait_for_function(
        """(settle) => {
            const app = document.querySelector('[data-testid="stApp"]');
            const busy = !app
                || app.getAttribute('data-test-script-state') !== 'notRunning'
                || (app.getAttribute('data-test-connection-state') || 'CONNECTED') !== 'CONNECTED'
                || !document.querySelector('[data-testid="stMain"] h1')
                || document.querySelector('[data-testid="stStatusWidget"]')
                || document.querySelector('[data-testid="stAppSkeleton"]')
                || document.querySelector('[data-testid="stSkeleton"]')
                || document.querySelector('[data-stale="true"]');
            const now = performance.now();
            if (busy || window.__mlplabIdleSince === undefined) {
                window.__mlplabIdleSince = busy ? undefined : now;
                return false;
            }
            return now - window.__mlplabIdleSince >= settle;
        }""",
        arg=settle_ms,
        timeout=timeout_ms,
        polling=100,
    )


_CONTENT_JS = """(el) => [el.innerText || '',
    ...[...el.querySelectorAll('input, textarea')].map(i => i.value || '')].join(' ').trim()"""


def _read_until(page, selector: str, read, done, timeout_ms: float) -> str:
    """``read(locator)`` of the first element matching ``selector``, looked at again every 100 ms
    until ``done(value)``; on timeout, whatever it last read (an element redrawn between two looks
    reads as "")."""
    locator = page.locator(selector).first
    locator.wait_for(state="attached", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            value = read(locator)
        except Exception:  # noqa: BLE001 - redrawn between two looks: look again
            value = ""
        if done(value) or time.monotonic() >= deadline:
            return value
        page.wait_for_timeout(100)


def read_text(page, selector: str, expect: str | None = None, timeout_ms: float = 60_000) -> str:
    """The content of the first element matching ``selector`` (its ``innerText`` plus the values
    of its inputs), once it is drawn: non-empty, and containing ``expect`` when given. On timeout
    it returns what is there, so the caller's assertion shows the actual content."""
    return _read_until(page, selector, lambda loc: loc.evaluate(_CONTENT_JS),
                       lambda v: bool(v) and (expect is None or expect in v), timeout_ms)


def read_value(page, selector: str, expect: str | None = None, timeout_ms: float = 60_000) -> str:
    """``input_value()`` of the input at ``selector``, once it equals ``expect`` (or is non-empty);
    on timeout, whatever it is."""
    return _read_until(page, selector, lambda loc: loc.input_value(),
                       lambda v: bool(v) and (expect is None or v == expect), timeout_ms)


def full_page_screenshot(page, path, max_height: int = 12_000) -> None:
    """Screenshot the whole page. Streamlit scrolls inside its main block, not the document, so
    playwright's ``full_page`` sees only the viewport: grow the viewport to the content's height,
    shoot, then put it back."""
    size = page.viewport_size or {"width": 1600, "height": 1000}
    height = page.evaluate(
        """() => Math.max(
            ...['[data-testid="stMain"]', '[data-testid="stMainBlockContainer"]',
                '[data-testid="stSidebarContent"]', '[data-testid="stAppViewContainer"]']
              .map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight))"""
    )
    height = int(min(max(height, size["height"]), max_height))
    if height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(400)  # let charts re-layout to the new size
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        if height > size["height"]:
            page.set_viewport_size(size)


def open_in_session(page, base_url: str, spec, timeout_ms: float = 90_000) -> None:
    """Go to ``spec``'s page through the sidebar navigation, keeping the same Streamlit session
    (``page.goto`` would open a new session and lose what the user loaded)."""
    href = f"{base_url}/" if spec.default else f"{base_url}/{spec.url_path}"
    link = page.locator(f'[data-testid="stSidebarNav"] a[href="{href}"]')
    link.click(timeout=timeout_ms)
    page.wait_for_url(href, timeout=timeout_ms)
    wait_for_app(page, timeout_ms=timeout_ms)


def load_default_data(page, base_url: str) -> None:
    """Open the Data page in a new session and load its default dataset (moons)."""
    page.goto(f"{base_url}/data")
    wait_for_app(page)
    page.locator(".st-key-data_load button").click()
    wait_for_app(page)


def set_number(page, key: str, value) -> None:
    """Type ``value`` into the number input with widget key ``key`` and wait for the rerun."""
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def page_heavy_imports(page_path: str | None, lang: str = "es", timeout: float = 180) -> dict:
    """Run app.py (then ``page_path``) with AppTest in a fresh interpreter.

    Returns ``{"heavy": [...], "exception": bool, "seconds": float}`` where ``heavy`` lists the
    modules of ``HEAVY_MODULES`` present in ``sys.modules`` afterwards.
    """
    code = textwrap.dedent(
        f"""
        import json, os, sys, time
        os.environ["MLPLAB_RAISE"] = "1"
        sys.path.insert(0, {str(ROOT)!r})
        from streamlit.testing.v1 import AppTest
        t0 = time.perf_counter()
        at = AppTest.from_file({str(ROOT / "app.py")!r}, default_timeout=120)
        at.session_state["lang"] = {lang!r}
        at.run()
        page = {page_path!r}
        if page:
            at.switch_page(page)
            at.run()
        seconds = time.perf_counter() - t0
        heavy = [m for m in {HEAVY_MODULES!r} if m in sys.modules]
        print("RESULT" + json.dumps({{"heavy": heavy, "exception": bool(at.exception),
                                     "seconds": seconds}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "MLPLAB_RAISE": "1"},
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[len("RESULT"):])
    raise RuntimeError(f"AppTest subprocess failed ({out.returncode}):\n{out.stderr[-3000:]}")
