"""The training system: a LightningModule that wraps the plain :class:`mlcore.model.MLP`.

Lightning's "systems vs models" split: the model only computes outputs; the system owns

- the **loss**: cross-entropy for multiclass and for a binary "softmax" head (2 outputs),
  ``BCEWithLogitsLoss`` for a binary "logit" head (1 output; the sigmoid is inside the loss),
  MSE for regression by default, or MAE (L1) / Huber when ``ModelConfig.loss`` asks for them;
- the **penalties**: ``ModelConfig.l2 * sum(W**2)`` and ``ModelConfig.l1 * sum(|W|)`` over the
  weight matrices (not the biases), added explicitly to the loss that is minimised. This is
  separate from the optimizer's ``OptimConfig.weight_decay`` (which torch applies inside the
  step). The logged ``train_loss`` is the data loss only, so it compares with ``val_loss``;
- the **metrics**: accuracy for classification, R² for regression, accumulated as tensors over
  the epoch's mini-batches and logged once per epoch (``train_loss``, ``train_metric``,
  ``val_loss``, ``val_metric``);
- the **optimizer**, built from ``OptimConfig`` by :func:`mlcore.optim.make_optimizer`.

It uses manual optimization so that one ``training_step`` can run several mini-batches: give it
``batch_size`` and pass a large batch (for example the whole training set, pre-shuffled) and it
takes one optimizer step per mini-batch of ``batch_size`` rows, in order. Without ``batch_size``
it behaves like any LightningModule: one optimizer step per batch of your DataLoader::

    system = MLPSystem(ModelConfig(), OptimConfig(), n_inputs=2, n_outputs=2, task="multiclass")
    L.Trainer(max_epochs=10).fit(system, DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True),
                                 DataLoader(TensorDataset(Xv, yv), batch_size=len(Xv)))

``lean=True`` (what :mod:`mlcore.train` uses) skips the parts of Lightning's machinery that are pure
overhead for a float32 CPU run of a tiny model, about 1 ms per call each: metrics are not sent
through ``self.log`` but kept in ``self.epoch_log`` (a plain dict), and the backward pass is a
plain ``loss.backward()`` instead of ``self.manual_backward`` (so the ``on_before_backward`` /
``on_after_backward`` hooks are not called), the optimizer is stepped directly, not through
Lightning's wrapper (so ``trainer.global_step`` stays 0), and CPU batches are not walked by
``transfer_batch_to_device``. Leave it False in your own Trainer.

A non-finite loss stops the step at once, before the bad update: ``self.diverged_step`` holds the
1-based index of that mini-batch within the epoch and ``trainer.should_stop`` is set.
"""

from __future__ import annotations

import math

import lightning as L
import torch
from torch import nn

from mlcore.config import ModelConfig, OptimConfig, Task
from mlcore.model import MLP, loss_name
from mlcore.optim import make_optimizer

__all__ = ["MLPSystem", "loss_name", "make_loss"]  # loss_name lives in mlcore.model (no Lightning needed)


def make_loss(name: str) -> nn.Module:
    return {
        "ce": nn.CrossEntropyLoss,
        "bce": nn.BCEWithLogitsLoss,
        "mse": nn.MSELoss,
        "mae": nn.L1Loss,
        "huber": nn.HuberLoss,
    }[name]()


class MLPSystem(L.LightningModule):
    """Loss, penalties, metrics and optimizer around an :class:`MLP`."""

    def __init__(
        self,
        model_cfg: ModelConfig,
        optim_cfg: OptimConfig,
        n_inputs: int,
        n_outputs: int,
        task: Task | str,
        batch_size: int | None = None,
        seed: int | None = None,
        model: MLP | None = None,
        lean: bool = False,
    ) -> None:
        super().__init__()
        if not lean:  # for checkpoints; inspecting the signature costs ~1 ms, useless in lean runs
            self.save_hyperparameters(ignore=["model", "lean"])
        self.model_cfg = model_cfg
        self.optim_cfg = optim_cfg
        self.task = Task(task)
        self.model = model if model is not None else MLP(model_cfg, n_inputs, n_outputs, seed=seed)
        self.loss_kind = loss_name(self.task, model_cfg, self.model.n_outputs)
        self.criterion = make_loss(self.loss_kind)
        self.batch_size = batch_size
        self.lean = lean
        self.epoch_log: dict[str, float] = {}
        self.automatic_optimization = False  # one step per mini-batch, several per training_step
        self._weights = [lin.weight for lin in self.model.linears]
        self.diverged_step: int | None = None
        self._epoch_steps = 0
        self._reset_sums("train")
        self._reset_sums("val")

    # ---- forward ------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def data_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The task's loss on raw outputs ``out`` (n, k) and targets ``y`` (class ids or values)."""
        if self.loss_kind == "ce":
            return self.criterion(out, y)
        return self.criterion(out.squeeze(1), y.to(out.dtype))

    def penalty(self) -> torch.Tensor | None:
        """``l2 * sum(W**2) + l1 * sum(|W|)`` over the weight matrices, or None when both are 0."""
        cfg = self.model_cfg
        total = None
        if cfg.l2 > 0:
            total = cfg.l2 * sum(w.pow(2).sum() for w in self._weights)
        if cfg.l1 > 0:
            l1 = cfg.l1 * sum(w.abs().sum() for w in self._weights)
            total = l1 if total is None else total + l1
        return total

    def transfer_batch_to_device(self, batch, device, dataloader_idx: int):
        if self.lean and device.type == "cpu":  # already on the CPU: skip Lightning's collection walk
            return batch
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    # ---- steps --------------------------------------------------------------------------------
    def on_train_epoch_start(self) -> None:
        self.start_epoch()

    def start_epoch(self) -> None:
        """Reset the epoch's sums and divergence flag (called by ``on_train_epoch_start``; call it
        yourself if one ``training_step`` is a whole epoch, as :mod:`mlcore.train` does)."""
        self.diverged_step = None
        self._epoch_steps = 0  # optimizer steps taken so far this epoch
        self._reset_sums("train")

    def training_step(self, batch, batch_idx: int):
        if hasattr(batch, "epochs"):  # mlcore.train: every epoch of a call in ONE Lightning batch
            for i, (x, y) in enumerate(batch.epochs()):
                batch.begin(self, i)
                self._steps(x, y)
                if batch.end(self, i):
                    break
            return None
        x, y = batch
        return self._steps(x, y)

    def _steps(self, x: torch.Tensor, y: torch.Tensor):
        """One optimizer step per mini-batch of ``batch_size`` rows of ``(x, y)``, in order."""
        # The raw optimizer in lean mode; Lightning's wrapper otherwise (it counts global_step)
        opt = self.optimizers(use_pl_optimizer=not self.lean)
        size = self.batch_size or len(x)
        penalised = self.model_cfg.l2 > 0 or self.model_cfg.l1 > 0
        loss_sum = 0.0
        for start in range(0, len(x), size):
            xb, yb = x[start : start + size], y[start : start + size]
            out = self.model(xb)
            loss = self.data_loss(out, yb)
            objective = loss + self.penalty() if penalised else loss
            value = objective.item()  # one cheap sync per step: the divergence check
            if not math.isfinite(value):
                self.diverged_step = self._epoch_steps + 1
                self.trainer.should_stop = True
                break
            opt.zero_grad(set_to_none=True)
            if self.lean:
                objective.backward()
            else:
                self.manual_backward(objective)
            opt.step()
            self._epoch_steps += 1
            loss_sum += (loss.item() if penalised else value) * len(yb)
            self._accumulate("train", out.detach(), yb)
        self._sums["train"]["loss"] += loss_sum
        return None

    def on_train_epoch_end(self) -> None:
        if self.diverged_step is None and self._sums["train"]["n"] > 0:
            loss, metric = self.epoch_metrics("train")
            self._log({"train_loss": loss, "train_metric": metric})

    def on_validation_epoch_start(self) -> None:
        self._reset_sums("val")

    def validation_step(self, batch, batch_idx: int) -> None:
        if self.diverged_step is not None:
            return
        x, y = batch
        out = self.model(x)
        self._sums["val"]["loss"] += self.data_loss(out, y).item() * len(y)
        self._accumulate("val", out, y)

    def on_validation_epoch_end(self) -> None:
        if self._sums["val"]["n"] > 0:
            loss, metric = self.epoch_metrics("val")
            self._log({"val_loss": loss, "val_metric": metric})

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, split: str = "val") -> tuple[float, float]:
        """(loss, accuracy or R²) of the current weights on ``(x, y)`` in ONE forward pass, in
        eval mode (no dropout). The result is also kept for :meth:`epoch_metrics` ``(split)``."""
        was_training = self.model.training
        if was_training and self.model_cfg.dropout > 0:
            self.model.eval()
        try:
            self._reset_sums(split)
            out = self.model(x)
            self._sums[split]["loss"] = self.data_loss(out, y).item() * len(y)
            self._accumulate(split, out, y)
        finally:
            if was_training and self.model_cfg.dropout > 0:
                self.model.train()
        return self.epoch_metrics(split)

    def _log(self, values: dict[str, float]) -> None:
        self.epoch_log.update(values)
        if not self.lean:
            self.log_dict(values)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return make_optimizer(self.parameters(), self.optim_cfg)

    # ---- metrics ------------------------------------------------------------------------------
    def _reset_sums(self, split: str) -> None:
        if not hasattr(self, "_sums"):
            self._sums: dict[str, dict] = {}
        zero = torch.zeros((), dtype=torch.float64)
        # loss: python float; n: rows; hit: correct predictions; sse/sy/syy: for R²
        self._sums[split] = {"loss": 0.0, "n": 0, "hit": zero.clone(), "sse": zero.clone(),
                             "sy": zero.clone(), "syy": zero.clone()}

    def _accumulate(self, split: str, out: torch.Tensor, y: torch.Tensor) -> None:
        s = self._sums[split]  # out is detached or computed without grad
        s["n"] += len(y)
        if self.task is Task.REGRESSION:
            yd = y.double()
            s["sse"] += (out.squeeze(1).double() - yd).pow(2).sum()
            s["sy"] += yd.sum()
            s["syy"] += yd.pow(2).sum()
        elif out.shape[1] == 1:
            s["hit"] += ((out.squeeze(1) > 0).long() == y).sum()
        else:
            s["hit"] += (out.argmax(1) == y).sum()

    def epoch_metrics(self, split: str) -> tuple[float, float]:
        """(mean loss, accuracy or R²) over what was accumulated for ``split`` this epoch."""
        s = self._sums[split]
        n = max(s["n"], 1)
        loss = s["loss"] / n
        if self.task is Task.REGRESSION:
            sst = float(s["syy"]) - float(s["sy"]) ** 2 / n
            metric = 1.0 - float(s["sse"]) / sst if sst > 0 else float("nan")
        else:
            metric = float(s["hit"]) / n
        return loss, metric
