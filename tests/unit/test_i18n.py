"""The es/en catalogues agree with each other and with every key the code asks for.

Keys used in code are found with ``ast`` (string-literal first arguments of ``tr``/``t``/
``page_header`` and of ``...Error("err.…")`` constructors), which is more precise than a regex:
it ignores comments and docstrings and sees ``key=`` keyword arguments too. Keys built at run
time (f-strings) are checked where their parts are known: page titles and descriptions from
``ui.nav.PAGES`` and ``task.<value>`` for every ``Task``.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from mlcore.i18n import LANGS, catalogue, lang_from_locale, t

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "mlcore" / "i18n"
SOURCE_DIRS = ("pages", "ui", "mlcore")  # plus the folders of the files in ui.nav.PAGES
TRANSLATE_FUNCS = {"t", "tr"}
HEADER_FUNCS = {"page_header"}  # every string-literal positional argument is a key
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[!:][^{}]*)?\}")
ERR_KEY = re.compile(r"^err(\.[a-z0-9_]+)+$")


def _section_files(lang: str) -> dict[str, dict[str, str]]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((I18N / lang).glob("*.json"))
    }


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _source_files() -> list[Path]:
    from ui.nav import PAGES

    files: list[Path] = [ROOT / "app.py"]
    dirs = dict.fromkeys([*SOURCE_DIRS, *(Path(spec.path).parent.as_posix() for spec in PAGES)])
    for d in dirs:
        files.extend(sorted((ROOT / d).rglob("*.py")))
    return sorted({f for f in files if f.exists()})


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal_keys_in(path: Path) -> list[tuple[str, int, str]]:
    """(kind, line, key) for every literal catalogue key used in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name is None:
            continue
        args = list(node.args)
        key_kw = [k.value for k in node.keywords if k.arg == "key"]
        if name in TRANSLATE_FUNCS:
            first = args[0] if args else (key_kw[0] if key_kw else None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(("translate", node.lineno, first.value))
        elif name in HEADER_FUNCS:
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append(("header", node.lineno, arg.value))
        elif name.endswith("Error"):
            first = args[0] if args else (key_kw[0] if key_kw else None)
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.startswith("err.")
            ):
                found.append(("error", node.lineno, first.value))
    # Any other literal that looks like an error key (e.g. kept in a table) must exist as well.
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and ERR_KEY.match(node.value):
            found.append(("err-literal", node.lineno, node.value))
    return found


# --- the catalogues themselves ---------------------------------------------------------------


def test_both_languages_have_the_same_section_files():
    es, en = _section_files("es"), _section_files("en")
    assert sorted(es) == sorted(en), "every section file needs an es and an en version"
    assert es, "no catalogue files found"


@pytest.mark.parametrize("section", sorted(p.name for p in (I18N / "es").glob("*.json")))
def test_section_files_have_the_same_keys(section):
    es = _section_files("es").get(section, {})
    en = _section_files("en").get(section, {})
    only_es, only_en = sorted(set(es) - set(en)), sorted(set(en) - set(es))
    assert not only_es and not only_en, f"{section}: only in es {only_es[:10]}, only in en {only_en[:10]}"


def test_merged_catalogues_have_the_same_keys():
    es, en = catalogue("es"), catalogue("en")
    assert set(es) == set(en)
    assert len(es) > 10


@pytest.mark.parametrize("lang", LANGS)
def test_no_empty_values(lang):
    empty = sorted(k for k, v in catalogue(lang).items() if not isinstance(v, str) or not v.strip())
    assert not empty, f"{lang}: empty or non-string values for {empty[:10]}"


def test_same_placeholders_in_both_languages():
    es, en = catalogue("es"), catalogue("en")
    mismatched = {
        k: (sorted(_placeholders(es[k])), sorted(_placeholders(en[k])))
        for k in es
        if k in en and _placeholders(es[k]) != _placeholders(en[k])
    }
    assert not mismatched, f"placeholders differ (es, en): {dict(list(mismatched.items())[:10])}"


def _translate_calls_with_params() -> list[tuple[str, int, str, set[str]]]:
    """(file, line, key, parameter names) for ``tr("key", a=..., b=...)`` calls with literal keys.

    Calls that pass ``**params`` are left out: their names are not known statically.
    """
    calls = []
    for path in _source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _call_name(node) in TRANSLATE_FUNCS and node.args):
                continue
            first = node.args[0]
            names = {k.arg for k in node.keywords}
            if None in names or not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            names.discard("lang")
            if names:
                calls.append((path.relative_to(ROOT).as_posix(), node.lineno, first.value, names))
    return calls


@pytest.mark.parametrize("lang", LANGS)
def test_parametrised_templates_format_with_the_parameters_the_code_passes(lang):
    """``tr(key, n=3)`` must fill every placeholder: otherwise ``t`` shows the raw ``{...}`` text.

    (LaTeX such as ``w_{k+1}`` is fine in templates that the code never formats.)
    """
    cat = catalogue(lang)
    broken = []
    for rel, line, key, names in _translate_calls_with_params():
        if key not in cat:
            continue  # reported by test_every_literal_key_used_in_code_exists
        try:
            cat[key].format(**{n: "X" for n in names})
        except (KeyError, IndexError, ValueError) as exc:
            broken.append(f"{rel}:{line} {key}: {exc!r} (passed {sorted(names)})")
    assert not broken, f"{lang}:\n" + "\n".join(broken)


def test_lookup_fills_parameters_and_falls_back_to_the_key():
    es = t("sidebar.data_summary", "es", name="moons", rows=500, features=2, task="x", train=1, val=2, test=3)
    en = t("sidebar.data_summary", "en", name="moons", rows=500, features=2, task="x", train=1, val=2, test=3)
    assert "moons" in es and "500" in es and "moons" in en and es != en
    assert t("no.such.key", "en") == "no.such.key"


# --- keys the code uses ----------------------------------------------------------------------


def _all_used_keys() -> list[tuple[str, str, int, str]]:
    used, seen = [], set()
    for path in _source_files():
        rel = path.relative_to(ROOT).as_posix()
        for kind, line, key in sorted(_literal_keys_in(path), key=lambda x: (x[1], x[0] == "err-literal")):
            if (rel, key) not in seen:  # report each key once per file, at its first use
                seen.add((rel, key))
                used.append((rel, kind, line, key))
    return used


def test_source_scan_finds_keys():
    """Guard the scanner itself: it must see the keys that app.py and the home page use."""
    keys = {key for _, _, _, key in _all_used_keys()}
    assert {"home.title", "err.unexpected", "sidebar.no_data"} <= keys
    with_params = {key: names for _, _, key, names in _translate_calls_with_params()}
    assert {"name", "rows", "task"} <= with_params.get("sidebar.data_summary", set())


def test_every_literal_key_used_in_code_exists():
    known = set(catalogue("es")) & set(catalogue("en"))
    missing = sorted(
        f"{rel}:{line} {key!r} ({kind})" for rel, kind, line, key in _all_used_keys() if key not in known
    )
    assert not missing, "keys used in code but missing from a catalogue:\n" + "\n".join(missing)


def test_every_page_has_a_title_and_description():
    from ui.nav import PAGES

    known = set(catalogue("es")) & set(catalogue("en"))
    missing = [k for spec in PAGES for k in (spec.title_key, f"{spec.title_key}.desc") if k not in known]
    assert not missing


def test_nav_sections_are_translated():
    from ui.nav import SECTIONS

    known = set(catalogue("es")) & set(catalogue("en"))
    assert all(f"nav.section.{s}" in known for s in SECTIONS if s != "home")


def test_every_task_has_a_name():
    from mlcore.config import Task

    known = set(catalogue("es")) & set(catalogue("en"))
    assert all(f"task.{task.value}" in known for task in Task)


# --- default language from the browser -------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("es-ES", "es"), ("es", "es"), ("es_MX", "es"), ("ES-es", "es"), ("en-US", "en"), (None, "en"),
     ("", "en"), ("fr", "en"), ("fr-FR", "en"), ("est", "en")],
)
def test_lang_from_locale(locale, expected):
    assert lang_from_locale(locale) == expected
