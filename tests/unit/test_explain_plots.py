"""The Explain page's figure records: what is drawn, checked against hand-computed values."""

from __future__ import annotations

import numpy as np

from mlcore.plots import explain as plots


def test_bar_record_orders_by_mean_absolute_value():
    values = np.array([[1.0, -3.0, 0.5], [-1.0, 1.0, 0.5]])
    rec = plots.bar_record(values, ["a", "b", "c"], top=2)
    assert rec.features == ("b", "a") and rec.values == (2.0, 1.0)
    fig = plots.bar_figure(rec, "mean |SHAP|")
    assert list(fig.data[0].y) == ["a", "b"]  # largest at the top of a horizontal bar chart


def test_waterfall_record_adds_up_to_the_output():
    values = np.array([0.5, -2.0, 0.1, 0.3])
    rec = plots.waterfall_record(values, 1.0, ["a", "b", "c", "d", "others"], top=2)
    assert rec.labels == ("b", "a", "others")
    assert rec.contributions == (-2.0, 0.5, 0.4)
    assert np.isclose(rec.base + sum(rec.contributions), rec.output) and np.isclose(rec.output, -0.1)
    fig = plots.waterfall_figure(rec, "E[f(x)]", "f(x)")
    assert list(fig.data[0].measure) == ["absolute", "relative", "relative", "relative", "total"]


def test_beeswarm_record_scales_colours_within_each_feature():
    values = np.array([[1.0, 0.1], [-1.0, 0.2], [0.5, 0.0]])
    fv = np.array([[10.0, 5.0], [20.0, 5.0], [15.0, 5.0]])
    rec = plots.beeswarm_record(values, fv, ["x", "y"])
    assert rec.features == ("x", "y")
    np.testing.assert_allclose(rec.color[0], [0.0, 1.0, 0.5])
    np.testing.assert_allclose(rec.color[1], [0.5, 0.5, 0.5])  # constant feature: middle colour
    assert all(np.all(np.abs(j) <= 0.3) for j in rec.jitter)
    fig = plots.beeswarm_figure(rec, "SHAP", "low", "high")
    assert len(fig.data) == 2 and list(fig.layout.yaxis.ticktext) == ["y", "x"]


def test_image_and_matrix_figures():
    img = np.arange(64.0).reshape(8, 8)
    fig = plots.images_figure([plots.ImagePanel("digit", img, False), plots.ImagePanel("map", img - 32, True, img)])
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 3 and heat[1].zmin == -32 and heat[1].zmax == 32  # digit, map, ink over the map
    np.testing.assert_array_equal(heat[2].z, img)
    corr = np.array([[1.0, 0.5], [0.5, 1.0]])
    fig = plots.matrix_figure(corr, ["SHAP", "IG"])
    assert fig.data[0].text[0][1] == "0.50" and fig.data[0].zmin == -1


def test_waterfall_and_matrix_texts_take_the_decimal_mark():
    import numpy as np

    rec = plots.waterfall_record(np.array([1.25, -0.5]), 0.5, ["a", "b"])
    fig = plots.waterfall_figure(rec, "E[f(x)]", "f(x)", decimal=",")
    assert list(fig.data[0].text) == ["0,5", "+1,25", "-0,5", "1,25"]
    matrix = plots.matrix_figure(np.array([[1.0, 0.5], [0.5, np.nan]]), ["SHAP", "IG"], decimal=",")
    assert [list(row) for row in matrix.data[0].text] == [["1,00", "0,50"], ["0,50", "–"]]
