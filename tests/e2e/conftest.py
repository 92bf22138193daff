"""Fixtures for the real-browser tests: a Streamlit server and Debian's Chromium via playwright.

Without ``/usr/bin/chromium`` the module is skipped locally, but fails when ``CI=true``: in CI a
missing browser is a broken set-up (``scripts/test.sh`` installs it), not a reason to pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.helpers import ROOT, chromium_available, launch_chromium, streamlit_server

ARTIFACTS = ROOT / "artifacts" / "e2e"
VIEWPORT = {"width": 1600, "height": 1000}


@pytest.hookimpl(tryfirst=True)  # before -m "not e2e" deselects
def pytest_collection_modifyitems(config, items):  # noqa: ARG001 - pytest hook signature
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium_ready() -> None:
    if not chromium_available():
        msg = "/usr/bin/chromium is missing (scripts/test.sh installs Debian's chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def server_url(chromium_ready, artifacts) -> str:  # noqa: ARG001 - ordering: no server without a browser
    with streamlit_server(log_path=artifacts / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium_ready):  # noqa: ARG001
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser):
    """``new_page(locale)``: a fresh browser context (own cookies, own Streamlit session) and page."""
    contexts = []

    def make(locale: str = "en-US"):
        ctx = browser.new_context(locale=locale, viewport=VIEWPORT)
        ctx.set_default_timeout(60_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()
