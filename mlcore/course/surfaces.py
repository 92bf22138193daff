"""Loss surfaces, gradient descent, an optimizer race and mini-batch noise (course page 4).

The course writes gradient descent as ``w_{k+1} = w_k - alpha * grad L(w_k)``. Here ``w`` is a
2-vector so the whole search can be drawn on a contour plot of ``L``:

- ``SURFACES``: six classic 2-D losses (convex and ill-conditioned quadratics, Rosenbrock, a
  saddle, Himmelblau, Beale), each a torch function of ``w[..., 0], w[..., 1]`` with a plotting
  window, a start point and its known minima.
- ``gradient_descent``: the plain rule, with the gradient from autograd. A rate that is too high
  leaves the window; the path stops there and records ``diverged_at``.
- ``race``: the same start point for SGD, Momentum, AdaGrad, RMSprop, Adam, AdamW and LARS. Each
  path is what the real optimizer (``mlcore.optim.make_optimizer``) does: ``optimizer.step()`` on a
  ``torch.nn.Parameter`` of shape (2,), nothing re-derived.
- ``minibatch_noise``: a softmax (or linear) model trained with batch size 1, 32 and the full
  batch for the same number of epochs, recording the training loss after every update.

Everything runs in float64 (the surfaces have values up to ~1e5 inside their windows) and is
fast: 100 steps of the seven optimizers take well under a second (``bench/bench_course.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from mlcore.config import OPTIMIZERS, OptimConfig, Task
from mlcore.errors import ConfigError, DataError

MAX_STEPS = 1000
ESCAPE = 5.0  # a point further than ESCAPE window-sizes from the window's centre has diverged
LR_LOW, LR_HIGH = 1e-6, 10.0


# --- the surfaces --------------------------------------------------------------------------


def _quadratic(a: tuple[tuple[float, float], tuple[float, float]]) -> Callable[[torch.Tensor], torch.Tensor]:
    (a11, a12), (_, a22) = a

    def loss(w: torch.Tensor) -> torch.Tensor:
        x, y = w[..., 0], w[..., 1]
        return 0.5 * (a11 * x * x + 2.0 * a12 * x * y + a22 * y * y)

    return loss


def rosenbrock(w: torch.Tensor) -> torch.Tensor:
    x, y = w[..., 0], w[..., 1]
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def saddle(w: torch.Tensor) -> torch.Tensor:
    """A saddle at the origin between two valleys at (0, ±sqrt(2)): x^2 - y^2 + y^4/4."""
    x, y = w[..., 0], w[..., 1]
    return x * x - y * y + 0.25 * y**4


def himmelblau(w: torch.Tensor) -> torch.Tensor:
    x, y = w[..., 0], w[..., 1]
    return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2


def beale(w: torch.Tensor) -> torch.Tensor:
    x, y = w[..., 0], w[..., 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y**3) ** 2


QUADRATIC_A = ((1.5, 0.5), (0.5, 1.5))  # eigenvalues 1 and 2: GD diverges for alpha > 1
ILL_A = ((1.0, 0.0), (0.0, 20.0))  # condition number 20: GD diverges for alpha > 0.1


@dataclass(frozen=True)
class Surface:
    """A 2-D loss with everything needed to draw it and to race on it."""

    name: str
    loss: Callable[[torch.Tensor], torch.Tensor]
    formula: str  # LaTeX
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    gd_lr: float  # a learning rate that works for plain gradient descent
    race_lrs: tuple[tuple[str, float], ...]  # a sensible rate per optimizer (before the multiplier)
    log_scale: bool = True  # draw contours of log(1 + L - min L)

    def lr_for(self, optimizer: str) -> float:
        return dict(self.race_lrs)[optimizer]

    @property
    def min_value(self) -> float:
        """The loss at its (lowest) known minimum."""
        return min(self.value(m) for m in self.minima)

    def value(self, point) -> float:
        with torch.no_grad():
            return float(self.loss(torch.as_tensor(point, dtype=torch.float64)))

    def inside(self, point) -> bool:
        x, y = point
        return self.x_range[0] <= x <= self.x_range[1] and self.y_range[0] <= y <= self.y_range[1]


def _lrs(sgd, momentum, adagrad, rmsprop, adam, adamw, lars) -> tuple[tuple[str, float], ...]:
    return tuple(zip(OPTIMIZERS, (sgd, momentum, adagrad, rmsprop, adam, adamw, lars)))


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface(
            "quadratic", _quadratic(QUADRATIC_A),
            r"\mathcal{L}(w)=\tfrac12\,w^\top A\,w,\quad A=\begin{pmatrix}1.5&0.5\\0.5&1.5\end{pmatrix}",
            (-3.0, 3.0), (-3.0, 3.0), (-2.5, 2.0), ((0.0, 0.0),), 0.3,
            _lrs(0.3, 0.05, 0.5, 0.05, 0.1, 0.1, 0.05), log_scale=False,
        ),
        Surface(
            "ill_conditioned", _quadratic(ILL_A),
            r"\mathcal{L}(w)=\tfrac12\left(w_1^2+20\,w_2^2\right)",
            (-3.0, 3.0), (-3.0, 3.0), (-2.8, 1.5), ((0.0, 0.0),), 0.09,
            _lrs(0.09, 0.02, 0.5, 0.05, 0.1, 0.1, 0.02), log_scale=False,
        ),
        Surface(
            "rosenbrock", rosenbrock,
            r"\mathcal{L}(x,y)=(1-x)^2+100\,(y-x^2)^2",
            (-2.0, 2.0), (-1.0, 3.0), (-1.2, 1.0), ((1.0, 1.0),), 0.002,
            _lrs(0.002, 0.001, 0.5, 0.1, 0.2, 0.2, 0.05),
        ),
        Surface(
            "saddle", saddle,
            r"\mathcal{L}(x,y)=x^2-y^2+\tfrac14\,y^4",
            (-3.0, 3.0), (-3.0, 3.0), (2.8, 0.001), ((0.0, math.sqrt(2.0)), (0.0, -math.sqrt(2.0))), 0.05,
            _lrs(0.05, 0.02, 0.5, 0.05, 0.1, 0.1, 0.02), log_scale=False,
        ),
        Surface(
            "himmelblau", himmelblau,
            r"\mathcal{L}(x,y)=(x^2+y-11)^2+(x+y^2-7)^2",
            (-5.0, 5.0), (-5.0, 5.0), (0.0, -0.5),
            ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)), 0.01,
            _lrs(0.01, 0.002, 0.5, 0.05, 0.1, 0.1, 0.01),
        ),
        Surface(
            "beale", beale,
            r"\mathcal{L}(x,y)=(1.5-x+xy)^2+(2.25-x+xy^2)^2+(2.625-x+xy^3)^2",
            (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5), ((3.0, 0.5),), 0.01,
            _lrs(0.01, 0.002, 0.5, 0.05, 0.1, 0.1, 0.01),
        ),
    )
}
SURFACE_NAMES = tuple(SURFACES)


def get_surface(name: str) -> Surface:
    try:
        return SURFACES[name]
    except KeyError:
        raise ConfigError("err.course.gradient.surface", value=name, allowed=", ".join(SURFACE_NAMES)) from None


def loss_and_grad(name: str, point) -> tuple[float, np.ndarray]:
    """``L(w)`` and ``grad L(w)`` at one point, by autograd (float64)."""
    w = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    value = get_surface(name).loss(w)
    (grad,) = torch.autograd.grad(value, w)
    return float(value.detach()), grad.numpy().copy()


@dataclass(frozen=True)
class SurfaceGrid:
    """``z[i, j] = L(xs[j], ys[i])`` on a regular grid over the surface's window."""

    name: str
    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray
    log_scale: bool

    @property
    def shown(self) -> np.ndarray:
        """What the contour draws: ``log10(1 + L - min L)`` for steep surfaces, else ``L``."""
        if not self.log_scale:
            return self.z
        return np.log10(1.0 + self.z - self.z.min())


def surface_grid(name: str, n: int = 121) -> SurfaceGrid:
    s = get_surface(name)
    xs = np.linspace(*s.x_range, n)
    ys = np.linspace(*s.y_range, n)
    gx, gy = np.meshgrid(xs, ys)
    w = torch.from_numpy(np.stack([gx, gy], axis=-1))
    with torch.no_grad():
        z = s.loss(w).numpy()
    return SurfaceGrid(name, xs, ys, z, s.log_scale)


# --- paths -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimPath:
    """Points ``w_0 .. w_k`` visited by one method, and ``L`` at each of them.

    ``diverged_at`` is the first step whose point left the safe box around the window (or was not
    finite); the path stops there. ``steps`` is the number of steps asked for.
    """

    method: str  # "gd" or an optimizer name from mlcore.config.OPTIMIZERS
    lr: float
    steps: int
    points: np.ndarray  # (k + 1, 2)
    losses: np.ndarray  # (k + 1,)
    diverged_at: int | None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final_point(self) -> np.ndarray:
        return self.points[-1]

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    def clipped(self, surface: Surface) -> np.ndarray:
        """The points clipped to the surface's window, for drawing."""
        out = self.points.copy()
        out[:, 0] = np.clip(out[:, 0], *surface.x_range)
        out[:, 1] = np.clip(out[:, 1], *surface.y_range)
        return out

    def distance_to_minimum(self, surface: Surface) -> float:
        return float(min(np.hypot(*(self.final_point - np.asarray(m))) for m in surface.minima))

    def first(self, steps: int) -> "OptimPath":
        """The same path asked for only ``steps`` steps: each step depends only on the ones before,
        so a page can compute the longest path once and show any number of steps from it."""
        steps = _check_steps(steps)
        if steps >= self.steps:
            return self
        diverged = self.diverged_at is not None and self.diverged_at <= steps
        n = len(self.points) if diverged else steps + 1
        return OptimPath(self.method, self.lr, steps, self.points[:n], self.losses[:n],
                         self.diverged_at if diverged else None)


def _escaped(surface: Surface, point: np.ndarray) -> bool:
    """Not finite, or further than ``ESCAPE`` window sizes from the window's centre."""
    x, y = point.tolist()
    if not (math.isfinite(x) and math.isfinite(y)):
        return True
    (x0, x1), (y0, y1) = surface.x_range, surface.y_range
    return abs(x - (x0 + x1) / 2.0) > ESCAPE * (x1 - x0) or abs(y - (y0 + y1) / 2.0) > ESCAPE * (y1 - y0)


def _losses(surface: Surface, points: list[np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        return surface.loss(torch.from_numpy(np.array(points))).numpy().copy()


def _check_steps(steps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise ConfigError("err.course.gradient.steps", value=steps, high=MAX_STEPS)
    return int(steps)


def _check_lr(lr: float) -> float:
    try:
        value = float(lr)
    except (TypeError, ValueError):
        raise ConfigError("err.course.gradient.lr", value=lr, low=LR_LOW, high=LR_HIGH) from None
    if not (math.isfinite(value) and LR_LOW <= value <= LR_HIGH):
        raise ConfigError("err.course.gradient.lr", value=lr, low=LR_LOW, high=LR_HIGH)
    return value


def _start(surface: Surface, start) -> torch.Tensor:
    point = surface.start if start is None else start
    values = np.asarray(point, dtype=np.float64)
    if values.shape != (2,) or not np.all(np.isfinite(values)):
        raise ConfigError("err.course.gradient.start", value=str(point))
    return torch.tensor(values, dtype=torch.float64)


def _follow(surface: Surface, first: np.ndarray, step, steps: int) -> tuple[np.ndarray, int | None]:
    """Points ``first, step(), step(), ...``, stopping at the first point that is not finite or
    lies more than ``ESCAPE`` window sizes away: (points, that step or None). The escaping point
    is kept when it is finite, so the drawn path shows where it went."""
    points = [first]
    for k in range(1, steps + 1):
        point = step()
        if _escaped(surface, point):
            if np.all(np.isfinite(point)):
                points.append(point)
            return np.array(points), k
        points.append(point)
    return np.array(points), None


def gradient_descent(name: str, lr: float, steps: int, start=None) -> OptimPath:
    """Plain gradient descent ``w <- w - lr * grad L(w)`` from the surface's start point.

    The path stops at the first point that is not finite or that lies more than ``ESCAPE``
    window sizes away (``diverged_at`` is that step; the point is kept when it is finite).
    """
    surface = get_surface(name)
    lr, steps = _check_lr(lr), _check_steps(steps)
    w = _start(surface, start)

    def step() -> np.ndarray:
        nonlocal w
        w.requires_grad_(True)
        (grad,) = torch.autograd.grad(surface.loss(w), w)
        with torch.no_grad():
            w = (w - lr * grad).detach()
        return w.numpy().copy()

    points, diverged_at = _follow(surface, w.numpy().copy(), step, steps)
    return OptimPath("gd", lr, steps, points, _losses(surface, points), diverged_at)


RACE_TRUST_COEF = 1.0  # LARS's eta: with one tensor a step is lr * eta * ||w|| along g / ||g||
RACE_ADAMW_DECAY = 0.01  # torch's default for AdamW; without decay AdamW is exactly Adam


def race_config(method: str, lr: float) -> OptimConfig:
    """The ``OptimConfig`` the race uses: the project's defaults, this ``lr``, and two changes
    so that every racer shows its own character on a 2-vector (see the constants above)."""
    if method == "lars":
        return OptimConfig(name=method, lr=lr, trust_coef=RACE_TRUST_COEF)
    if method == "adamw":
        return OptimConfig(name=method, lr=lr, weight_decay=RACE_ADAMW_DECAY)
    return OptimConfig(name=method, lr=lr)


def make_race_optimizer(params, cfg: OptimConfig) -> torch.optim.Optimizer:
    """The project's real optimizer (``mlcore.optim.make_optimizer``) for ``cfg``."""
    from mlcore.optim import make_optimizer  # the registry (and its LARS) lives there

    return make_optimizer(list(params), cfg)


def optimizer_path(name: str, method: str, lr: float, steps: int, start=None) -> OptimPath:
    """Run ``steps`` calls of ``optimizer.step()`` on a ``torch.nn.Parameter`` of shape (2,)."""
    surface = get_surface(name)
    if method not in OPTIMIZERS:
        raise ConfigError("err.optim.name", value=method, allowed=", ".join(OPTIMIZERS))
    lr, steps = _check_lr(lr), _check_steps(steps)
    param = torch.nn.Parameter(_start(surface, start))
    optimizer = make_race_optimizer([param], race_config(method, lr))

    def step() -> np.ndarray:
        optimizer.zero_grad()
        surface.loss(param).backward()
        optimizer.step()
        return param.detach().numpy().copy()

    points, diverged_at = _follow(surface, param.detach().numpy().copy(), step, steps)
    return OptimPath(method, lr, steps, points, _losses(surface, points), diverged_at)


@dataclass(frozen=True)
class Race:
    surface: str
    steps: int
    lr_scale: float
    paths: tuple[OptimPath, ...]

    def path(self, method: str) -> OptimPath:
        return next(p for p in self.paths if p.method == method)

    def ranking(self) -> list[OptimPath]:
        """Paths from the closest to the furthest final point from a minimum (diverged ones last)."""
        surface = get_surface(self.surface)
        return sorted(self.paths, key=lambda p: (p.diverged, p.distance_to_minimum(surface)))


def race(
    name: str,
    steps: int = 100,
    lr_scale: float = 1.0,
    methods: tuple[str, ...] = OPTIMIZERS,
    lrs: dict[str, float] | None = None,
) -> Race:
    """Every optimizer in ``methods`` from the same start point; ``lrs`` overrides the defaults,
    which are multiplied by ``lr_scale``."""
    surface = get_surface(name)
    scale = _check_lr(lr_scale)
    unknown = [m for m in methods if m not in OPTIMIZERS]
    if unknown or not methods:
        raise ConfigError("err.optim.name", value=", ".join(unknown) or "-", allowed=", ".join(OPTIMIZERS))
    paths = []
    for method in methods:
        lr = (lrs or {}).get(method, surface.lr_for(method) * scale)
        paths.append(optimizer_path(name, method, lr, steps))
    return Race(name, steps, scale, tuple(paths))


def lr_limit(name: str) -> float | None:
    """For the quadratics, the largest stable rate of plain GD: ``2 / lambda_max(A)``."""
    a = {"quadratic": QUADRATIC_A, "ill_conditioned": ILL_A}.get(name)
    if a is None:
        get_surface(name)
        return None
    return float(2.0 / np.linalg.eigvalsh(np.array(a)).max())


# --- mini-batch noise ------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseCurve:
    """One batch size: the training loss after every update, against epochs seen."""

    batch_size: int
    full_batch: bool
    epochs: np.ndarray  # (updates + 1,) epochs seen (0 first)
    loss: np.ndarray  # (updates + 1,) loss on the whole training set after each update
    batch_loss: np.ndarray  # (updates,) loss on the mini-batch each update used
    diverged_at: int | None = None  # the update after which the loss was no longer finite (it stops there)

    @property
    def updates(self) -> int:
        return int(len(self.batch_loss))


@dataclass(frozen=True)
class MinibatchNoise:
    dataset: str
    task: Task
    n_rows: int
    n_features: int
    epochs: int
    lr: float
    seed: int
    curves: tuple[NoiseCurve, ...]
    subsampled_from: int | None = None  # original row count when rows were subsampled


MAX_NOISE_ROWS = 500
MAX_NOISE_EPOCHS = 50


def minibatch_noise(
    X: np.ndarray,
    y: np.ndarray,
    task: Task = Task.MULTICLASS,
    *,
    dataset: str = "",
    batch_sizes: tuple[int | None, ...] = (1, 32, None),
    epochs: int = 10,
    lr: float = 0.05,
    seed: int = 0,
    max_rows: int = MAX_NOISE_ROWS,
) -> MinibatchNoise:
    """Train a softmax (classification) or linear (regression) model with plain SGD, once per batch
    size (``None`` = the full batch), from the same seeded start and for the same number of epochs.

    Batch size ``b`` makes ``ceil(n / b)`` updates per epoch. Rows beyond ``max_rows`` are dropped
    (seeded) so that batch size 1 stays quick.
    """
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) != len(y) or len(X) < 2:
        raise DataError("err.course.gradient.noise_data", rows=len(X))
    if not np.all(np.isfinite(X)):
        raise DataError("err.course.gradient.noise_nan")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or not 1 <= epochs <= MAX_NOISE_EPOCHS:
        raise ConfigError("err.course.gradient.epochs", value=epochs, high=MAX_NOISE_EPOCHS)
    lr = _check_lr(lr)
    for b in batch_sizes:
        if b is not None and (isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1):
            raise ConfigError("err.course.gradient.batch_size", value=b)
    rng = np.random.default_rng(seed)
    original = len(X)
    if original > max_rows:
        keep = np.sort(rng.choice(original, size=max_rows, replace=False))
        X, y = X[keep], y[keep]
    n, d = X.shape
    xt = torch.from_numpy(X)
    if task is Task.REGRESSION:
        yt = torch.from_numpy(np.asarray(y, dtype=np.float32)).reshape(-1, 1)
        n_out, loss_fn = 1, torch.nn.functional.mse_loss
    else:
        yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
        n_out, loss_fn = max(int(yt.max()) + 1, 2), torch.nn.functional.cross_entropy
    torch.manual_seed(seed)
    initial = torch.nn.Linear(d, n_out).state_dict()

    curves = []
    for b in batch_sizes:
        size = n if b is None else min(int(b), n)
        per_epoch = math.ceil(n / size)
        model = torch.nn.Linear(d, n_out)
        model.load_state_dict(initial)
        optimizer = make_race_optimizer(model.parameters(), OptimConfig(name="sgd", lr=lr))
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            full = [float(loss_fn(model(xt), yt))]
        batch_losses: list[float] = []
        diverged_at = None
        for _ in range(epochs):
            order = torch.randperm(n, generator=gen) if size < n else torch.arange(n)
            for start in range(0, n, size):
                idx = order[start : start + size]
                optimizer.zero_grad()
                loss = loss_fn(model(xt[idx]), yt[idx])
                loss.backward()
                optimizer.step()
                batch_losses.append(float(loss.detach()))
                with torch.no_grad():
                    full.append(float(loss_fn(model(xt), yt)))
                if not math.isfinite(full[-1]):
                    diverged_at = len(batch_losses)
                    break
            if diverged_at is not None:
                break
        updates = len(batch_losses)
        curves.append(
            NoiseCurve(
                size, b is None or size == n,
                np.arange(updates + 1) / per_epoch,
                np.array(full), np.array(batch_losses), diverged_at,
            )
        )
    return MinibatchNoise(
        dataset, task, n, d, int(epochs), lr, int(seed), tuple(curves),
        subsampled_from=original if original > max_rows else None,
    )
