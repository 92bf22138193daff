"""Training speed: mlcore's Lightning path against a plain PyTorch loop and scikit-learn.

    python -m bench.bench_train [--repeats 5] [--epochs 50]

Each workload trains the same model on the same mini-batches three ways in this one process:

- ``mlcore``: :func:`mlcore.train.fit` (Lightning Trainer + ``MLPSystem``, validation each epoch);
- ``torch``: a hand-written PyTorch loop doing the same work: same initial weights, same shuffled
  mini-batches (same generator seeds), same fused optimizer, train loss and accuracy accumulated
  per step, one validation forward pass per epoch. Its final weights must equal mlcore's (the
  table prints the largest difference: it checks that both really did the same computation);
- ``sklearn``: ``MLPClassifier`` with the same layer sizes, ``solver="adam"``, batch size and
  number of epochs (``max_iter``; ``tol=0`` and a large ``n_iter_no_change`` so it never stops
  early; ``alpha=0`` so no L2 penalty). It is a different implementation, shown for reference.

Times are wall-clock medians over ``--repeats`` runs after one warm-up run, with
``torch.set_num_threads(1)`` (as in the app's workers). The ratio column is time / torch time,
measured in this run. The target for mlcore is at most 1.25x the plain loop.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, Task, TrainConfig
from mlcore.model import MLP
from mlcore.optim import make_optimizer
from mlcore.train import TrainArrays, fit, load_model


@dataclass(frozen=True)
class Workload:
    name: str
    arrays: TrainArrays
    hidden: tuple[int, ...]
    batch_size: int
    lr: float = 0.01

    @property
    def model_cfg(self) -> ModelConfig:
        # two output neurons for the binary problems (softmax head), as in "2-16-16-2"
        return ModelConfig(hidden=tuple(LayerSpec(u, "relu") for u in self.hidden), binary_head="softmax")

    def train_cfg(self, epochs: int) -> TrainConfig:
        return TrainConfig(OptimConfig("adam", lr=self.lr), batch_size=self.batch_size, epochs=epochs, seed=0)

    @property
    def shape(self) -> str:
        n_out = self.arrays.n_outputs(self.model_cfg)
        return "-".join(str(v) for v in (self.arrays.n_features, *self.hidden, n_out))


def _arrays(X, y, task: Task, n_classes: int) -> TrainArrays:
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_tr)
    return TrainArrays(scaler.transform(X_tr), y_tr, scaler.transform(X_va), y_va, task, n_classes)


def workloads() -> list[Workload]:
    X, y = make_moons(1000, noise=0.2, random_state=0)
    moons = _arrays(X, y, Task.BINARY, 2)
    bc = load_breast_cancer()
    cancer = _arrays(bc.data, bc.target, Task.BINARY, 2)
    dg = load_digits()
    digits = _arrays(dg.data, dg.target, Task.MULTICLASS, 10)
    return [
        Workload("moons 1000", moons, (16, 16), 32),
        Workload("breast cancer", cancer, (64,), 64),
        Workload("digits", digits, (128,), 64),
    ]


class Clock:
    """Wall time and this process's CPU time (less disturbed by other programs on a busy machine)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        return False


def run_mlcore(w: Workload, epochs: int) -> tuple[Clock, torch.nn.Module]:
    with Clock() as clock:
        state = fit(w.arrays, w.model_cfg, w.train_cfg(epochs))
    return clock, load_model(w.model_cfg, w.arrays, state)


def run_torch(w: Workload, epochs: int) -> tuple[Clock, torch.nn.Module]:
    """The plain loop: what one would write by hand for the same training."""
    with Clock() as clock:
        model = _torch_loop(w, epochs)
    return clock, model


def _torch_loop(w: Workload, epochs: int) -> torch.nn.Module:
    a, cfg = w.arrays, w.train_cfg(epochs)
    model = MLP(w.model_cfg, a.n_features, a.n_outputs(w.model_cfg), seed=cfg.seed)
    opt = make_optimizer(model.parameters(), cfg.optim)
    loss_fn = torch.nn.CrossEntropyLoss()
    X, y = torch.from_numpy(a.X_train), torch.from_numpy(a.y_train)
    Xv, yv = torch.from_numpy(a.X_val), torch.from_numpy(a.y_val)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        gen = torch.Generator().manual_seed(cfg.seed * 100003 + epoch)
        perm = torch.randperm(len(y), generator=gen)
        Xs, ys = X[perm], y[perm]
        loss_sum, correct = 0.0, torch.zeros((), dtype=torch.float64)
        for i in range(0, len(ys), cfg.batch_size):
            xb, yb = Xs[i : i + cfg.batch_size], ys[i : i + cfg.batch_size]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(yb)
            correct += (out.detach().argmax(1) == yb).sum()
        model.eval()
        with torch.no_grad():
            out = model(Xv)
            val_loss = loss_fn(out, yv).item()
            val_acc = (out.argmax(1) == yv).double().mean().item()
        history.append((loss_sum / len(ys), float(correct) / len(ys), val_loss, val_acc))
    return model


def run_sklearn(w: Workload, epochs: int) -> Clock:
    a = w.arrays
    clf = MLPClassifier(hidden_layer_sizes=w.hidden, activation="relu", solver="adam", alpha=0.0,
                        batch_size=w.batch_size, learning_rate_init=w.lr, max_iter=epochs, tol=0.0,
                        n_iter_no_change=10**9, shuffle=True, random_state=0)
    with Clock() as clock, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(a.X_train, a.y_train)
        clf.score(a.X_val, a.y_val)
    return clock


def max_weight_diff(m1: torch.nn.Module, m2: torch.nn.Module) -> float:
    with torch.no_grad():
        return max(float((p1 - p2).abs().max()) for p1, p2 in zip(m1.parameters(), m2.parameters()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    rows = []
    for w in workloads():
        run_mlcore(w, 2), run_torch(w, 2), run_sklearn(w, 2)  # warm-up (lazy imports, allocators)
        clocks = {"mlcore": [], "torch": [], "sklearn": []}
        diff = 0.0
        for _ in range(args.repeats):  # interleaved, so background load hits all three alike
            c_ml, m_ml = run_mlcore(w, args.epochs)
            c_pt, m_pt = run_torch(w, args.epochs)
            clocks["mlcore"].append(c_ml)
            clocks["torch"].append(c_pt)
            clocks["sklearn"].append(run_sklearn(w, args.epochs))
            diff = max(diff, max_weight_diff(m_ml, m_pt))
        rows.append((w, clocks, diff))

    def med(values):
        return statistics.median(values)

    print(f"\nTraining time, median of {args.repeats} runs, {args.epochs} epochs, Adam, 1 torch thread\n")
    head = (f"{'workload':<15}{'model':<11}{'batch':>6}{'torch s':>9}{'mlcore s':>10}{'sklearn s':>11}"
            f"{'mlcore/torch':>14}{'(cpu)':>7}{'sklearn/torch':>15}{'max |dW|':>10}")
    print(head)
    print("-" * len(head))
    for w, c, diff in rows:
        wall = {k: med([x.wall for x in v]) for k, v in c.items()}
        ratio = med([a.wall / b.wall for a, b in zip(c["mlcore"], c["torch"])])
        ratio_cpu = med([a.cpu / b.cpu for a, b in zip(c["mlcore"], c["torch"])])
        print(f"{w.name:<15}{w.shape:<11}{w.batch_size:>6}{wall['torch']:>9.3f}{wall['mlcore']:>10.3f}"
              f"{wall['sklearn']:>11.3f}{ratio:>13.2f}x{ratio_cpu:>6.2f}x{wall['sklearn'] / wall['torch']:>14.2f}x"
              f"{diff:>10.1e}")
    print("\nTimes are wall-clock seconds. mlcore/torch is the median of the per-repeat ratios of wall time;")
    print("(cpu) is the same ratio for this process's CPU time, steadier when other programs share the machine.")
    print("Target: mlcore <= 1.25x the plain torch loop. max |dW|: largest difference between the final")
    print("weights of mlcore and of the plain loop (0 = the same computation).")


if __name__ == "__main__":
    main()
