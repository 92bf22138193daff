"""Pruning for trials that train through a plain Lightning ``Trainer``.

The Tune page's own trials advance k folds in chunks and report between chunks (see
:mod:`.objective`). A trial written the textbook way, one ``Trainer.fit`` per trial inside
``study.optimize``, prunes through optuna-integration's ``PyTorchLightningPruningCallback``
(``optuna.integration.pytorch_lightning`` is deprecated): after each validation it reports the
monitored metric to the trial and raises ``optuna.TrialPruned`` when the pruner says so, which
stops the Trainer. :func:`fit_trial` is that path for an :class:`mlcore.system.MLPSystem`.
"""

from __future__ import annotations


def fit_trial(trial, arrays, model_cfg, train_cfg, monitor: str = "val_loss") -> float:
    """Train ``model_cfg``/``train_cfg`` on ``arrays`` with a standard Trainer and the pruning
    callback; return the last value of ``monitor``. Raises ``optuna.TrialPruned`` when pruned."""
    import lightning as L
    import torch
    from optuna_integration import PyTorchLightningPruningCallback
    from torch.utils.data import DataLoader, TensorDataset

    from mlcore.system import MLPSystem
    from mlcore.train import _silence_lightning

    _silence_lightning()
    n_out = arrays.n_outputs(model_cfg)
    system = MLPSystem(model_cfg, train_cfg.optim, arrays.n_features, n_out, arrays.task,
                       batch_size=train_cfg.batch_size, seed=train_cfg.seed)
    tensors = [torch.as_tensor(a.copy()) for a in (arrays.X_train, arrays.y_train, arrays.X_val, arrays.y_val)]
    # one Lightning batch per epoch (the whole training set, shuffled); MLPSystem takes one
    # optimizer step per mini-batch of batch_size rows inside it (as in mlcore.train)
    train = DataLoader(TensorDataset(tensors[0], tensors[1]), batch_size=len(arrays.y_train), shuffle=True,
                       generator=torch.Generator().manual_seed(train_cfg.seed))
    val = DataLoader(TensorDataset(tensors[2], tensors[3]), batch_size=len(arrays.y_val))
    trainer = L.Trainer(max_epochs=train_cfg.epochs, accelerator="cpu", devices=1, logger=False,
                        enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False,
                        num_sanity_val_steps=0,
                        callbacks=[PyTorchLightningPruningCallback(trial, monitor=monitor)])
    trainer.fit(system, train, val)
    return float(trainer.callback_metrics[monitor])
