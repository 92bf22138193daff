"""Evaluate figures: the records they draw, checked against known values."""

import numpy as np
import pytest

from mlcore.evaluate.biasvar import RegressionDecomposition
from mlcore.evaluate.study import Band
from mlcore.plots import evaluate as ep
from mlcore.train import EpochRecord


def _history(train, val):
    return [EpochRecord(i + 1, t, v, 0.0, 0.0, 0.0) for i, (t, v) in enumerate(zip(train, val))]


def test_process_record_counts_and_shares():
    rec = ep.process_record(300, 100, 100, test_looks=2)
    assert rec.rows == (300, 100, 100) and rec.shares == pytest.approx((0.6, 0.2, 0.2)) and rec.test_looks == 2
    labels = {k: k for k in ("train", "val", "test", "step_train", "step_tune", "step_test")}
    labels["looks"] = "looked {n}x"
    fig = ep.process_diagram(ep.process_record(10, 5, 0), labels)
    texts = [a.text for a in fig.layout.annotations if a.text]
    assert "<b>train</b><br>10" in texts and "step_tune" in texts and not any("test" in t for t in texts)
    texts = [a.text for a in ep.process_diagram(rec, labels).layout.annotations if a.text]
    assert "<b>test</b><br>100" in texts and "looked 2x" in texts


def test_diagnosed_curves_mark_the_best_epoch():
    hist = _history([1.0, 0.8, 0.6], [1.1, 0.7, 0.9])
    rec = ep.diagnosed_record(hist, 2)
    assert rec.best_val == 0.7 and rec.epochs.tolist() == [1, 2, 3]
    fig = ep.diagnosed_curves(rec, {"train": "t", "val": "v", "best": "b", "epoch": "e", "loss": "l"})
    star = [t for t in fig.data if t.name == "b"][0]
    assert list(star.x) == [2] and list(star.y) == [0.7]


def test_folds_record_mean_and_std():
    rec = ep.folds_record([0.8, 0.9, 1.0])
    assert rec.folds == (1, 2, 3) and rec.mean == pytest.approx(0.9) and rec.std == pytest.approx(np.std([0.8, 0.9, 1.0]))
    fig = ep.folds_strip(rec, {"metric": "acc", "fold": "Fold", "mean": "mean"})
    assert list(fig.data[0].y) == [0.8, 0.9, 1.0]


def test_sweep_record_picks_the_best_validation_value():
    train = Band([1, 2, 4], np.array([0.5, 0.3, 0.1]), np.zeros(3))
    val = Band([1, 2, 4], np.array([0.6, 0.4, 0.5]), np.array([0.1, 0.0, 0.2]))
    assert ep.sweep_record(train, val).best_x == 2
    assert ep.sweep_record(train, val, higher_is_better=True).best_x == 1
    fig = ep.sweep_figure(ep.sweep_record(train, val), {"train": "t", "val": "v", "x": "w", "y": "l", "best": "b"},
                          log_x=True)
    assert list(fig.layout.xaxis.tickvals) == [1, 2, 4] and fig.layout.xaxis.type == "log"
    band = fig.data[2]  # validation band: mean + std forwards, mean - std backwards
    assert list(band.y) == pytest.approx([0.7, 0.4, 0.7, 0.3, 0.4, 0.5])


def test_biasvar_record_reads_each_part_and_unknown_noise_is_missing():
    decs = [RegressionDecomposition(1.0, 0.6, 0.3, 0.1), RegressionDecomposition(0.9, 0.5, 0.4, None)]
    rec = ep.biasvar_record([2, 8], decs, ("bias2", "variance", "noise"))
    assert rec.parts["bias2"].tolist() == [0.6, 0.5]
    assert rec.parts["noise"][0] == 0.1 and np.isnan(rec.parts["noise"][1])


def test_regularisation_record_final_gaps_come_from_the_final_scores_not_the_curves():
    hist = [_history([0.5, 0.2], [0.6, 0.5]), _history([0.5, 0.3], [0.6, 0.4])]
    # final scores (eval mode, whole splits) differ from the curves' last points (0.2 / 0.5, 0.3 / 0.4)
    rec = ep.regularisation_record(["none", "l2"], hist, [0.15, 0.25], [0.55, 0.40], [0.9, 0.8])
    assert rec.final_gap == pytest.approx((0.4, 0.15)) and rec.epochs == (2, 2)
    assert rec.final_metric == (0.9, 0.8)
    labels = {"none": "None", "l2": "L2", "train": "t", "val": "v", "epoch": "e", "loss": "l", "gap": "gap"}
    fig = ep.regularisation_figure(rec, labels)
    titles = [a.text for a in fig.layout.annotations]
    assert len(fig.data) == 4 and titles[0] == "None<br>gap 0.4000" and titles[1] == "L2<br>gap 0.1500"
    with pytest.raises(ValueError, match="2 names, 2 histories, 1 / 2 / 2"):
        ep.regularisation_record(["none", "l2"], hist, [0.15], [0.55, 0.40], [0.9, 0.8])


def test_regularisation_gap_of_a_real_dropout_run_is_the_scored_one():
    """A real small run: with dropout the last logged training loss (train mode) is not the final
    training loss in eval mode; the record, hence the figure, uses the latter, as the table."""
    from mlcore.config import LayerSpec, ModelConfig, OptimConfig, Task, TrainConfig
    from mlcore.evaluate import regularise
    from mlcore.evaluate.study import run_inline
    from mlcore.train import TrainArrays

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    arrays = TrainArrays(X[:80], y[:80], X[80:], y[80:], Task.BINARY, 2)
    job = run_inline(regularise.regularisation_job(arrays, ModelConfig(hidden=(LayerSpec(16),)),
                                                   TrainConfig(epochs=15, batch_size=16, optim=OptimConfig(lr=0.05)),
                                                   dropout=0.5, patience=3))
    scores = [r.scores[0] for r in job.results]
    rec = ep.regularisation_record([r.key for r in job.results], [s.history for s in scores],
                                   [s.train_loss for s in scores], [s.val_loss for s in scores],
                                   [s.val_metric for s in scores])
    assert rec.names == regularise.VARIANTS
    assert rec.final_gap == pytest.approx(tuple(s.val_loss - s.train_loss for s in scores))
    dropout = rec.names.index("dropout")
    logged_gap = rec.val[dropout][-1] - rec.train[dropout][-1]
    assert abs(logged_gap - rec.final_gap[dropout]) > 1e-3  # the two definitions really differ here
    labels = {n: n for n in regularise.VARIANTS} | {"train": "t", "val": "v", "epoch": "e", "loss": "l", "gap": "gap"}
    titles = [a.text for a in ep.regularisation_figure(rec, labels).layout.annotations][:4]
    assert [float(t.rsplit(" ", 1)[1]) for t in titles] == [round(g, ep.GAP_DIGITS) for g in rec.final_gap]


# ---- legends clear of the x-axis title ----------------------------------------------------------------


def _legend_is_above_the_plot(fig) -> bool:
    """A legend drawn over the plot area or at the top of the figure never covers the x-axis title
    (one below the plot, at a fraction of its height, climbed onto it when it wrapped)."""
    leg = fig.layout.legend
    if leg.yref == "container":
        return leg.yanchor == "top" and leg.y == 1
    return leg.yanchor == "bottom" and leg.y >= 1


def _figures_with_a_legend():
    from mlcore.evaluate.curves import pr_curves, roc_curves

    hist = _history([1.0, 0.8, 0.6], [1.1, 0.7, 0.9])
    yield "diagnosed", ep.diagnosed_curves(ep.diagnosed_record(hist, 2),
                                           {"train": "t", "val": "v", "best": "b", "epoch": "e", "loss": "l"})
    yield "mean_curve", ep.mean_curve(np.array([1.0, 0.5]), np.array([1.1, 0.7]), np.array([0.1, 0.1]),
                                      {"train": "training (mean over folds)", "val": "validation (mean ± std)",
                                       "epoch": "Epoch", "loss": "Loss"})
    band = Band([1, 2], np.array([0.5, 0.3]), np.zeros(2))
    yield "sweep", ep.sweep_figure(ep.sweep_record(band, band), {"train": "t", "val": "v", "x": "w", "y": "l", "best": "b"})
    rec = ep.biasvar_record([2, 8], [RegressionDecomposition(1.0, 0.6, 0.3, 0.1)] * 2, ("error", "bias2"))
    yield "biasvar", ep.biasvar_figure(rec, {"error": "e", "bias2": "b", "x": "w", "y": "y"})
    yield "fitted", ep.fitted_curves(np.linspace(0, 1, 5), [np.zeros(5), np.ones(5)], np.zeros(5),
                                     {"models": "m", "mean": "mean", "truth": "t", "data": "d", "x": "x", "y": "y",
                                      "title": "8 neurons"}, points=(np.zeros(3), np.zeros(3)))
    reg = ep.regularisation_record(["none"], [hist], [0.5], [0.9])
    yield "regularisation", ep.regularisation_figure(reg, {"none": "None", "train": "t", "val": "v", "epoch": "e",
                                                           "loss": "l", "gap": "gap"})
    y = np.array([0, 1, 0, 1, 1, 0])
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    yield "roc", ep.roc_figure(roc_curves(y, proba, ["a", "b"]), {"chance": "c", "fpr": "f", "tpr": "t"})
    yield "pr", ep.pr_figure(pr_curves(y, proba, ["a", "b"]), {"recall": "r", "precision": "p"})


@pytest.mark.parametrize("name,fig", list(_figures_with_a_legend()), ids=lambda v: v if isinstance(v, str) else "")
def test_legends_sit_above_the_plot_area_not_over_the_x_axis_title(name, fig):
    assert fig.layout.xaxis.title.text  # every one of these has an x-axis title a legend below could cover
    assert _legend_is_above_the_plot(fig), (name, fig.layout.legend)
    assert fig.layout.margin.b >= 45  # room for the tick labels and the axis title


def test_titles_over_the_plot_area_get_room_of_their_own():
    figs = dict(_figures_with_a_legend())
    fitted = figs["fitted"]  # title at the top of the figure, the legend between it and the plot
    assert fitted.layout.title.yref == "container" and fitted.layout.title.yanchor == "top"
    assert fitted.layout.margin.t >= 50 + ep.LEGEND_ROW_PX
    reg = figs["regularisation"]  # the legend at the very top, the two-line subplot titles below it
    assert reg.layout.legend.yref == "container" and reg.layout.margin.t >= 80 + ep.LEGEND_ROW_PX


def test_numbers_a_builder_writes_itself_take_the_decimal_mark():
    from mlcore.evaluate.curves import roc_curves

    rec = ep.folds_record(np.array([0.8, 0.9]))
    strip = ep.folds_strip(rec, {"metric": "acc", "fold": "Fold", "mean": "media", "decimal": ","})
    assert strip.layout.annotations[0].text == "media 0,850 ± 0,050"
    assert ep.folds_strip(rec, {"metric": "a", "fold": "F", "mean": "mean"}).layout.annotations[0].text == \
        "mean 0.850 ± 0.050"
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.35, 0.65], [0.2, 0.8]])
    roc = ep.roc_figure(roc_curves(y, proba, ["no", "sí"]), {"chance": "azar", "fpr": "f", "tpr": "t", "decimal": ","})
    assert [t.name for t in roc.data][1:] == ["sí (AUC 1,000)"]
