"""The fast figures (mlcore.plots.fast, plain dicts without plotly's validation) equal the figures
real validated plotly builds from the same builder code, for every registered builder."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from mlcore.plots import fast

# ---- inputs for every @fast.builder figure: (builder name, zero-argument callable) -------------


def _course_basics():
    from mlcore.course.activations import ACTIVATIONS, activation_curve, dead_relu_scan
    from mlcore.course import builtin_rows
    from mlcore.course.backprop import Example, TinyNet, backprop_trace
    from mlcore.course.forward import build_network, forward_trace, BatchTiming
    from mlcore.course.neuron import neuron_surface
    from mlcore.plots import course_basics as P

    rows = builtin_rows()
    yield "network_figure", lambda: P.network_figure(P.network_layout((2, 3, 1)), ["in", "hid", "out"],
                                                     node_text={0: "x₁"}, title="Net")
    yield "network_figure", lambda: P.network_figure(P.network_layout((12, 20, 3)), ["in", "hid", "out"])
    surf = neuron_surface(1.0, -0.5, 0.3, "sigmoid")
    yield "neuron_surface_figure", lambda: P.neuron_surface_figure(surf, point=(0.5, -1.0), line_label="z=0")
    for name in ("relu", "sigmoid", "tanh"):
        curve = activation_curve(name, threshold=0.05)
        yield "activation_figure", lambda c=curve: P.activation_figure(c, f_title="f", saturated_label="sat")
    curves = [activation_curve(a) for a in ACTIVATIONS]
    yield "derivatives_figure", lambda: P.derivatives_figure(curves, {"relu": "ReLU"}, title="All")
    for shift in (-3.0, 0.0):
        scan = dead_relu_scan(rows.X, shift, n_units=32, seed=0)
        yield "dead_relu_figure", lambda s=scan: P.dead_relu_figure(s)
    M = np.arange(12.0).reshape(3, 4) - 5
    yield "matrix_figure", lambda: P.matrix_figure(M, ["a", "b", "c"], ["1", "2", "3", "4"], title="M")
    model = build_network(rows.X.shape[1], 3, 2, "relu", seed=0)
    trace = forward_trace(model, rows.X[:4])
    yield "layer_figure", lambda: P.layer_figure(trace.steps[0], ["W", "X", "Z", "Y"], trace.instance_labels)
    timing = BatchTiming((1, 8, 64), (1e-4, 2e-4, 5e-4), 2, 3)
    yield "timing_figure", lambda: P.timing_figure(timing)
    bp = backprop_trace(TinyNet.random(0), Example(0.5, -1.0, 1.0), "sigmoid", "identity", 0.5)
    for step in (0, 3, 5):
        yield "backprop_figure", lambda s=step: P.backprop_figure(bp, s, ["in", "hidden", "out"])


def _course_optim():
    from mlcore.config import Task
    from mlcore.course import preprocess as PP
    from mlcore.course import surfaces as S
    from mlcore.course import universal as U
    from mlcore.plots import course_optim as P

    surface = S.get_surface("quadratic")
    grid = S.surface_grid("quadratic", n=21)
    race = S.race("quadratic", 12, methods=("sgd", "adam"))
    blown = S.gradient_descent("quadratic", 1.5, 50)
    labels = {"sgd": "SGD", "adam": "Adam", "gd": "GD"}
    yield "descent_figure", lambda: P.descent_figure(grid, surface, [*race.paths, blown], labels,
                                                     max_frames=5, title="Race")
    one = S.gradient_descent("quadratic", 0.1, 1)
    yield "descent_figure", lambda: P.descent_figure(grid, surface, [], labels)
    rosen = S.surface_grid("rosenbrock", n=11), S.get_surface("rosenbrock")
    slow = S.gradient_descent("rosenbrock", 1e-3, 20)
    yield "descent_figure", lambda: P.descent_figure(*rosen, [slow], labels)
    del one
    yield "loss_gap_figure", lambda: P.loss_gap_figure([*race.paths, blown], labels, surface.min_value,
                                                       title="gap")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    noise = S.minibatch_noise(X, y, Task.BINARY, batch_sizes=(1, 32, None), epochs=3, lr=0.1)
    yield "minibatch_figure", lambda: P.minibatch_figure(noise, ["1", "32"])
    yield "minibatch_figure", lambda: P.minibatch_figure(noise, ["1", "32", "full"], show_batch_loss=False)
    sine = U.target_data("sin", n_samples=60, noise=0.2, seed=5)
    fit = U.fit_universal(sine, 3, "tanh", steps=20, seed=2)
    names = dict(data_label="data", truth_label="truth", output_label="out", pieces_label="pieces",
                 sum_label="sum", bias_label="bias", top_title="top", bottom_title="bottom")
    yield "universal_figure", lambda: P.universal_figure(fit, sine, **names)
    sweep = U.width_sweep(sine, "tanh", widths=(1, 3), steps=10, seed=0)
    yield "width_sweep_figure", lambda: P.width_sweep_figure(sweep, train_label="train", truth_label="truth",
                                                             x_label="n", y_label="mse", title="sweep")
    cmp = PP.compare_scaling("wine", optimizer="sgd", lr=0.01, epochs=5, seed=0)
    titles = dict(raw_title="raw", scaled_title="scaled")
    yield "scaling_curves_figure", lambda: P.scaling_curves_figure(cmp, **titles, x_label="epoch", y_label="loss")
    raw, scaled = PP.loss_slice("wine", scaled=False, n=11), PP.loss_slice("wine", scaled=True, n=11)
    yield "slice_figure", lambda: P.slice_figure(raw, scaled, raw_title="raw", scaled_title="scaled",
                                                 optimum_label="opt")
    scales = PP.feature_scales("wine")
    yield "feature_scales_figure", lambda: P.feature_scales_figure(scales, raw_title="raw",
                                                                   scaled_title="scaled")


def _course_losses():
    from mlcore.course.losses import LOSSES, loss_curve, outlier_example
    from mlcore.plots import course_losses as P

    for name in LOSSES:
        curve = loss_curve(name, target=0.5 if name in ("mse", "mae", "huber") else 1.0)
        yield "loss_figure", lambda c=curve: P.loss_figure(c, "loss", "grad", "prediction", "target")
    ex = outlier_example(6.0, 1.0)
    yield "outlier_figure", lambda: P.outlier_figure(ex, {"mse": "MSE"}, "point", "pull", "outlier")


def _data():
    from mlcore.config import BuiltinConfig, SplitConfig
    from mlcore.data import class_balance, image_samples, prepare_builtin, target_histogram, view_2d
    from mlcore.plots import data as P

    split = SplitConfig(val_frac=0.2, test_frac=0.2, seed=0)
    iris = prepare_builtin(BuiltinConfig(name="iris"), split)
    moons = prepare_builtin(BuiltinConfig(name="moons", n_samples=120), split)
    diabetes = prepare_builtin(BuiltinConfig(name="diabetes"), split)
    digits = prepare_builtin(BuiltinConfig(name="digits"), split)
    for lang in ("es", "en"):
        yield "class_balance_figure", lambda l=lang: P.class_balance_figure(class_balance(iris), l)
    yield "target_histogram_figure", lambda: P.target_histogram_figure(target_histogram(diabetes), "y", "en")
    yield "target_histogram_figure", lambda: P.target_histogram_figure(target_histogram(diabetes))
    for data in (iris, moons, diabetes):
        yield "scatter_2d_figure", lambda d=data: P.scatter_2d_figure(view_2d(d), "en")
    images, labels = image_samples(digits, 12)
    yield "image_grid_figure", lambda: P.image_grid_figure(P.image_grid(images, labels, n_cols=5))


def _explain():
    from mlcore.plots import explain as P

    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 5))
    fv = rng.normal(size=(30, 5))
    fv[:, 4] = 1.0
    names = ["a", "b", "c", "d", "e"]
    yield "bar_figure", lambda: P.bar_figure(P.bar_record(values, names), "mean |SHAP|", "bar")
    swarm = P.beeswarm_record(values, fv, names)
    yield "beeswarm_figure", lambda: P.beeswarm_figure(swarm, "SHAP", "low", "high")
    rec = P.waterfall_record(values[0], 0.3, [f"{n} = 1" for n in names] + ["others"], top=3)
    yield "waterfall_figure", lambda: P.waterfall_figure(rec, "E[f]", "f(x)", "wf")
    dep = P.DependenceRecord(fv[:, 0], values[:, 0], fv[:, 1])
    yield "dependence_figure", lambda: P.dependence_figure(dep, "a", "SHAP a", "b")
    cat = P.DependenceRecord(np.arange(30) % 3, values[:, 0], None)
    yield "dependence_figure", lambda: P.dependence_figure(cat, "a", "SHAP a", categories=["x", "y", "z"])
    img = np.arange(64.0).reshape(8, 8)
    panels = [P.ImagePanel("digit", img, False), P.ImagePanel("map", img - 32, True, img),
              P.ImagePanel("mag", img, False, img)]
    yield "images_figure", lambda: P.images_figure(panels)
    corr = np.array([[1.0, 0.5, np.nan], [0.5, 1.0, -0.2], [np.nan, -0.2, 1.0]])
    yield "matrix_figure", lambda: P.matrix_figure(corr, ["SHAP", "IG", "perm"], "corr")
    scores = {"shap": np.abs(values).mean(0), "ig": rng.uniform(size=5)}
    yield "rankings_figure", lambda: P.rankings_figure(names, scores, {"shap": "SHAP"}, top=4, title="rank")


def _train():
    from mlcore.plots import train as P
    from mlcore.train import EpochRecord

    rng = np.random.default_rng(2)
    weights = [rng.normal(size=(4, 2)), rng.normal(size=(16, 4)), rng.normal(size=(1, 16))]
    yield "network_diagram", lambda: P.network_diagram(weights, ["in", "h1", "h2", "out"])
    runs = [(f"run {k}", [EpochRecord(e, 1.0 / e + k, 2.0 / e, 0.5 + e / 10, 0.4 + e / 10, 0.01)
                          for e in (1, 2, 3)]) for k in range(3)]
    run_labels = {"val_loss": "loss", "val_metric": "acc", "epoch": "epoch"}
    yield "overlay_runs", lambda: P.overlay_runs(runs, run_labels)
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    yield "confusion_matrix", lambda: P.confusion_matrix(cm, ["a", "b", "c"], ("true", "predicted"))
    y = rng.normal(size=20)
    y_hat = y + rng.normal(size=20) * 0.1
    yield "predicted_vs_actual", lambda: P.predicted_vs_actual(y, y_hat, ("y", "ŷ"))


def _api():
    """The parts of the fast API no builder uses yet, or uses only one way."""
    from mlcore.plots.style import base_layout

    def hline_and_traces():
        fig = fast.make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3])
        fig.add_traces([fast.Scatter(x=[1, 2], y=[3, 4]), fast.Bar(x=["a"], y=[1])], rows=[1, 2], cols=[1, 1])
        fig.add_hline(y=0.5, line_dash="dot", row=2, col=1)
        fig.add_vline(x=1.5, line_color="red", row=1, col=1)
        fig.add_shape(type="circle", x0=0, x1=1, y0=0, y1=1, xref="x domain", yref="y domain", row=1, col=1)
        return fast.finish(base_layout(fig, 400, "both", legend_size=14, annotation_size=15))

    def layout_forms():
        fig = fast.Figure(fast.Scatter(x=(1, 2), y=(3, 4), marker_colorscale="Viridis", marker_color=[0, 1],
                                       error_y=dict(type="data", array=[0.1, 0.2]), text=None))
        fig.update_layout({"xaxis_title_text": "x", "yaxis": {"title": "y"}}, plot_bgcolor="#eee",
                          legend_title_text="legend", hovermode=None)
        fig.update_xaxes(title_font_size=20)
        fig.update_xaxes(title="replaced")  # a string title replaces the whole title, font included
        fig.update_layout(annotations=[dict(text="a", x=0, y=0, font_size=12)])
        fig.add_annotation(dict(text="b", x=1, y=1), xanchor="left")
        fig.update_annotations(dict(showarrow=False), font_color="blue")
        return fast.finish(fig)

    yield "api:hline_and_traces", hline_and_traces
    yield "api:layout_forms", layout_forms


CASES = [*_course_basics(), *_course_optim(), *_course_losses(), *_data(), *_explain(), *_train(), *_api()]


def test_every_registered_builder_has_a_case():
    import importlib

    for module in ("course_basics", "course_losses", "course_optim", "data", "explain", "train"):
        importlib.import_module(f"mlcore.plots.{module}")

    covered = {name for name, _ in CASES}
    registered = {key.rsplit(".", 1)[1] for key in fast.BUILDERS}
    assert registered - covered == set()


NUMBERS = (int, float, np.integer, np.floating)


def assert_same(a, b, path="fig"):
    """Deep equality of two ``to_dict()`` results (where numpy arrays are already typed-array
    specs, so their bytes and dtype are compared); numbers compared by value but never a bool
    against a number; NaN equals NaN."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), f"{path}: only fast {set(a) - set(b)}, only plotly {set(b) - set(a)}"
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        assert isinstance(a, np.ndarray) == isinstance(b, np.ndarray), f"{path}: {type(a)} vs {type(b)}"
        if isinstance(a, np.ndarray):
            assert (a.shape, a.dtype) == (b.shape, b.dtype), f"{path}: {a.dtype} vs {b.dtype}"
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f"{path}: arrays differ"
        else:
            assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
            for i, (x, y) in enumerate(zip(a, b)):
                assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, NUMBERS) or not isinstance(b, NUMBERS):
        assert type(a) is type(b) and a == b, f"{path}: {a!r} vs {b!r}"
    else:
        assert a == b or (np.isnan(a) and np.isnan(b)), f"{path}: {a!r} vs {b!r}"


@pytest.mark.parametrize("name,make", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_fast_figure_equals_validated_plotly(name, make):
    fig = make()
    with fast.validated():
        ref = make()
    assert isinstance(fig, go.Figure) and isinstance(ref, go.Figure)
    assert_same(fig.to_dict(), ref.to_dict())


def test_fast_figure_refuses_what_it_does_not_reproduce():
    fig = fast.Figure()
    fig.update_layout(annotations=[dict(text="a")])
    with pytest.raises(NotImplementedError):
        fig.update_layout(annotations=[dict(text="b")])  # plotly's list merge is irregular
    with pytest.raises(NotImplementedError):
        fig.update_layout(dict(height=300), overwrite=True)
    with pytest.raises(ValueError):
        fig.update_xaxes(title="x", row=1, col=1)  # no subplot grid
    with pytest.raises(AttributeError):
        fig.add_scatter(x=[1])  # outside the subset: an error, never a silently different figure


def test_a_frozen_figure_sends_the_same_dict_every_time():
    import plotly.io as pio

    from mlcore.plots.course_basics import matrix_figure

    fig = matrix_figure(np.eye(3), ["a", "b", "c"], ["1", "2", "3"], title="I")
    frozen = fast.frozen(fig)
    assert isinstance(frozen, go.Figure)  # st.plotly_chart takes it as a figure and calls to_dict()
    assert_same(frozen.to_dict(), fig.to_dict())
    first = pio.to_json(frozen.to_dict(), validate=False)  # what st.plotly_chart serialises
    assert pio.to_json(frozen.to_dict(), validate=False) == first  # serialising left the dict as it was


def test_scaled_fonts_scales_every_font_and_leaves_the_figure_alone():
    """The projector view's figures: every font size times the factor, nothing else changed, and
    the (possibly cached, shared) original dict untouched."""
    import copy

    from mlcore.plots.style import scaled_fonts

    spec = {"data": [{"type": "scatter", "x": [1, 2], "marker": {"size": 8}, "textfont": {"size": [10, 12]}}],
            "layout": {"font": {"size": 16, "color": "#333"}, "height": 400,
                       "xaxis": {"tickfont": {"size": 14}, "title": {"text": "x", "font": {"size": 16}}},
                       "legend": {"font": {"size": 15}}, "annotations": [{"text": "a", "font": {"size": 18}}],
                       "coloraxis": {"colorbar": {"tickfont": {"size": 14}}}},
            "frames": [{"layout": {"annotations": [{"font": {"size": 20}}]}}]}
    before = copy.deepcopy(spec)
    out = scaled_fonts(spec, 1.25)
    assert spec == before
    assert out["layout"]["font"] == {"size": 20.0, "color": "#333"} and out["layout"]["height"] == 500
    assert out["layout"]["xaxis"]["tickfont"]["size"] == 17.5 and out["layout"]["xaxis"]["title"]["font"]["size"] == 20
    assert out["layout"]["legend"]["font"]["size"] == 18.75 and out["layout"]["annotations"][0]["font"]["size"] == 22.5
    assert out["layout"]["coloraxis"]["colorbar"]["tickfont"]["size"] == 17.5
    assert out["frames"][0]["layout"]["annotations"][0]["font"]["size"] == 25
    assert out["data"][0]["textfont"]["size"] == [12.5, 15.0] and out["data"][0]["marker"]["size"] == 8
    assert out["data"][0]["x"] is spec["data"][0]["x"]  # data arrays are shared, not copied
    bare = scaled_fonts({"data": [{"type": "heatmap", "colorbar": {"title": {"text": "P"}}}],
                         "layout": {"legend": {"orientation": "h", "y": -0.2}}}, 1.25)
    assert bare["layout"]["font"]["size"] == 15  # plotly's 12 px
    # fonts left to Streamlit's chart theme are set: the legend's and the colour bar's ticks
    assert bare["layout"]["legend"]["font"]["size"] == 17.5 and bare["data"][0]["colorbar"]["tickfont"]["size"] == 17.5
    assert bare["layout"]["legend"]["y"] == -0.25  # a legend below the plot moves down with the axis title


def test_plotly_config_adds_the_spanish_locale_without_touching_the_caller_s_config():
    from mlcore.plots.style import plotly_config

    mine = {"displayModeBar": False}
    es = plotly_config("es", mine)
    assert mine == {"displayModeBar": False}
    assert es["displayModeBar"] is False and es["locale"] == "mlp-es" and es["locales"]["mlp-es"]["format"]["decimal"] == ","
    assert plotly_config("en", mine) == mine and plotly_config("en", None) == {}
    assert plotly_config("es", {"locale": "fr"})["locale"] == "fr"  # a chart's own choice wins
