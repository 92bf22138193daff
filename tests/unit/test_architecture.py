"""Architecture rules that keep the app light and the library reusable.

- ``mlcore`` never imports streamlit (checked with ``ast`` on every module, so an import inside a
  function counts too, while the word in a docstring does not).
- The light modules (``mlcore.i18n``, ``mlcore.config``, ``mlcore.data``, the ``ui`` helpers)
  import no heavy library (torch, lightning, shap, optuna, captum) in a fresh interpreter.
- The home and data pages, run through AppTest in a fresh interpreter, import none either: they
  are the first pages a class opens, and torch alone costs seconds on the shared 2-core server.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.helpers import HEAVY_MODULES, page_heavy_imports

ROOT = Path(__file__).resolve().parents[2]
LIGHT_MODULES = ("mlcore", "mlcore.errors", "mlcore.i18n", "mlcore.config", "mlcore.dataset", "mlcore.data",
                 "ui.common", "ui.nav", "ui.sidebar", "ui.state")
LIGHT_URLS = ("home", "data")  # the first pages a class opens


def _streamlit_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    hits = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) == "import_module" or getattr(node.func, "id", None)
                 in {"__import__", "import_module"})
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        hits += [f"{shown}:{node.lineno} {n}" for n in names if n.split(".")[0] == "streamlit"]
    return hits


def test_scanner_sees_streamlit_imports(tmp_path):
    """Guard the checker: every import form is caught, a mention in a docstring is not."""
    probe = tmp_path / "probe.py"
    src = (
        '"""import streamlit in a docstring is fine."""\n'
        "import streamlit as st\n"
        "from streamlit.testing.v1 import AppTest\n"
        "def f():\n    import streamlit.components.v1\n"
        "importlib.import_module('streamlit')\n"
    )
    probe.write_text(src, encoding="utf-8")
    assert [h.split(" ")[0].rsplit(":", 1)[1] for h in _streamlit_imports(probe)] == ["2", "3", "5", "6"]


def test_mlcore_never_imports_streamlit():
    files = sorted((ROOT / "mlcore").rglob("*.py"))
    assert files
    hits = [hit for path in files for hit in _streamlit_imports(path)]
    assert not hits, "mlcore must not import streamlit:\n" + "\n".join(hits)


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_light_module_imports_no_heavy_library(module):
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert heavy == [], f"importing {module} pulled in {heavy}; import them inside the functions that need them"


@pytest.mark.parametrize("url_path", LIGHT_URLS)
def test_first_pages_import_no_heavy_library(url_path):
    from ui.nav import PAGES

    specs = [s for s in PAGES if s.url_path == url_path]
    assert specs, f"no page with url_path {url_path!r} in ui.nav.PAGES"
    page = specs[0].path
    result = page_heavy_imports(page, lang="es")
    assert not result["exception"], f"{page} raised while rendering"
    assert result["heavy"] == [], f"{page} imported {result['heavy']} when it first renders"
