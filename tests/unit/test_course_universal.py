"""Universal approximation: the error falls with the width, the neurons' pieces add up to the
network's output, and the sweep reports progress."""

from __future__ import annotations

import numpy as np
import pytest

from mlcore.course import universal as U
from mlcore.data import toy_1d
from mlcore.errors import ConfigError, DataError
from mlcore.plots.course_optim import universal_figure, width_sweep_figure

LABELS = dict(data_label="d", truth_label="t", output_label="o", pieces_label="p", sum_label="s",
              bias_label="c", top_title="top", bottom_title="bottom")


@pytest.fixture(scope="module")
def sine():
    return U.target_data("sin", n_samples=100)


def test_targets_are_the_data_pages_1d_toys(sine):
    x, y = toy_1d("sin", 100, 0.0, 0)
    np.testing.assert_array_equal(sine.x, x)
    np.testing.assert_array_equal(sine.y, y)
    np.testing.assert_allclose(sine.truth, np.sin(2 * sine.x_grid))
    assert sine.x_grid[0] == -3.0 and sine.x_grid[-1] == 3.0
    noisy = U.target_data("sin", n_samples=100, noise=0.3, seed=5)
    np.testing.assert_array_equal(noisy.y, toy_1d("sin", 100, 0.3, 5)[1])


def test_error_falls_as_the_hidden_layer_grows(sine):
    mse = {n: U.fit_universal(sine, n, "tanh", steps=200, seed=0).train_mse for n in (1, 2, 16)}
    assert mse[16] < mse[2] < mse[1]
    assert mse[16] < 1e-3 and mse[1] > 0.1  # one tanh cannot follow sin(2x) on [-3, 3]; 16 can


@pytest.mark.parametrize("activation", U.UA_ACTIVATIONS)
def test_the_pieces_add_up_to_the_networks_output(sine, activation):
    fit = U.fit_universal(sine, 6, activation, steps=30, seed=1)
    assert fit.contributions.shape == (6, len(fit.x_grid))
    np.testing.assert_allclose(fit.output_bias + fit.contributions.sum(axis=0), fit.output, atol=1e-5)


def test_each_piece_is_v_times_a_of_w_x_plus_b(sine):
    fit = U.fit_universal(sine, 3, "tanh", steps=20, seed=2)
    x = fit.x_grid
    expected = fit.v[:, None] * np.tanh(fit.w[:, None] * x[None, :] + fit.b[:, None])
    np.testing.assert_allclose(fit.contributions, expected, rtol=1e-10, atol=1e-12)
    relu = U.fit_universal(sine, 3, "relu", steps=20, seed=2)
    expected = relu.v[:, None] * np.maximum(relu.w[:, None] * x[None, :] + relu.b[:, None], 0.0)
    np.testing.assert_allclose(relu.contributions, expected, rtol=1e-10, atol=1e-12)


def test_fit_is_deterministic_and_reports_errors(sine):
    a = U.fit_universal(sine, 4, "sigmoid", steps=40, seed=7)
    b = U.fit_universal(sine, 4, "sigmoid", steps=40, seed=7)
    np.testing.assert_array_equal(a.output, b.output)
    assert a.truth_mse == pytest.approx(np.mean((a.output - sine.truth) ** 2))
    assert a.loss_history[-1] == pytest.approx(a.train_mse)
    assert a.loss_history[-1] <= a.loss_history[0]


def test_sweep_reports_progress_and_matches_single_fits(sine):
    calls = []
    sweep = U.width_sweep(sine, "tanh", widths=(1, 3), steps=30, seed=0, progress=lambda i, n: calls.append((i, n)))
    assert calls == [(1, 2), (2, 2)]
    assert sweep.widths == (1, 3)
    assert sweep.train_mse[1] == U.fit_universal(sine, 3, "tanh", steps=30, seed=0).train_mse
    assert sweep.truth_mse is not None and len(sweep.truth_mse) == 2


def test_a_dataset_target_has_no_truth():
    x = np.linspace(-1, 1, 25)
    target = U.dataset_target("mine", x.astype(np.float32).reshape(-1, 1), x**2)
    assert target.truth is None and target.x_grid[0] == -1.0 and target.x_grid[-1] == 1.0
    fit = U.fit_universal(target, 2, "relu", steps=20)
    assert fit.truth_mse is None
    assert U.width_sweep(target, "relu", widths=(1,), steps=5).truth_mse is None
    with pytest.raises(DataError, match="cannot be used as a 1-D function"):
        U.dataset_target("bad", np.array([0.0, np.nan]), np.array([1.0, 2.0]))


def test_bad_controls_raise_config_errors(sine):
    with pytest.raises(ConfigError, match="number of neurons is 0"):
        U.fit_universal(sine, 0)
    with pytest.raises(ConfigError, match="Unknown activation 'gelu'"):
        U.fit_universal(sine, 2, "gelu")
    with pytest.raises(ConfigError, match="number of iterations is 0"):
        U.fit_universal(sine, 2, steps=0)
    with pytest.raises(ConfigError, match="Unknown target function 'cos'"):
        U.target_data("cos")
    with pytest.raises(ConfigError, match="noise is 2"):
        U.target_data("sin", noise=2.0)
    with pytest.raises(ConfigError, match="number of points is 1"):
        U.target_data("sin", n_samples=1)


def test_figures_show_the_pieces_and_the_sweep(sine):
    fit = U.fit_universal(sine, 3, "tanh", steps=10)
    fig = universal_figure(fit, sine, **LABELS)
    names = [t.name for t in fig.data]
    assert names.count("p") == 3 and names[:3] == ["d", "t", "o"] and names[-2:] == ["c", "s"]
    np.testing.assert_allclose(fig.data[-1].y, fit.output, atol=1e-5)
    sweep = U.width_sweep(sine, "tanh", widths=(1, 2), steps=5)
    sfig = width_sweep_figure(sweep, train_label="train", truth_label="truth", x_label="N", y_label="MSE")
    assert sfig.layout.xaxis.type == "log" and list(sfig.data[0].x) == [1, 2]
