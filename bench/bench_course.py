"""Speed of the computations behind course pages 4, 6 and 7.

    python -m bench.bench_course [--repeats 5]

Page 4 must feel instant: for every surface it times the contour grid, 100 steps of plain
gradient descent, the default race (100 steps x 7 optimizers, each a real ``optimizer.step()``)
and the animated race figure. The budget column is time / 1 s (the brief: "well under a second");
the ratio column compares the race with 7 x 100 bare autograd steps ``w -= lr * grad`` measured in
this same run, i.e. what the optimizers' bookkeeping costs on a 2-vector.

Pages 6 and 7 run behind buttons; their times are printed for reference (one fit of N = 16, the
N = 1..64 sweep, the raw-vs-standardized comparison, the mini-batch noise demo).

Times are medians over ``--repeats`` runs after one warm-up run (the first optimizer built in a
process imports parts of torch that take seconds; that is a one-off per server process), with
``torch.set_num_threads(1)``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mlcore.config import OPTIMIZERS, Task
from mlcore.course import preprocess as P
from mlcore.course import surfaces as S
from mlcore.course import universal as U
from mlcore.plots.course_optim import descent_figure


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_steps(name: str, steps: int, lr: float) -> None:
    surface = S.get_surface(name)
    w = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        (grad,) = torch.autograd.grad(surface.loss(w), w)
        with torch.no_grad():
            w -= lr * grad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    labels = {m: m for m in OPTIMIZERS}

    print("Page 4: gradient descent and the optimizer race (100 steps)")
    print(f"{'surface':<16}{'grid':>9}{'GD':>9}{'race':>9}{'figure':>9}{'race/1s':>9}{'race/bare':>11}")
    for name in S.SURFACE_NAMES:
        surface = S.get_surface(name)
        grid = S.surface_grid(name)
        race = S.race(name, 100)
        t_grid = timed(lambda: S.surface_grid(name), args.repeats)
        t_gd = timed(lambda: S.gradient_descent(name, surface.gd_lr, 100), args.repeats)
        t_race = timed(lambda: S.race(name, 100), args.repeats)
        t_fig = timed(lambda: descent_figure(grid, surface, race.paths, labels), args.repeats)
        t_bare = timed(lambda: [bare_steps(name, 100, surface.gd_lr) for _ in OPTIMIZERS], args.repeats)
        print(f"{name:<16}{t_grid * 1e3:>7.1f}ms{t_gd * 1e3:>7.1f}ms{t_race * 1e3:>7.1f}ms{t_fig * 1e3:>7.1f}ms"
              f"{t_race:>9.2f}{t_race / t_bare:>10.2f}x")

    print("\nPage 4: mini-batch noise (iris, 10 epochs, batch 1 / 32 / 150)")
    iris = P.scaled_table("iris")
    t_noise = timed(lambda: S.minibatch_noise(iris.X, iris.y, Task.MULTICLASS, epochs=10, lr=0.1), args.repeats)
    print(f"  {t_noise * 1e3:.0f} ms")

    print("\nPage 6: universal approximation (sin, 200 points, tanh, 200 L-BFGS iterations)")
    target = U.target_data("sin")
    t_fit = timed(lambda: U.fit_universal(target, 16, "tanh"), args.repeats)
    t_sweep = timed(lambda: U.width_sweep(target, "tanh"), max(1, args.repeats // 2))
    print(f"  one fit, N = 16: {t_fit * 1e3:.0f} ms;  sweep N = 1..64: {t_sweep:.2f} s "
          f"({t_sweep / t_fit:.1f}x one fit)")

    print("\nPage 7: same network on raw and standardized wine (SGD, 50 epochs, batches of 16)")
    t_cmp = timed(lambda: P.compare_scaling("wine", epochs=50), max(1, args.repeats // 2))
    t_slice = timed(lambda: (P.loss_slice("wine", scaled=False), P.loss_slice("wine", scaled=True)), args.repeats)
    print(f"  both trainings: {t_cmp:.2f} s;  both loss slices: {t_slice * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
