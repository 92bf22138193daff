"""Project-wide test set-up.

- ``MLPLAB_RAISE=1`` makes ``app.py`` re-raise page exceptions instead of showing its generic
  "something went wrong" box, so AppTest reports them as ``at.exception``.
- The repository root goes on ``sys.path`` so ``mlcore``, ``ui`` and ``bench`` import from any cwd.
- torch is not imported here (that would slow every test and hide heavy-import bugs); once some
  test module has imported it, it is limited to one thread: the tests use tiny tensors, where one
  thread is as fast, and the 2-core machine keeps a core for the Streamlit server of the e2e tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ["MLPLAB_RAISE"] = "1"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _limit_torch_threads() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def pytest_collection_finish(session):  # noqa: ARG001 - pytest hook signature
    _limit_torch_threads()


@pytest.fixture(autouse=True)
def _torch_threads():
    _limit_torch_threads()
    yield
