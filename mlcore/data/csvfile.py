"""Reading real-world CSV files into a typed table, with notes on what was guessed.

``read_csv_bytes(raw, filename) -> CsvTable`` copes with the files students actually bring:

- encoding: UTF-8 (with or without BOM), UTF-16 with BOM (Excel "Unicode text"), else
  Windows-1252 (Spanish Excel on Windows), else charset-normalizer's guess when it is a
  multi-byte encoding, else Latin-1;
- separator: ``,`` ``;`` tab or ``|``, chosen by counting fields on the first lines;
- decimal comma (``1,5``) in files separated by ``;``/tab, with ``.`` as thousands separator;
  the note mentions the thousands separator only when some value used it (``1.234,5``);
- an unnamed leading index column (``,a,b`` header, or pandas' ``Unnamed: 0``) is dropped;
- ``NA``, ``N/A``, ``?``, empty cells and similar markers are missing values;
- a numeric column with a few odd words (``n/a``, ``unknown``) keeps its numbers; the words
  become missing values, with a note naming them;
- date columns (``2024-03-01``, ``01/03/2024`` day first) become ``datetime64`` columns;
- more rows than ``MAX_ROWS``: a seeded random sample of ``MAX_ROWS`` rows, with a note.

Problems raise ``DataError`` with a catalogue key and the facts (line numbers, column names), so
the message says what is wrong and what to do, in either language.

The file is parsed with Python's C ``csv`` module (not ``pandas.read_csv``) so that every row's
field count can be checked and only the kept rows are stored; pandas then holds the columns.
Note for pandas 3: text columns use the ``str`` dtype (missing = NaN), not ``object``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcore.errors import DataError

MAX_UPLOAD_MB = 25  # must equal server.maxUploadSize in .streamlit/config.toml (a test checks it)
MAX_ROWS = 20_000  # larger tables are sampled down (seeded) to keep 30 sessions on 2 cores responsive
SAMPLE_SEED = 0

# Cell values (compared after strip + lower-case) that mean "missing".
NA_MARKERS = frozenset({
    "", "na", "n/a", "nan", "-nan", "null", "none", "?", "#n/a", "#na", "<na>", "nat", "missing",
})
SEPARATORS = (",", ";", "\t", "|")
ODD_VALUES_MAX_FRAC = 0.05  # a numeric column may hold up to 5% odd words (become missing) ...
ODD_VALUES_MAX_DISTINCT = 3  # ... of at most 3 distinct spellings
DATE_MIN_FRAC = 0.95
DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d",
    "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y", "%d.%m.%Y", "%m/%d/%Y",
    "%d/%m/%y", "%m/%d/%y",
)
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)?,\d+$")
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$")
_MULTIBYTE_PREFIXES = ("utf", "gb", "big5", "shift_jis", "euc", "cp932", "cp949", "cp950", "iso2022", "hz")
_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "utf-16": "UTF-16", "cp1252": "Windows-1252",
                   "latin-1": "Latin-1"}


@dataclass
class CsvTable:
    """A parsed CSV: the table plus what was detected and the notes to show the user."""

    df: pd.DataFrame
    filename: str
    encoding: str
    sep: str
    decimal_comma: bool
    n_rows_file: int  # data rows in the file (before sampling)
    digest: str  # sha256 of the bytes (identifies the upload)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        return len(self.df) < self.n_rows_file


# --- bytes -> text --------------------------------------------------------------------------------


def _decode(raw: bytes) -> tuple[str, str]:
    """Return (text, encoding name)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise DataError("err.csv.binary") from None
    if b"\x00" in raw[:65536]:
        raise DataError("err.csv.binary")
    try:
        return raw.decode("utf-8-sig"), ("utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        pass
    # Not Windows-1252 either: ask charset-normalizer, but only trust it for multi-byte encodings.
    # For another single-byte code page its guess on a short file is often a Baltic or Cyrillic
    # page, while our users' files are Western European: Latin-1 decodes every byte and keeps the
    # accents of Spanish text right.
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:200_000]).best()
    if best is not None and best.encoding and best.encoding.lower().startswith(_MULTIBYTE_PREFIXES):
        try:
            return raw.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    return raw.decode("latin-1"), "latin-1"


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    if not sample:
        return False
    odd = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n") or ch == "\ufffd")
    return odd / len(sample) > 0.01


# --- text -> rows ---------------------------------------------------------------------------------


def _sniff_separator(text: str) -> str:
    """The separator giving the most consistent field count (>1) over the first 50 lines."""
    lines = [ln for ln in text[:200_000].splitlines() if ln.strip()][:50]
    best, best_score = ",", (-1.0, 0)
    for sep in SEPARATORS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        except csv.Error:
            continue
        if not counts or counts[0] <= 1:
            continue
        head = counts[0]
        consistent = sum(1 for c in counts if c == head or (c == head + 1)) / len(counts)
        score = (round(consistent, 2), head)
        if score > best_score:
            best, best_score = sep, score
    return best


def _is_blank(row: list[str]) -> bool:
    return not any(row) or not "".join(row).strip()


def _looks_numeric(cell: str) -> bool:
    try:
        float(cell.strip().replace(",", "."))
    except ValueError:
        return False
    return True


def _reader(text: str, sep: str):
    return csv.reader(io.StringIO(text, newline=""), delimiter=sep)


def _malformed(reader, exc: csv.Error) -> DataError:
    return DataError("err.csv.malformed", line=reader.line_num + 1, detail=str(exc))


def _fit_row(row: list[str], width: int) -> list[str] | None:
    """The row with ``width`` fields (a trailing empty field tolerated), or None if ragged."""
    if len(row) == width:
        return row
    if len(row) > width and all(not c.strip() for c in row[width:]):
        return row[:width]
    return None


# --- columns --------------------------------------------------------------------------------------


def _to_numbers(values: pd.Series, decimal_comma: bool) -> pd.Series:
    if decimal_comma:
        values = values.where(~values.str.match(_THOUSANDS_DOT), values.str.replace(".", "", regex=False))
        values = values.str.replace(",", ".", regex=False)
    return pd.to_numeric(values, errors="coerce")


def _as_dates(values: pd.Series) -> pd.Series | None:
    if not values.str.match(_DATE_LIKE).mean() >= DATE_MIN_FRAC:
        return None
    best, best_ok = None, 0
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        ok = int(parsed.notna().sum())
        if ok > best_ok:
            best, best_ok = parsed, ok
    if best is None or best_ok < DATE_MIN_FRAC * len(values):
        return None
    return best


def _convert(col: pd.Series, name: str, allow_decimal_comma: bool,
             notes: list) -> tuple[pd.Series, bool, bool]:
    """Strip cells, mark missing values, and turn numeric/date text into numbers/dates.

    Returns the converted column, whether a decimal comma was used, and whether some number was
    written with a dot as thousands separator (``1.234,5``; only with a decimal comma).
    """
    col = col.str.strip()
    col = col.mask(col.str.lower().isin(NA_MARKERS) | col.isna())
    values = col.dropna()
    if values.empty:
        return col, False, False
    candidates = [(_to_numbers(values, False), False)]
    if allow_decimal_comma and values.str.match(_DECIMAL_COMMA).any():
        candidates.append((_to_numbers(values, True), True))
    numbers, comma = min(candidates, key=lambda c: int(c[0].isna().sum()))
    thousands = bool(comma and values[numbers.notna()].str.match(_THOUSANDS_DOT).any())
    bad = numbers.isna()
    if not bad.any():
        out = _to_numbers(col.fillna(""), comma).where(col.notna())
        return _tidy_numeric(out), comma, thousands
    odd = values[bad]
    if bad.mean() <= ODD_VALUES_MAX_FRAC and odd.nunique() <= ODD_VALUES_MAX_DISTINCT and (~bad).sum() >= 2:
        examples = ", ".join(f"'{v}'" for v in odd.unique()[:3])
        notes.append(("data.note.odd_values",
                      {"column": name, "count": int(bad.sum()), "examples": examples}))
        out = _to_numbers(col.fillna(""), comma).where(col.notna())
        return _tidy_numeric(out), comma, thousands
    dates = _as_dates(values)
    if dates is not None:
        notes.append(("data.note.date_column", {"column": name}))
        full = pd.Series(pd.NaT, index=col.index, dtype="datetime64[ns]")
        full.loc[dates.index] = dates.astype("datetime64[ns]")
        return full, False, False
    return col, False, False


def _tidy_numeric(s: pd.Series) -> pd.Series:
    """int64 when every value is a whole number and none is missing, else float64."""
    s = s.astype("float64")
    finite = s.dropna()
    if len(finite) == len(s) and np.all(np.isfinite(finite)) and np.all(finite == np.round(finite)) \
            and finite.abs().max() < 2**53:
        return s.astype("int64")
    return s


def _check_inf(df: pd.DataFrame, line_of_row: np.ndarray) -> None:
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_float_dtype(s):
            inf = np.isinf(s.to_numpy())
            if inf.any():
                first = int(np.flatnonzero(inf)[0])
                raise DataError("err.csv.inf", column=name, count=int(inf.sum()),
                                line=int(line_of_row[first]))


def _is_index_column(s: pd.Series) -> bool:
    values = s.dropna()
    if len(values) != len(s) or values.empty or not values.is_unique:
        return False
    if pd.api.types.is_integer_dtype(values):
        return bool(np.all(np.diff(values.to_numpy()) > 0))
    return not pd.api.types.is_numeric_dtype(values)


# --- entry point ----------------------------------------------------------------------------------


def read_csv_bytes(raw: bytes, filename: str = "data.csv", *, max_rows: int = MAX_ROWS) -> CsvTable:
    """Parse an uploaded CSV file (bytes) into a ``CsvTable``; raise ``DataError`` on bad files."""
    size_mb = len(raw) / 2**20
    if size_mb > MAX_UPLOAD_MB:
        raise DataError("err.csv.too_big", size_mb=round(size_mb, 1), limit_mb=MAX_UPLOAD_MB)
    if not raw.strip(b" \t\r\n"):
        raise DataError("err.csv.empty", size=len(raw))
    if raw.startswith(_EXCEL_MAGIC):
        raise DataError("err.csv.excel", filename=filename)
    text, encoding = _decode(raw)
    if _looks_binary(text):
        raise DataError("err.csv.binary")
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise DataError("err.csv.empty", size=len(raw))
    notes: list[tuple[str, dict[str, Any]]] = []
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(("data.note.encoding", {"encoding": _ENCODING_NAMES.get(encoding, encoding)}))
    sep = _sniff_separator(text)

    # Pass 1: header, field counts, number of data rows.
    header: list[str] | None = None
    has_header = True
    width = 0
    n_rows = 0
    ragged: list[tuple[int, int]] = []
    reader = _reader(text, sep)  # plain loops over the C reader: this runs once per row of big files
    try:
        for row in reader:
            if _is_blank(row):
                continue
            if header is None:
                header = [cell.strip().lstrip("\ufeff") for cell in row]
                while len(header) > 1 and not header[-1]:  # trailing separator on the header line
                    header.pop()
                width = len(header)
                has_header = not all(_looks_numeric(c) for c in header if c) or not any(header)
                if has_header:
                    continue
            if len(row) != width and _fit_row(row, width) is None:
                ragged.append((reader.line_num, len(row)))
            n_rows += 1
    except csv.Error as exc:
        raise _malformed(reader, exc) from None
    if header is None:
        raise DataError("err.csv.empty", size=len(raw))
    if width < 2:
        raise DataError("err.csv.one_column", column=header[0][:40] if header else "")
    if ragged:
        line, found = ragged[0]
        raise DataError("err.csv.ragged", line=line, expected=width, found=found, n_bad=len(ragged))
    if n_rows == 0:
        raise DataError("err.csv.no_rows", columns=", ".join(h or "?" for h in header[:8]))
    if not has_header:
        notes.append(("data.note.no_header", {"n": width}))
        header = [f"col{i + 1}" for i in range(width)]
    names = [h if h else "" for h in header]
    seen, dups = set(), []
    for name in names:
        if name and name in seen and name not in dups:
            dups.append(name)
        seen.add(name)
    if dups:
        raise DataError("err.csv.duplicate_columns", names=", ".join(f"'{d}'" for d in dups[:5]))

    # Which data rows to keep (seeded sample when the file is too long).
    keep: np.ndarray | None = None
    if n_rows > max_rows:
        keep = np.zeros(n_rows, dtype=bool)
        keep[np.random.default_rng(SAMPLE_SEED).choice(n_rows, size=max_rows, replace=False)] = True
        notes.append(("data.note.sampled", {"n_rows": n_rows, "max_rows": max_rows}))

    # Pass 2: collect the kept rows.
    rows: list[list[str]] = []
    lines: list[int] = []
    i = 0
    first = has_header
    reader = _reader(text, sep)
    for row in reader:  # already parsed once without error
        if _is_blank(row):
            continue
        if first:
            first = False
            continue
        if keep is None or keep[i]:
            rows.append(row if len(row) == width else _fit_row(row, width))
            lines.append(reader.line_num)
        i += 1
    del text
    raw_df = pd.DataFrame(rows, columns=range(width), dtype="str")
    line_of_row = np.asarray(lines)

    allow_comma = sep != ","
    columns: dict[str, pd.Series] = {}
    used_comma = used_thousands = False
    for j, name in enumerate(names):
        col, comma, thousands = _convert(raw_df[j], name or f"col{j + 1}", allow_comma, notes)
        used_comma |= comma
        used_thousands |= thousands
        columns[name if name else f"\x00{j}"] = col
    if used_comma:  # name the thousands separator only when the file really used it
        key = "data.note.decimal_comma_thousands" if used_thousands else "data.note.decimal_comma"
        notes.insert(0, (key, {}))
    df = pd.DataFrame(columns)

    # Unnamed columns: a leading index is dropped; an empty trailing one is dropped; others get a name.
    renames = {}
    for j, name in enumerate(names):
        key = f"\x00{j}"
        if name and not name.startswith("Unnamed:"):
            continue
        key = name if name else key
        if j == 0 and _is_index_column(df[key]):
            df = df.drop(columns=key)
            notes.append(("data.note.index_dropped", {}))
        elif df[key].isna().all():
            df = df.drop(columns=key)
        else:
            renames[key] = f"col{j + 1}"
    df = df.rename(columns=renames)

    empty_rows = df.isna().all(axis=1).to_numpy()
    if empty_rows.any():
        df = df.loc[~empty_rows]
        line_of_row = line_of_row[~empty_rows]
        notes.append(("data.note.empty_rows", {"count": int(empty_rows.sum())}))
        if df.empty:
            raise DataError("err.csv.no_rows", columns=", ".join(str(c) for c in df.columns[:8]))
    _check_inf(df, line_of_row)
    df = df.reset_index(drop=True)
    return CsvTable(
        df=df, filename=filename, encoding=_ENCODING_NAMES.get(encoding, encoding), sep=sep,
        decimal_comma=used_comma, n_rows_file=n_rows, digest=hashlib.sha256(raw).hexdigest(), notes=notes,
    )
