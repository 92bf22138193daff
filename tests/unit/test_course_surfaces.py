"""Loss surfaces, gradient descent, the optimizer race and mini-batch noise against known answers:
closed forms, analytic gradients and the torch optimizers re-run step by step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mlcore.config import OPTIMIZERS, Task
from mlcore.course import surfaces as S
from mlcore.errors import ConfigError, DataError
from mlcore.optim import LARS
from mlcore.plots.course_optim import (descent_figure, frame_stride, log_dtick, loss_gap_figure, minibatch_figure,
                                      path_frames)

# --- the surfaces ----------------------------------------------------------------------------

ANALYTIC_GRADIENTS = {
    "quadratic": lambda x, y: (1.5 * x + 0.5 * y, 0.5 * x + 1.5 * y),
    "ill_conditioned": lambda x, y: (x, 20.0 * y),
    "rosenbrock": lambda x, y: (-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)),
    "saddle": lambda x, y: (2 * x, -2 * y + y**3),
    "himmelblau": lambda x, y: (4 * x * (x * x + y - 11) + 2 * (x + y * y - 7),
                                2 * (x * x + y - 11) + 4 * y * (x + y * y - 7)),
    "beale": lambda x, y: (
        2 * (1.5 - x + x * y) * (y - 1) + 2 * (2.25 - x + x * y * y) * (y * y - 1)
        + 2 * (2.625 - x + x * y**3) * (y**3 - 1),
        2 * (1.5 - x + x * y) * x + 2 * (2.25 - x + x * y * y) * 2 * x * y + 2 * (2.625 - x + x * y**3) * 3 * x * y * y,
    ),
}


@pytest.mark.parametrize("name", S.SURFACE_NAMES)
def test_autograd_gradient_equals_the_analytic_gradient(name):
    for point in [(0.3, -0.7), (-1.2, 1.0), (1.5, 0.25)]:
        _, grad = S.loss_and_grad(name, point)
        np.testing.assert_allclose(grad, ANALYTIC_GRADIENTS[name](*point), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", S.SURFACE_NAMES)
def test_known_minima_are_stationary_and_inside_the_window(name):
    surface = S.get_surface(name)
    assert surface.inside(surface.start)
    for m in surface.minima:
        assert surface.inside(m)
        _, grad = S.loss_and_grad(name, m)
        assert np.linalg.norm(grad) < 1e-4


def test_known_minimum_values():
    assert S.get_surface("rosenbrock").min_value == 0.0
    assert S.get_surface("beale").min_value == pytest.approx(0.0, abs=1e-12)
    assert S.get_surface("saddle").min_value == pytest.approx(-1.0, abs=1e-12)  # -y^2 + y^4/4 at y^2 = 2
    assert S.get_surface("himmelblau").min_value == pytest.approx(0.0, abs=1e-9)


def test_grid_holds_the_loss_on_the_window():
    grid = S.surface_grid("rosenbrock", n=11)
    assert grid.xs[0] == -2.0 and grid.xs[-1] == 2.0 and grid.ys[0] == -1.0 and grid.ys[-1] == 3.0
    i, j = 4, 7
    x, y = grid.xs[j], grid.ys[i]
    assert grid.z[i, j] == pytest.approx((1 - x) ** 2 + 100 * (y - x * x) ** 2)
    assert grid.shown.min() == 0.0 and grid.shown.max() == pytest.approx(np.log10(1 + grid.z.max() - grid.z.min()))


def test_unknown_surface_and_bad_controls_raise_config_errors():
    with pytest.raises(ConfigError, match="Unknown surface 'bowl'") as info:
        S.gradient_descent("bowl", 0.1, 10)
    assert info.value.key == "err.course.gradient.surface"
    with pytest.raises(ConfigError, match="number of steps is 0"):
        S.gradient_descent("quadratic", 0.1, 0)
    with pytest.raises(ConfigError, match="learning rate is -0.1"):
        S.gradient_descent("quadratic", -0.1, 10)
    with pytest.raises(ConfigError, match="learning rate is nan"):
        S.race("quadratic", 10, lr_scale=float("nan"))
    with pytest.raises(ConfigError, match="start point"):
        S.gradient_descent("quadratic", 0.1, 10, start=(1.0, float("inf")))
    with pytest.raises(ConfigError):
        S.race("quadratic", 10, methods=("sgd", "newton"))


# --- plain gradient descent ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "a"), [("quadratic", S.QUADRATIC_A), ("ill_conditioned", S.ILL_A)])
@pytest.mark.parametrize("lr", [0.05, 0.09])
def test_gradient_descent_on_a_quadratic_is_the_closed_form(name, a, lr):
    """For L = 1/2 w^T A w the rule gives w_k = (I - alpha A)^k w_0."""
    a = np.array(a)
    path = S.gradient_descent(name, lr, 40)
    w0 = np.array(S.get_surface(name).start)
    step = np.eye(2) - lr * a
    expected = np.array([np.linalg.matrix_power(step, k) @ w0 for k in range(41)])
    np.testing.assert_allclose(path.points, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(path.losses, 0.5 * np.einsum("ki,ij,kj->k", expected, a, expected), rtol=1e-12)
    assert path.diverged_at is None and path.method == "gd"


def test_the_largest_stable_rate_is_two_over_lambda_max():
    assert S.lr_limit("quadratic") == pytest.approx(1.0)
    assert S.lr_limit("ill_conditioned") == pytest.approx(0.1)
    assert S.lr_limit("rosenbrock") is None


def test_too_high_a_rate_diverges_at_the_step_the_closed_form_predicts():
    a, lr = np.array(S.QUADRATIC_A), 1.1  # 1 - 1.1 * 2 = -1.2: the lambda=2 direction grows by 1.2 per step
    surface = S.get_surface("quadratic")
    w, k = np.array(surface.start), 0
    bound = S.ESCAPE * 6.0  # window [-3, 3]: size 6, centre 0
    while np.all(np.abs(w) <= bound):
        w, k = (np.eye(2) - lr * a) @ w, k + 1
    path = S.gradient_descent("quadratic", lr, 100)
    assert path.diverged and path.diverged_at == k
    assert len(path.points) == k + 1  # the escaped point is kept (finite) and the path stops there
    clipped = path.clipped(surface)
    assert clipped.min() >= -3.0 and clipped.max() <= 3.0
    assert np.abs(clipped[-1]).max() == 3.0  # drawn on the border of the window


def test_just_below_the_limit_converges_and_rosenbrock_blows_up_with_a_big_rate():
    assert not S.gradient_descent("quadratic", 0.99, 300).diverged
    blown = S.gradient_descent("rosenbrock", 0.01, 100)
    assert blown.diverged and blown.diverged_at < 10


def test_non_finite_points_are_dropped_and_reported():
    path = S.gradient_descent("beale", 10.0, 50)
    assert path.diverged
    assert np.all(np.isfinite(path.points))


# --- the optimizer race ----------------------------------------------------------------------


def _reference_optimizer(method: str, param: torch.nn.Parameter, lr: float) -> torch.optim.Optimizer:
    """The torch classes built by hand (not through ``mlcore.optim``; not fused), with the race's
    hyperparameters: ``OptimConfig``'s defaults plus ``race_config``'s two changes."""
    return {
        "sgd": lambda: torch.optim.SGD([param], lr=lr),
        "momentum": lambda: torch.optim.SGD([param], lr=lr, momentum=0.9),
        "adagrad": lambda: torch.optim.Adagrad([param], lr=lr, eps=1e-8),  # OptimConfig's eps, not torch's 1e-10
        "rmsprop": lambda: torch.optim.RMSprop([param], lr=lr, alpha=0.99, eps=1e-8),
        "adam": lambda: torch.optim.Adam([param], lr=lr, betas=(0.9, 0.999), eps=1e-8),
        "adamw": lambda: torch.optim.AdamW([param], lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
        "lars": lambda: LARS([param], lr=lr, momentum=0.9, trust_coef=1.0),
    }[method]()


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau"])
def test_every_race_path_is_what_the_torch_optimizer_does(name):
    surface = S.get_surface(name)
    result = S.race(name, steps=25)
    assert [p.method for p in result.paths] == list(OPTIMIZERS)
    for path in result.paths:
        param = torch.nn.Parameter(torch.tensor(surface.start, dtype=torch.float64))
        opt = _reference_optimizer(path.method, param, surface.lr_for(path.method))
        expected = [param.detach().numpy().copy()]
        for _ in range(25):
            opt.zero_grad()
            surface.loss(param).backward()
            opt.step()
            expected.append(param.detach().numpy().copy())
        assert path.lr == surface.lr_for(path.method)
        np.testing.assert_allclose(path.points, np.array(expected), rtol=1e-10, atol=1e-12, err_msg=path.method)


def test_lars_first_step_by_hand():
    """With v_0 = 0 the first LARS step is w - lr * eta * ||w|| / ||g|| * g."""
    surface = S.get_surface("quadratic")
    w0 = np.array(surface.start)
    g0 = np.array(S.QUADRATIC_A) @ w0
    lr = 0.05
    path = S.optimizer_path("quadratic", "lars", lr, 1)
    expected = w0 - lr * S.RACE_TRUST_COEF * np.linalg.norm(w0) / np.linalg.norm(g0) * g0
    np.testing.assert_allclose(path.points[1], expected, rtol=1e-12)


def test_the_multiplier_scales_every_default_rate_and_overrides_win():
    result = S.race("quadratic", 5, lr_scale=2.0, methods=("sgd", "adam"), lrs={"adam": 0.3})
    assert result.path("sgd").lr == pytest.approx(2 * S.get_surface("quadratic").lr_for("sgd"))
    assert result.path("adam").lr == 0.3


def test_adamw_differs_from_adam_only_by_its_decoupled_decay():
    """AdamW shrinks w by (1 - lr * decay) before the same Adam step: w1 = adam_w1 - lr * decay * w0."""
    result = S.race("quadratic", 30, methods=("adam", "adamw"))
    adam, adamw = result.path("adam").points, result.path("adamw").points
    lr = S.get_surface("quadratic").lr_for("adamw")
    np.testing.assert_allclose(adamw[1], adam[1] - lr * S.RACE_ADAMW_DECAY * adam[0], rtol=1e-12)
    assert not np.allclose(adam, adamw)


def test_race_ranking_puts_diverged_paths_last():
    result = S.race("quadratic", 40, lr_scale=10.0)  # SGD at 3.0 and momentum blow up
    ranked = result.ranking()
    flags = [p.diverged for p in ranked]
    assert flags == sorted(flags) and flags[-1]
    surface = S.get_surface("quadratic")
    dist = [p.distance_to_minimum(surface) for p in ranked if not p.diverged]
    assert dist == sorted(dist) and len(dist) >= 2
    assert result.path("sgd").diverged


def test_default_race_rates_do_not_diverge_anywhere():
    for name in S.SURFACE_NAMES:
        assert not any(p.diverged for p in S.race(name, 100).paths), name
        assert not S.gradient_descent(name, S.get_surface(name).gd_lr, 100).diverged, name


# --- mini-batch noise ------------------------------------------------------------------------


def _toy_classes(n: int = 40, d: int = 3, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


def test_full_batch_curve_is_plain_gradient_descent_on_softmax_regression():
    X, y = _toy_classes()
    noise = S.minibatch_noise(X, y, Task.BINARY, batch_sizes=(None,), epochs=4, lr=0.5, seed=3)
    (curve,) = noise.curves
    torch.manual_seed(3)
    model = torch.nn.Linear(3, 2)
    xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    expected = [float(torch.nn.functional.cross_entropy(model(xt), yt).detach())]
    for _ in range(4):
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        with torch.no_grad():
            for p, g in zip(model.parameters(), grads):
                p -= 0.5 * g
        expected.append(float(torch.nn.functional.cross_entropy(model(xt), yt).detach()))
    np.testing.assert_allclose(curve.loss, expected, rtol=1e-5)
    assert curve.full_batch and curve.updates == 4
    np.testing.assert_allclose(curve.batch_loss, expected[:-1], rtol=1e-5)  # the batch is the whole set


def test_batch_sizes_share_the_start_and_make_ceil_n_over_b_updates_per_epoch():
    X, y = _toy_classes(n=40)
    noise = S.minibatch_noise(X, y, Task.BINARY, batch_sizes=(1, 32, None), epochs=3, lr=0.1)
    assert [c.updates for c in noise.curves] == [120, 6, 3]
    assert [c.batch_size for c in noise.curves] == [1, 32, 40]
    starts = {round(float(c.loss[0]), 7) for c in noise.curves}
    assert len(starts) == 1  # same initial weights
    for c in noise.curves:
        assert c.epochs[0] == 0.0 and c.epochs[-1] == 3.0 and len(c.epochs) == c.updates + 1


def test_batch_size_one_is_the_noisiest():
    X, y = _toy_classes(n=60)
    noise = S.minibatch_noise(X, y, Task.BINARY, batch_sizes=(1, None), epochs=3, lr=0.5)
    one, full = noise.curves
    jitter = [np.std(np.diff(c.batch_loss)) for c in (one, full)]
    assert jitter[0] > 10 * jitter[1]


def test_regression_rows_are_subsampled_and_reported():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0])).astype(np.float32)
    noise = S.minibatch_noise(X, y, Task.REGRESSION, batch_sizes=(8,), epochs=2, lr=0.05, max_rows=50)
    assert noise.n_rows == 50 and noise.subsampled_from == 80 and noise.curves[0].updates == 2 * 7
    assert noise.curves[0].loss[-1] < noise.curves[0].loss[0]


def test_a_too_high_rate_stops_the_curve_where_the_loss_stops_being_finite():
    rng = np.random.default_rng(0)
    X = (100 * rng.normal(size=(30, 2))).astype(np.float32)  # unscaled features: SGD at 2.0 explodes
    y = X.sum(axis=1).astype(np.float32)
    noise = S.minibatch_noise(X, y, Task.REGRESSION, batch_sizes=(1, None), epochs=50, lr=2.0)
    for curve in noise.curves:
        assert curve.diverged_at is not None and curve.updates == curve.diverged_at
        assert not np.isfinite(curve.loss[-1]) and np.all(np.isfinite(curve.loss[:-1]))
        assert len(curve.epochs) == len(curve.loss)
    fig = minibatch_figure(noise, ["1", "full"], show_batch_loss=False)
    assert [t.name for t in fig.data] == ["1", "full"]
    assert all(np.isnan(t.y[-1]) and np.isfinite(t.y[0]) for t in fig.data)  # drawn as a gap, not a spike


def test_minibatch_noise_rejects_bad_input():
    X, y = _toy_classes()
    with pytest.raises(ConfigError, match="number of epochs is 0"):
        S.minibatch_noise(X, y, epochs=0)
    with pytest.raises(ConfigError, match="batch size is 0"):
        S.minibatch_noise(X, y, batch_sizes=(0,))
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(DataError, match="not finite"):
        S.minibatch_noise(X_bad, y)
    with pytest.raises(DataError, match="at least 2 rows"):
        S.minibatch_noise(X[:1], y[:1])


# --- figures ---------------------------------------------------------------------------------


def test_path_frames_cover_both_ends_and_hold_finished_paths():
    plan = path_frames([101, 11], max_frames=30)
    assert plan.steps[0] == 0 and plan.steps[-1] == 100 and len(plan.steps) <= 30
    assert plan.per_path[0] == (0, 0) and plan.per_path[-1] == (100, 10)
    assert all(b <= 10 for _, b in plan.per_path)
    assert path_frames([3], max_frames=30).steps == (0, 1, 2)


def test_frames_are_round_steps_and_the_log_axis_labels_at_most_six_or_so_decades():
    """The slider reads 0, 2, 4 ... 60 (not 0, 2 ... 14, 17, 19: evenly spaced steps rounded), and
    a loss gap falling 16 decades is labelled every 4th decade."""
    assert path_frames([61]).steps == tuple(range(0, 61, 2))  # the page's default: 60 steps
    assert [frame_stride(last, n) for last, n in ((60, 31), (60, 30), (100, 30), (1000, 31), (12, 5), (2, 30))] == \
        [2, 5, 5, 50, 5, 1]
    assert path_frames([13], max_frames=5).steps == (0, 5, 10, 12)  # and the last step
    assert [log_dtick(lo, hi) for lo, hi in ((1e-16, 1.0), (1e-3, 10.0), (1e-10, 1.0), (1.0, 1.0))] == [4, 1, 2, 1]


def test_descent_figure_animates_only_the_paths():
    result = S.race("quadratic", 12, methods=("sgd", "adam"))
    blown = S.gradient_descent("quadratic", 1.5, 50)
    surface = S.get_surface("quadratic")
    fig = descent_figure(S.surface_grid("quadratic", n=21), surface, [*result.paths, blown],
                         {"sgd": "SGD", "adam": "Adam", "gd": "GD"}, max_frames=5)
    # contour, minima, start, 3 path lines, 1 trace of current points
    assert [t.type for t in fig.data] == ["contour"] + ["scatter"] * 6
    frames = fig.to_dict()["frames"]  # what Streamlit sends (frames unvalidated: fast.with_frames)
    last = max(len(p.points) for p in [*result.paths, blown]) - 1
    assert [f["name"] for f in frames] == [str(step) for step in path_frames([last + 1], 5).steps]
    assert 2 <= len(frames) <= 5 and list(frames[0]["traces"]) == [3, 4, 5, 6]
    assert list(fig.data[6].marker.symbol) == ["circle", "circle", "x"]  # GD diverged: its last point is an X
    assert list(frames[0]["data"][-1]["marker"]["symbol"]) == ["circle", "circle", "circle"]
    assert list(frames[-1]["data"][-1]["marker"]["symbol"]) == ["circle", "circle", "x"]
    assert fig.layout.xaxis.range == (-3.0, 3.0)
    clipped_x = np.array(fig.data[5].x)
    assert clipped_x.min() >= -3.0 and clipped_x.max() <= 3.0
    gap = loss_gap_figure([blown], {"gd": "GD"}, surface.min_value)
    assert gap.layout.yaxis.type == "log" and gap.layout.yaxis.dtick >= 1


def test_minibatch_figure_draws_one_line_per_batch_size():
    X, y = _toy_classes()
    noise = S.minibatch_noise(X, y, Task.BINARY, batch_sizes=(1, None), epochs=1, lr=0.1)
    fig = minibatch_figure(noise, ["b=1", "full"], show_batch_loss=False)
    assert [t.name for t in fig.data] == ["b=1", "full"]
    assert len(minibatch_figure(noise, ["b=1", "full"]).data) == 3  # + the faint batch loss of b=1
    assert math.isclose(fig.data[1].x[-1], 1.0)


@pytest.mark.parametrize("name,lr", [("quadratic", 0.1), ("quadratic", 1.5), ("rosenbrock", 0.002),
                                     ("rosenbrock", 0.01), ("saddle", 0.05), ("himmelblau", 0.01),
                                     ("beale", 10.0)])
def test_first_steps_of_a_long_path_are_the_short_path(name, lr):
    long = S.gradient_descent(name, lr, 300)
    for steps in (1, 2, 7, 60, 150, 299, 300):
        short, cut = S.gradient_descent(name, lr, steps), long.first(steps)
        fields = ("steps", "diverged_at", "method", "lr")
        assert [getattr(cut, f) for f in fields] == [getattr(short, f) for f in fields]
        np.testing.assert_array_equal(cut.points, short.points)
        np.testing.assert_array_equal(cut.losses, short.losses)
