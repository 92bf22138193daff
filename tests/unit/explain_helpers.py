"""Small trained models and datasets for the explanation tests (seeded, a second or less)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from mlcore.config import ColumnChoice, LayerSpec, ModelConfig, SplitConfig, Task
from mlcore.data.prepare import prepare
from mlcore.model import MLP


def quick_fit(model, X, y, task, steps=300, lr=0.02, seed=0):
    """Full-batch Adam on (X, y): enough to give the tests a model that has learned something."""
    torch.manual_seed(seed)
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    task = Task(task)
    if task is Task.REGRESSION:
        target = torch.as_tensor(np.asarray(y, dtype=np.float32))
        loss_fn = lambda out: torch.nn.functional.mse_loss(out[:, 0], target)  # noqa: E731
    elif model.n_outputs == 1:
        target = torch.as_tensor(np.asarray(y, dtype=np.float32))
        loss_fn = lambda out: torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], target)  # noqa: E731
    else:
        target = torch.as_tensor(np.asarray(y, dtype=np.int64))
        loss_fn = lambda out: torch.nn.functional.cross_entropy(out, target)  # noqa: E731
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(X))
        loss.backward()
        opt.step()
    return model.eval()


def mixed_table(n=240, seed=0) -> pd.DataFrame:
    """Two numeric features (one integer-valued), one categorical; the class depends on all three."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 70, n)
    income = rng.normal(30.0, 8.0, n)
    color = rng.choice(["red", "green", "blue"], n)
    score = 0.08 * (age - 40) + 0.15 * (income - 30) + np.where(color == "red", 1.5, 0.0) - np.where(
        color == "blue", 1.0, 0.0)
    label = np.where(score + rng.normal(0, 0.3, n) > 0, "yes", "no")
    return pd.DataFrame({"age": age, "income": income, "color": color, "label": label})


def mixed_data(seed=0):
    df = mixed_table(seed=seed)
    return prepare(df, ColumnChoice(target="label", features=("age", "income", "color"), task=Task.BINARY),
                   SplitConfig(seed=seed), name="mixed")


def mixed_model(data, binary_head_outputs=1, hidden=(LayerSpec(16, "tanh"),), seed=0):
    model = MLP(ModelConfig(hidden=hidden), data.n_features, binary_head_outputs, seed=seed)
    return quick_fit(model, data.X_train, data.y_train, data.task, seed=seed)
