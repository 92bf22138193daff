"""Recorded training runs: configuration, curves and final metrics, for comparing runs.

Runs are plain frozen records kept in each session's state (never shared between sessions).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlcore.config import ModelConfig, TrainConfig


@dataclass(frozen=True)
class RunRecord:
    id: int
    label: str
    data_name: str
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    history: tuple  # EpochRecord, ...
    status: str

    @property
    def epochs(self) -> int:
        return len(self.history)

    @property
    def final_val_loss(self) -> float:
        return self.history[-1].val_loss if self.history else float("nan")

    @property
    def final_val_metric(self) -> float:
        return self.history[-1].val_metric if self.history else float("nan")


def architecture_string(model_cfg: ModelConfig, n_inputs: int, n_outputs: int) -> str:
    """``2-8-8-1``: inputs, hidden widths, outputs."""
    return "-".join(str(n) for n in (n_inputs, *(h.units for h in model_cfg.hidden), n_outputs))


def run_label(model_cfg: ModelConfig, train_cfg: TrainConfig, n_inputs: int, n_outputs: int,
              optimizer_name: str, decimal: str = ".") -> str:
    """``Adam α=0.00443 · 2-8-8-1 relu · b=32``: the learning rate to 3 significant digits (a tuned
    one, 0.00443038, made the runs' names and legends long), with ``decimal`` as its decimal mark
    (the session language's when the run is recorded)."""
    acts = sorted({h.activation for h in model_cfg.hidden})
    act = f" {'/'.join(acts)}" if acts else ""
    lr = f"{train_cfg.optim.lr:.3g}".replace(".", decimal)
    return (f"{optimizer_name} α={lr} · {architecture_string(model_cfg, n_inputs, n_outputs)}"
            f"{act} · b={train_cfg.batch_size}")


def add_run(runs: list[RunRecord], record: RunRecord, limit: int = 30) -> list[RunRecord]:
    """A new list with ``record`` appended (oldest dropped past ``limit``)."""
    return [*runs, record][-limit:]


def delete_runs(runs: list[RunRecord], ids: set[int]) -> list[RunRecord]:
    return [r for r in runs if r.id not in ids]
