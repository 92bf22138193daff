"""Spanish/English message catalogues and the lookup helper.

Catalogues are JSON files, one per section of the app and per language:
``mlcore/i18n/es/<section>.json`` and ``mlcore/i18n/en/<section>.json``. Keys are flat and
namespaced by section (``"data.title"``, ``"err.csv.empty"``). Templates use ``str.format``
placeholders: ``"{n} rows"``. A unit test checks that both languages have the same keys and no
empty value.

The merged catalogues are read once and never mutated, so sharing them between sessions is safe.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

LANGS = ("es", "en")
DEFAULT_LANG = "es"
_DIR = Path(__file__).parent


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """All keys of one language, merged from every section file (read-only: do not mutate)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")
    merged: dict[str, str] = {}
    for path in sorted((_DIR / lang).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        dup = set(merged) & set(data)
        if dup:
            raise ValueError(f"duplicate i18n keys in {path.name}: {sorted(dup)[:5]}")
        merged.update(data)
    return merged


def t(key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """Translate ``key`` into ``lang`` and fill ``params``.

    A missing key returns the key itself (visible, but never a crash); a missing parameter
    leaves its placeholder in place.
    """
    template = catalogue(lang if lang in LANGS else DEFAULT_LANG).get(key, key)
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def lang_from_locale(locale: str | None) -> str:
    """Spanish for any ``es``/``es-*`` browser locale, English otherwise."""
    if locale and locale.lower().replace("_", "-").split("-")[0] == "es":
        return "es"
    return "en"
