"""CSV reading: encodings, separators, decimal comma, index/NA/date handling, sampling, and one
typed error (with its key and English text) for each kind of bad file."""

from __future__ import annotations

import codecs
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcore.data import MAX_ROWS, MAX_UPLOAD_MB, infer_columns, read_csv_bytes
from mlcore.errors import DataError
from mlcore.i18n import t
from tests.fixtures.make_fixtures import BAD_FILES, GOOD_FILES, big_csv

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "csv"


def good(name: str):
    return read_csv_bytes((FIXTURES / "good" / name).read_bytes(), name)


def kinds(df: pd.DataFrame) -> dict[str, str]:
    return {c.name: c.kind for c in infer_columns(df)}


def test_committed_fixtures_match_the_generator():
    """The small fixture files are exactly what ``make_fixtures.py`` writes (no hand edits)."""
    for folder, files in (("good", GOOD_FILES), ("bad", BAD_FILES)):
        for name, make in files.items():
            assert (FIXTURES / folder / name).read_bytes() == make(), name


def test_max_upload_equals_the_streamlit_server_setting():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB == 25


# --- good files ---------------------------------------------------------------------------------


def test_spanish_excel_cp1252_semicolon_decimal_comma():
    table = good("spanish_excel.csv")
    df = table.df
    assert table.encoding == "Windows-1252" and table.sep == ";" and table.decimal_comma
    assert list(df.columns) == ["Año", "Ciudad", "Categoría", "Precio (€)", "Superficie m²", "Vendido"]
    assert df.shape == (40, 6)
    assert df["Año"].dtype == np.int64 and df["Año"].tolist()[:3] == [2015, 2016, 2017]
    assert df["Precio (€)"].dtype == np.float64
    # "800,00", "837,25" and "2.374,50" (thousands dot): first rows of the generator
    assert df["Precio (€)"].tolist()[:3] == [800.0, 837.25, 2374.5]
    assert df["Superficie m²"].iloc[0] == 87.5
    assert set(df["Ciudad"]) == {"Jaén", "Málaga", "Córdoba", "Almería"}
    assert set(df["Vendido"]) == {"sí", "no"}
    assert pd.api.types.is_string_dtype(df["Ciudad"])
    keys = [k for k, _ in table.notes]
    # "2.374,50" uses the dot as thousands separator, so the note says so
    assert "data.note.decimal_comma_thousands" in keys and "data.note.encoding" in keys
    assert "data.note.decimal_comma" not in keys
    assert kinds(df) == {"Año": "numeric", "Ciudad": "categorical", "Categoría": "categorical",
                         "Precio (€)": "numeric", "Superficie m²": "numeric", "Vendido": "categorical"}


def test_bom_and_crlf():
    table = good("bom_crlf.csv")
    assert table.encoding == "UTF-8 (BOM)" and table.sep == ","
    assert list(table.df.columns) == ["temperatura", "presión", "lluvia"]  # no BOM left in the first name
    assert table.df.dtypes.tolist() == [np.float64, np.float64, np.int64]
    assert table.df.shape == (30, 3) and table.notes == []


def test_na_markers_become_missing():
    table = good("na_heavy.csv")
    df = table.df
    assert df["altura"].dtype == np.float64 and df["peso"].dtype == np.float64
    # row 0 is NA/""/?/NA in every column: removed as an empty row, with a note
    assert table.n_rows_file == 60 and len(df) == 59
    assert ("data.note.empty_rows", {"count": 1}) in table.notes
    # the generator puts a marker in altura when i % 3 == 0 (i = 3..57 after the empty row 0)
    assert int(df["altura"].isna().sum()) == len([i for i in range(1, 60) if i % 3 == 0])
    assert int(df["color"].isna().sum()) == len([i for i in range(1, 60) if i % 5 == 0])
    assert set(df["color"].dropna()) == {"rojo", "verde", "azul"}
    assert int(df["objetivo"].isna().sum()) == len([i for i in range(1, 60) if i % 17 == 0])


def test_string_target_and_categorical_columns_keep_text():
    table = good("categorical_heavy.csv")
    assert kinds(table.df) == {"zona": "categorical", "grupo": "categorical", "nivel": "categorical",
                               "socio": "categorical", "edad": "numeric", "resultado": "categorical"}
    assert table.df["socio"].tolist()[:2] == ["sí", "sí"]


def test_unnamed_leading_index_is_dropped():
    table = good("index_column.csv")
    assert list(table.df.columns) == ["x1", "x2", "clase"]
    assert ("data.note.index_dropped", {}) in table.notes


def test_dates_are_recognised_day_first():
    table = good("dates.csv")
    df = table.df
    assert pd.api.types.is_datetime64_any_dtype(df["fecha"])
    assert df["fecha"].iloc[12] == pd.Timestamp("2023-01-13")  # "13/01/2023": day first
    assert ("data.note.date_column", {"column": "fecha"}) in table.notes
    assert kinds(df)["fecha"] == "date"


def test_tab_separated():
    table = good("tabs.tsv")
    assert table.sep == "\t" and list(table.df.columns) == ["a", "b", "y"]
    assert table.df.dtypes.tolist() == [np.float64] * 3


def test_id_and_constant_columns_are_flagged():
    table = good("id_constant.csv")
    assert kinds(table.df) == {"id": "id", "medida": "numeric", "constante": "constant",
                               "clase": "categorical"}
    info = {c.name: c for c in infer_columns(table.df)}
    assert info["id"].unique == 30 and info["constante"].unique == 1 and info["medida"].missing == 0


def test_utf16_with_bom_excel_unicode_text():
    raw = codecs.BOM_UTF16_LE + "año\tvalor\ty\n2020\t1.5\t0\n2021\t2.5\t1\n".encode("utf-16-le")
    table = read_csv_bytes(raw, "unicode.txt")
    assert table.encoding == "UTF-16" and table.sep == "\t"
    assert table.df["valor"].tolist() == [1.5, 2.5]


def test_headerless_numeric_file_gets_column_names():
    table = read_csv_bytes(b"1,2,0\n3,4,1\n5,6,0\n", "numbers.csv")
    assert list(table.df.columns) == ["col1", "col2", "col3"]
    assert table.df.shape == (3, 3)
    assert ("data.note.no_header", {"n": 3}) in table.notes


def test_quoted_fields_and_trailing_separators():
    raw = b'nombre;nota;y;\n"P\xc3\xa9rez; Ana";7,5;1;\n"Ruiz, Luis";6;0;\n'
    table = read_csv_bytes(raw, "notas.csv")
    assert list(table.df.columns) == ["nombre", "nota", "y"]
    assert table.df["nombre"].tolist() == ["Pérez; Ana", "Ruiz, Luis"]
    assert table.df["nota"].tolist() == [7.5, 6.0]


def test_decimal_comma_is_not_guessed_in_comma_separated_files():
    table = read_csv_bytes(b'a,b,y\n"1,5",2,0\n"2,5",3,1\n', "x.csv")
    assert pd.api.types.is_string_dtype(table.df["a"])  # "1,5" stays text: ambiguous with a comma separator
    assert not table.decimal_comma


def _spanish_export(amounts: list[str]) -> bytes:
    """A Spanish spreadsheet export: ';' separator, decimal comma, Windows-1252."""
    lines = ["edad;ingresos_€;región;compró"]
    lines += [f"{20 + i};{amount};{'Málaga' if i % 2 else 'Jaén'};{'sí' if i % 3 else 'no'}"
              for i, amount in enumerate(amounts)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def test_decimal_comma_note_mentions_thousands_only_when_the_file_uses_them():
    plain = read_csv_bytes(_spanish_export([f"{900 + i},5" for i in range(30)]), "sin_miles.csv")
    assert plain.df["ingresos_€"].tolist()[:2] == [900.5, 901.5]
    keys = [k for k, _ in plain.notes]
    assert keys[0] == "data.note.decimal_comma" and "data.note.decimal_comma_thousands" not in keys
    for lang, word in (("es", "miles"), ("en", "thousands")):
        assert word not in t("data.note.decimal_comma", lang)
        assert word in t("data.note.decimal_comma_thousands", lang)

    amounts = [f"{900 + i},5" for i in range(29)] + ["1.234,75"]
    grouped = read_csv_bytes(_spanish_export(amounts), "con_miles.csv")
    assert grouped.df["ingresos_€"].tolist()[-1] == 1234.75
    keys = [k for k, _ in grouped.notes]
    assert keys[0] == "data.note.decimal_comma_thousands" and "data.note.decimal_comma" not in keys


def test_a_few_odd_words_in_a_numeric_column_become_missing_with_a_note():
    rows = "\n".join(f"{i}.5,{i % 2}" for i in range(40))
    raw = ("precio,y\n" + rows + "\nsin dato,1\n").encode()
    table = read_csv_bytes(raw, "precios.csv")
    assert table.df["precio"].dtype == np.float64
    assert int(table.df["precio"].isna().sum()) == 1
    assert ("data.note.odd_values", {"column": "precio", "count": 1, "examples": "'sin dato'"}) in table.notes


def test_many_words_keep_a_column_categorical():
    raw = ("talla,y\n" + "\n".join(["1,0", "2,1", "S,0", "M,1", "L,0", "XL,1"] * 3) + "\n").encode()
    assert pd.api.types.is_string_dtype(read_csv_bytes(raw, "t.csv").df["talla"])


def test_latin1_bytes_outside_cp1252_still_decode():
    raw = "ciudad;y\nJa\xe9n;1\nC\xe1diz;0\n".encode("latin-1") + b"x\x81y;1\n"
    table = read_csv_bytes(raw, "l.csv")
    assert table.df["ciudad"].tolist()[:2] == ["Jaén", "Cádiz"]


def test_large_file_is_sampled_down_with_a_note(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(big_csv(50_000))
    raw = path.read_bytes()
    table = read_csv_bytes(raw, "big.csv")
    assert len(table.df) == MAX_ROWS == 20_000
    assert table.n_rows_file == 50_000 and table.sampled
    assert ("data.note.sampled", {"n_rows": 50_000, "max_rows": MAX_ROWS}) in table.notes
    # the sample is seeded: reading the same bytes again keeps the same rows
    again = read_csv_bytes(raw, "big.csv")
    pd.testing.assert_frame_equal(table.df, again.df)
    # and it is a sample of the file's rows, kept in file order
    full = pd.read_csv(path)
    merged = table.df.merge(full.reset_index(), on=["f1", "f2", "f3", "y"], how="left")
    assert merged["index"].notna().all() and merged["index"].is_monotonic_increasing
    assert abs(table.df["y"].mean() - full["y"].mean()) < 0.02


def test_small_max_rows_argument():
    raw = b"a,b\n" + b"".join(f"{i},{i % 2}\n".encode() for i in range(30))
    table = read_csv_bytes(raw, "s.csv", max_rows=10)
    assert len(table.df) == 10 and table.n_rows_file == 30


# --- bad files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key", "english"),
    [
        ("empty.csv", "err.csv.empty", r"The file is empty \(0 bytes\)"),
        ("blank_lines.csv", "err.csv.empty", r"The file is empty"),
        ("header_only.csv", "err.csv.no_rows", r"only has the header \(a, b, c\) and no data rows"),
        ("binary.csv", "err.csv.binary", r"not text: it looks binary"),
        ("excel.csv", "err.csv.excel", r"'excel.csv' is an Excel workbook.*Save as"),
        ("ragged.csv", "err.csv.ragged",
         r"Line 4 has 4 fields but the header has 3 \(lines with another number of fields: 1\)"),
        ("duplicate_columns.csv", "err.csv.duplicate_columns", r"Some columns share a name: 'a'"),
        ("inf.csv", "err.csv.inf", r"Column 'a' has 1 infinite values \(the first on line 3\)"),
        ("one_column.csv", "err.csv.one_column", r"Only one column was found \('valor'\)"),
    ],
)
def test_bad_files_raise_a_specific_error(name, key, english):
    raw = (FIXTURES / "bad" / name).read_bytes()
    with pytest.raises(DataError, match=english) as info:
        read_csv_bytes(raw, name)
    assert info.value.key == key
    spanish = info.value.message("es")
    assert spanish != str(info.value) and "{" not in spanish


def test_file_over_the_upload_limit():
    raw = b"a,b\n" + b"1,2\n" * ((MAX_UPLOAD_MB * 2**20) // 4 + 10)
    with pytest.raises(DataError, match=r"The file is 25.0 MB and the limit is 25 MB") as info:
        read_csv_bytes(raw, "huge.csv")
    assert info.value.key == "err.csv.too_big"


def test_unclosed_quote_is_ragged_or_malformed_never_a_crash():
    raw = b'a,b,c\n1,"oops,3\n4,5,6\n'
    with pytest.raises(DataError) as info:
        read_csv_bytes(raw, "q.csv")
    assert info.value.key in {"err.csv.ragged", "err.csv.malformed", "err.csv.no_rows"}


def test_every_error_message_exists_in_both_languages():
    for key in ("err.csv.empty", "err.csv.no_rows", "err.csv.binary", "err.csv.ragged", "err.csv.inf",
                "err.csv.duplicate_columns", "err.csv.too_big", "err.csv.excel", "err.csv.one_column"):
        assert t(key, "es") != key and t(key, "en") != key and t(key, "es") != t(key, "en")
