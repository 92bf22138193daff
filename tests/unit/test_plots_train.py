"""Records behind the Build/Train figures, checked against values worked out by hand."""

import numpy as np

from mlcore.plots.train import GAP, boundary_grid, diagram_record, learning_curves, neuron_mosaic
from mlcore.train import EpochRecord


def test_diagram_record_has_one_edge_per_weight():
    w1 = np.arange(6, dtype=float).reshape(3, 2) - 2.5  # 2 inputs -> 3 neurons
    w2 = np.array([[0.5, -1.0, 2.0]])  # 3 -> 1 output
    rec = diagram_record([w1, w2])
    assert rec.layer_sizes == (2, 3, 1) and rec.shown == (2, 3, 1)
    assert len(rec.edges) == 2 * 3 + 3 * 1
    assert (0, 1, 2, w1[2, 1]) in rec.edges  # input 2 -> neuron 3 carries W[3, 2]
    assert (1, 2, 0, 2.0) in rec.edges
    assert rec.max_abs == 2.5


def test_diagram_caps_wide_layers():
    rec = diagram_record([np.ones((40, 3))], max_nodes=12)
    assert rec.layer_sizes == (3, 40) and rec.shown == (3, 12) and len(rec.edges) == 36


def test_boundary_grid_in_whole_percent_or_class_ids():
    z, k = boundary_grid(np.array([0.004, 0.5, 0.996, 1.0]), (2, 2))
    assert k == 2 and z.dtype == np.uint8
    np.testing.assert_array_equal(z, [[0, 50], [100, 100]])
    z, k = boundary_grid(np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]]), (1, 2))
    assert k == 3
    np.testing.assert_array_equal(z, [[1, 0]])


def test_neuron_mosaic_places_and_scales_each_map():
    layer1 = np.array([[1.0, -2.0, 0.0], [0.5, 1.0, 0.0], [-1.0, 0.5, 0.0], [0.25, 0.0, 0.0]])  # 4 points, 3 neurons
    layer2 = np.tile(np.array([[2.0], [-4.0], [1.0], [0.0]]), (1, 5))  # 5 neurons
    mosaic = neuron_mosaic([layer1, layer2], (2, 2), per_row=4, gap=2)
    # layer 1: one row of 3 tiles; layer 2: two rows (4 + 1); each tile 2x2 with 2-cell gaps
    assert mosaic.layer_rows == (0, 4)
    assert mosaic.z.shape == (2 + 2 + 2 + 2 + 2, 4 * 2 + 3 * 2)
    assert mosaic.tiles[:3] == ((0, 0, 0, 0), (0, 1, 0, 4), (0, 2, 0, 8))
    assert mosaic.tiles[-1] == (1, 4, 8, 0)
    # points 0, 1 are the bottom grid row (smallest x2): drawn top-down, they are the tile's last row
    np.testing.assert_array_equal(mosaic.z[0:2, 0:2], [[-100, 25], [100, 50]])  # neuron 1 / max|.| = 1
    np.testing.assert_array_equal(mosaic.z[0:2, 4:6], [[25, 0], [-100, 50]])  # neuron 2 / 2
    np.testing.assert_array_equal(mosaic.z[0:2, 8:10], [[0, 0], [0, 0]])  # a silent neuron stays 0
    np.testing.assert_array_equal(mosaic.z[4:6, 0:2], [[25, 0], [50, -100]])
    assert (mosaic.z[:, 2:4] == GAP).all() and (mosaic.z[2:4, :] == GAP).all()


def test_learning_curves_draw_the_history():
    history = [EpochRecord(e, 1.0 / e, 2.0 / e, 0.5 + e / 10, 0.4 + e / 10, 0.01) for e in (1, 2, 3)]
    fig = learning_curves(history, {"loss": "L", "train": "tr", "val": "va", "epoch": "ep"}, "acc")
    assert [t.name for t in fig.data] == ["tr", "va", "tr", "va"]
    np.testing.assert_allclose(fig.data[1].y, [2.0, 1.0, 2.0 / 3], rtol=1e-6)
    np.testing.assert_allclose(fig.data[2].y, [0.6, 0.7, 0.8], rtol=1e-6)
    assert fig.data[2].xaxis == "x2" and fig.data[0].xaxis == "x"


def test_live_figures_built_without_validation_are_valid_plotly():
    """The live builders skip plotly's validation for speed: validating their spec afterwards must
    raise nothing and change nothing."""
    import json

    import plotly.graph_objects as go
    import plotly.io as pio

    from mlcore.plots import train as plots
    from mlcore.train import EpochRecord

    rng = np.random.default_rng(0)
    history = [EpochRecord(i + 1, 1 / (i + 1), 1.2 / (i + 1), 0.5, 0.4, 0.01) for i in range(5)]
    labels = {"loss": "Loss", "train": "train", "val": "val", "epoch": "epoch"}
    x1, x2 = np.linspace(-1, 2, 12), np.linspace(-1, 1, 8)
    pts = [("train", rng.normal(size=(10, 2)), rng.integers(0, 2, 10), "circle")]
    figures = [
        plots.learning_curves(history, labels, "accuracy"),
        plots.decision_boundary((x1, x2), rng.random((96, 2)), pts, ["a", "b"], ("x", "y")),
        plots.decision_boundary((x1, x2), np.eye(3)[np.arange(96) % 3], pts, ["a", "b", "c"], ("x", "y")),
        plots.neuron_maps((x1, x2), [rng.normal(size=(96, 5))], "L{i}"),
        plots.fit_curve(x1, x1 ** 2, [("train", x1, x1)], ("x", "y"), "model"),
    ]
    for fig in figures:
        spec = json.loads(pio.to_json(fig, validate=False))
        validated = json.loads(pio.to_json(go.Figure(spec), validate=False))  # raises if anything is invalid
        spec["layout"].pop("template", None)
        validated["layout"].pop("template", None)
        assert validated == spec
