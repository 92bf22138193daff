"""The Data page through Streamlit's AppTest: built-in loading, CSV upload, errors that keep the
current dataset, and widget values that survive a page switch."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcore.config import Task
from mlcore.i18n import LANGS, t
from tests.app.conftest import make_app

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "csv"
PAGE = "pages/data.py"


def fixture(folder: str, name: str) -> tuple[str, bytes, str]:
    return (name, (FIXTURES / folder / name).read_bytes(), "text/csv")


def errors(at) -> list[str]:
    return [e.value for e in at.error]


@pytest.mark.parametrize("lang", LANGS)
def test_page_renders_and_loads_a_builtin(lang):
    at = make_app(lang, PAGE)
    assert not at.exception
    assert at.title[0].value == t("data.title", lang)
    assert t("data.none", lang) in [i.value for i in at.info]
    at.selectbox(key="data_builtin").set_value("blobs").run()
    at.slider(key="data_n_classes").set_value(4).run()
    at.slider(key="data_n_samples").set_value(200).run()
    at.button(key="data_load").click().run()
    assert not at.exception and not errors(at)
    data = at.session_state["data"]
    assert data.name == "blobs" and data.n_rows == 200
    assert data.n_classes == 4 and data.task is Task.MULTICLASS
    assert at.session_state["data_source"]["n_classes"] == 4
    assert t("data.loaded", lang, name="blobs", rows=200, features=2) in [s.value for s in at.success]
    assert [m.label for m in at.metric] == [t(f"data.counts.{s}", lang) for s in ("train", "val", "test")]


def test_digits_show_the_image_grid_and_controls_that_do_not_apply_are_hidden():
    at = make_app("en", PAGE)
    at.selectbox(key="data_builtin").set_value("digits").run()
    keys = {s.key for s in at.slider}
    assert "data_noise" not in keys and "data_n_samples" not in keys
    at.button(key="data_load").click().run()
    assert not at.exception
    assert at.session_state["data"].image_shape == (8, 8)
    assert t("data.digits", "en") in [tab.label for tab in at.tabs]


def test_only_the_open_tab_is_drawn_and_it_stays_open_for_the_next_dataset():
    at = make_app("en", PAGE)
    at.button(key="data_load").click().run()
    assert at.session_state["data"].task.is_classification and at.session_state["data"].image_shape is None
    # the column table's tab is open: no figure is built for the tabs behind it
    assert len(at.dataframe) == 1 and not at.get("plotly_chart")
    at.session_state["data_tab4c_en"] = t("data.view", "en")  # a click on "2-D view"
    at.run()
    assert not at.exception
    assert [c.proto.id for c in at.get("plotly_chart")] and not at.dataframe
    assert any("data_fig_view" in c.proto.id for c in at.get("plotly_chart"))
    at.button(key="data_load").click().run()  # load again: the same tab is still the open one
    assert any("data_fig_view" in c.proto.id for c in at.get("plotly_chart")) and not at.dataframe


@pytest.mark.parametrize("lang", LANGS)
def test_upload_good_csv_then_a_bad_one_keeps_the_dataset(lang):
    at = make_app(lang, PAGE)
    at.radio(key="data_source_kind").set_value("upload").run()
    assert t("data.upload.hint", lang) in [i.value for i in at.info]
    at.file_uploader(key="data_upload").set_value(fixture("good", "spanish_excel.csv")).run()
    assert not at.exception and not errors(at)
    # sensible defaults: last column is the target, every other usable column a feature
    assert at.selectbox(key="data_target").value == "Vendido"
    features = at.multiselect(key="data_features").value
    assert features == ["Año", "Ciudad", "Categoría", "Precio (€)", "Superficie m²"]
    at.button(key="data_apply").click().run()
    assert not at.exception and not errors(at)
    good = at.session_state["data"]
    assert good.name == "spanish_excel" and good.class_names == ["no", "sí"]
    infos = [i.value for i in at.info]
    assert t("data.note.decimal_comma_thousands", lang) in infos  # the reading notes are shown ("2.374,50")

    at.file_uploader(key="data_upload").set_value(fixture("bad", "ragged.csv")).run()
    assert not at.exception
    expected = t("err.csv.ragged", lang, line=4, expected=3, found=4, n_bad=1)
    assert expected in errors(at)
    kept = at.session_state["data"]
    assert kept.name == "spanish_excel" and kept.source == good.source
    assert (kept.X_train == good.X_train).all()


def test_bad_choice_shows_a_translated_error_and_keeps_the_previous_dataset():
    at = make_app("es", PAGE)
    at.button(key="data_load").click().run()
    assert at.session_state["data"].name == "moons"
    at.radio(key="data_source_kind").set_value("upload").run()
    at.file_uploader(key="data_upload").set_value(fixture("bad", "single_class.csv")).run()
    assert not at.exception and not errors(at)  # the file itself reads fine
    at.button(key="data_apply").click().run()
    assert not at.exception
    assert t("err.data.single_class", "es", target="clase", value="si") in errors(at)
    assert at.session_state["data"].name == "moons"


def test_empty_feature_choice_is_an_error_not_a_crash():
    at = make_app("en", PAGE)
    at.radio(key="data_source_kind").set_value("upload").run()
    at.file_uploader(key="data_upload").set_value(fixture("good", "string_target.csv")).run()
    at.multiselect(key="data_features").set_value([]).run()
    at.button(key="data_apply").click().run()
    assert not at.exception
    assert t("err.data.no_features", "en", target="especie") in errors(at)
    assert at.session_state["data"] is None


def test_choices_survive_a_page_switch():
    at = make_app("en", PAGE)
    at.selectbox(key="data_builtin").set_value("spiral").run()
    at.select_slider(key="data_noise").set_value(0.35).run()
    at.select_slider(key="data_val_frac").set_value(0.3).run()
    at.button(key="data_load").click().run()
    assert at.session_state["data"].name == "spiral"
    at.switch_page("pages/home.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="data_builtin").value == "spiral"
    assert at.select_slider(key="data_noise").value == pytest.approx(0.35)
    assert at.select_slider(key="data_val_frac").value == pytest.approx(0.3)


def test_uploaded_table_survives_a_page_switch():
    at = make_app("en", PAGE)
    at.radio(key="data_source_kind").set_value("upload").run()
    at.file_uploader(key="data_upload").set_value(fixture("good", "dates.csv")).run()
    at.checkbox(key="data_date_parts").check().run()
    at.button(key="data_apply").click().run()
    assert at.session_state["data"].raw_feature_names[:2] == ["fecha_year", "fecha_month"]
    at.switch_page("pages/home.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.radio(key="data_source_kind").value == "upload"
    captions = [c.value for c in at.caption]
    assert t("data.upload.kept", "en", filename="dates.csv", rows=30, cols=3) in captions
    assert at.checkbox(key="data_date_parts").value is True  # re-derived from the dataset's source
    assert at.selectbox(key="data_target").value == "demanda"


def test_breast_cancer_classes_are_named_in_spanish():
    import json

    at = make_app("es", PAGE)
    at.selectbox(key="data_builtin").set_value("breast_cancer").run()
    at.button(key="data_load").click().run()
    assert not at.exception and not errors(at)
    at.session_state["data_tab4c_es"] = t("data.balance", "es")
    at.run()
    spec = json.loads(next(c for c in at.get("plotly_chart") if "data_fig_balance" in c.proto.id).proto.spec)
    assert spec["data"][0]["x"] == ["maligno", "benigno"], spec["data"][0]["x"]
    at.session_state["data_tab4c_es"] = t("data.preview", "es")
    at.run()
    assert set(at.dataframe[0].value["diagnosis"]) <= {"maligno", "benigno"}
    at.session_state["data_tab4c_es"] = t("data.view", "es")
    at.run()
    spec = json.loads(next(c for c in at.get("plotly_chart") if "data_fig_view" in c.proto.id).proto.spec)
    names = " ".join(str(tr.get("name", "")) for tr in spec["data"])
    assert "maligno" in names and "malignant" not in names, names


def test_the_projector_view_draws_figures_with_larger_fonts():
    import json

    def balance_spec(at):
        return json.loads(next(c for c in at.get("plotly_chart") if "data_fig_balance" in c.proto.id).proto.spec)

    at = make_app("en", PAGE)
    at.button(key="data_load").click().run()
    at.session_state["data_tab4c_en"] = t("data.balance", "en")
    at.run()
    plain = balance_spec(at)
    at.session_state["projector"] = True
    at.run()
    assert not at.exception
    big = balance_spec(at)
    assert big["layout"]["font"]["size"] == 1.25 * plain["layout"]["font"]["size"]
    assert big["layout"]["xaxis"]["tickfont"]["size"] == 1.25 * plain["layout"]["xaxis"]["tickfont"]["size"]
    assert big["layout"]["height"] == round(1.25 * plain["layout"]["height"])
    assert big["data"][0]["y"] == plain["data"][0]["y"]


def _spanish_export(n: int, names: bool = False) -> tuple[str, bytes, str]:
    """The QA's file: Spanish spreadsheet export (';', decimal comma without thousands, cp1252)."""
    header = "edad;ingresos_€;región;compró" + (";nombre" if names else "")
    regions = ("Andalucía", "Aragón", "Cataluña", "Galicia")
    rows = [f"{18 + (7 * i) % 60};{800 + (37 * i) % 900},{i % 100:02d};{regions[i % 4]};"
            f"{'sí' if i % 3 else 'no'}" + (f";Persona {i:03d}" if names else "") for i in range(n)]
    return "ventas.csv", ("\r\n".join([header, *rows]) + "\r\n").encode("cp1252"), "text/csv"


def column_table(at, lang: str):
    """The 'what was done to each column' table, as {column: row}."""
    frame = next(d.value for d in at.dataframe if t("data.col.action", lang) in d.value.columns)
    return {row[t("data.col.name", lang)]: row for _, row in frame.iterrows()}


@pytest.mark.parametrize("lang", LANGS)
def test_spanish_export_reports_standardised_numbers_and_only_the_decimal_comma(lang):
    at = make_app(lang, PAGE)
    at.radio(key="data_source_kind").set_value("upload").run()
    at.file_uploader(key="data_upload").set_value(_spanish_export(200)).run()
    assert at.selectbox(key="data_target").value == "compró"
    at.button(key="data_apply").click().run()
    assert not at.exception and not errors(at)
    infos = [i.value for i in at.info]
    assert t("data.note.decimal_comma", lang) in infos  # no thousands separator in this file
    assert t("data.note.decimal_comma_thousands", lang) not in infos
    rows = column_table(at, lang)
    action, scaled = t("data.col.action", lang), t("data.col.scaled", lang)
    for col in ("edad", "ingresos_€"):
        assert rows[col][action] == t("data.action.number_scaled", lang) and bool(rows[col][scaled])

    at.toggle(key="data_scale").set_value(False).run()
    at.button(key="data_apply").click().run()
    assert not at.exception and not errors(at)
    rows = column_table(at, lang)
    for col in ("edad", "ingresos_€"):
        assert rows[col][action] == t("data.action.number", lang) and not bool(rows[col][scaled])


@pytest.mark.parametrize("lang", LANGS)
def test_an_identifier_added_to_the_features_is_noted_in_the_column_table(lang):
    at = make_app(lang, PAGE)
    at.radio(key="data_source_kind").set_value("upload").run()
    at.file_uploader(key="data_upload").set_value(_spanish_export(120, names=True)).run()
    at.selectbox(key="data_target").set_value("compró").run()
    features = at.multiselect(key="data_features").value
    assert "nombre" not in features  # detected as an identifier and left out by default
    at.multiselect(key="data_features").set_value([*features, "nombre"]).run()
    at.button(key="data_apply").click().run()
    assert not at.exception and not errors(at)
    data = at.session_state["data"]
    assert data.n_features == 2 + 4 + 20  # edad, ingresos_€, 4 regions, 20 one-hot columns for nombre
    row = column_table(at, lang)["nombre"]
    assert row[t("data.col.onehot", lang)] == "20"
    note = row[t("data.col.note", lang)]
    # 72 training rows (120 less 20% test and 20% validation): 19 names keep a column, 53 are merged
    assert note == (t("data.note.id_feature", lang, unique=120, rows=120) + " "
                    + t("data.note.infrequent", lang, merged=53, distinct=72, cap=20,
                        feature="nombre_infrequent_sklearn"))
    assert "nombre_infrequent_sklearn" in data.feature_names
    # and in full below the table (a table cell cuts a long note off)
    lines = [line for m in at.markdown for line in m.value.splitlines()]
    assert f"- **nombre**: {note}" in lines


@pytest.mark.parametrize("lang", ["es", "en"])
def test_figures_format_numbers_and_dates_in_the_page_s_language(lang):
    import json

    from mlcore.plots.style import PLOTLY_LOCALES

    at = make_app(lang, PAGE)
    at.button(key="data_load").click().run()
    at.session_state[f"data_tab4c_{lang}"] = t("data.balance", lang)
    at.run()
    chart = next(c for c in at.get("plotly_chart") if "data_fig_balance" in c.proto.id)
    config = json.loads(chart.proto.config)
    if lang == "es":  # plotly.js draws 0,5 and "3 dic 2026"
        assert config["locale"] == "mlp-es"
        fmt = config["locales"]["mlp-es"]["format"]
        assert (fmt["decimal"], fmt["thousands"]) == (",", ".") and fmt["shortMonths"][11] == "dic"
        assert fmt == PLOTLY_LOCALES["es"]["format"]
    else:  # plotly.js's own English
        assert "locale" not in config and "locales" not in config


def test_a_seeded_value_off_the_slider_grid_comes_back_at_the_nearest_step_not_the_minimum():
    """A share link or an old session can hold noise 0.33 or a validation share of 0.33: the
    sliders (steps of 0.05, with the language's decimal mark) show and load 0.35, not their
    first value (a select slider falls back to it for a value it does not offer)."""
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "es"
    at.session_state["data_noise"] = 0.33
    at.session_state["data_val_frac"] = 0.33
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.select_slider(key="data_noise").value == 0.35 and at.select_slider(key="data_val_frac").value == 0.35
    assert "0,35" in at.select_slider(key="data_noise").options
