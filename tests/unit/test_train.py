"""Training: known answers against a hand-written loop, determinism, resume, divergence, stopping."""

from __future__ import annotations

import math
import pickle

import lightning as L
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, Task, TrainConfig
from mlcore.errors import DataError
from mlcore.model import MLP
from mlcore.system import MLPSystem
from mlcore.train import TrainArrays, advance, fit, init_state, load_model, predict


def blobs(n=96, seed=0, flip_val=False) -> TrainArrays:
    """Two separable classes in 2-D (train 2/3, val 1/3)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 2)).astype(np.float32) + np.where(y[:, None] == 1, 1.5, -1.5).astype(np.float32)
    k = 2 * n // 3
    y_val = 1 - y[k:] if flip_val else y[k:]
    return TrainArrays(X[:k], y[:k], X[k:], y_val, Task.BINARY, 2)


SMALL = ModelConfig(hidden=(LayerSpec(6, "tanh"),), binary_head="softmax")


def tcfg(name="adam", lr=0.05, epochs=4, batch_size=16, **kw) -> TrainConfig:
    return TrainConfig(OptimConfig(name=name, lr=lr), batch_size=batch_size, epochs=epochs, **kw)


def weights(state) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in state.model_state.items()}


def assert_same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


def curves(state):
    return [(r.epoch, r.train_loss, r.val_loss, r.train_metric, r.val_metric) for r in state.history]


def test_fit_equals_a_hand_written_torch_loop():
    """Same initial weights, same shuffled mini-batches, SGD: the weights must match exactly."""
    arrays, cfg = blobs(), tcfg("sgd", lr=0.3, epochs=3, batch_size=10, seed=5)
    state = fit(arrays, SMALL, cfg)

    model = MLP(SMALL, 2, 2, seed=5)
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    X, y = torch.from_numpy(arrays.X_train), torch.from_numpy(arrays.y_train)
    losses = []
    for epoch in range(1, 4):
        perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(5 * 100003 + epoch))
        total = 0.0
        for i in range(0, len(y), 10):
            idx = perm[i : i + 10]
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(y))
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(weights(state)[name], value.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose([r.train_loss for r in state.history], losses, rtol=1e-6)
    assert [r.epoch for r in state.history] == [1, 2, 3]
    assert state.status == "done" and state.epoch == 3


def test_training_learns_and_metrics_are_accuracies():
    state = fit(blobs(), SMALL, tcfg(epochs=6))
    first, last = state.history[0], state.history[-1]
    assert last.train_loss < first.train_loss
    assert last.val_metric >= 0.9  # well separated blobs
    assert all(0.0 <= r.val_metric <= 1.0 and r.seconds >= 0 for r in state.history)


def test_same_seed_same_curves_and_weights_other_seed_differs():
    cfg = tcfg(epochs=3, seed=3)
    a, b = fit(blobs(), SMALL, cfg), fit(blobs(), SMALL, cfg)
    assert curves(a) == curves(b)
    assert_same_weights(a, b)
    c = fit(blobs(), SMALL, tcfg(epochs=3, seed=4))
    assert curves(c) != curves(a)


@pytest.mark.parametrize("optim", ["adam", "momentum", "rmsprop"])
def test_pause_and_resume_equals_uninterrupted(optim):
    model_cfg = ModelConfig(hidden=(LayerSpec(8, "relu"), LayerSpec(8, "relu")), dropout=0.3, binary_head="softmax")
    cfg = tcfg(optim, lr=0.05, epochs=5, seed=1)
    arrays = blobs()
    whole = advance(arrays, model_cfg, cfg, init_state(arrays, model_cfg, cfg), max_epochs=5)
    part = advance(arrays, model_cfg, cfg, init_state(arrays, model_cfg, cfg), max_epochs=2)
    assert part.status == "paused" and part.epoch == 2
    part = pickle.loads(pickle.dumps(part))  # as if it went to a worker process and back
    part = advance(arrays, model_cfg, cfg, part, max_epochs=3)
    assert part.status == whole.status == "done"
    assert curves(part) == curves(whole)
    assert_same_weights(part, whole)
    assert part.rng_state.tolist() == whole.rng_state.tolist()


def test_advance_does_not_modify_its_input_and_stops_at_the_configured_epochs():
    arrays, cfg = blobs(), tcfg(epochs=3)
    s0 = init_state(arrays, SMALL, cfg)
    before = {k: v.copy() for k, v in weights(s0).items()}
    s1 = advance(arrays, SMALL, cfg, s0, max_epochs=10)
    assert s1.epoch == 3 and s1.status == "done"
    assert s0.epoch == 0 and s0.history == []
    for k, v in before.items():
        np.testing.assert_array_equal(weights(s0)[k], v)
    assert advance(arrays, SMALL, cfg, s1).epoch == 3  # nothing left to do


def test_learning_rate_change_on_resume_applies_without_reset():
    arrays = blobs()
    cfg = tcfg("sgd", lr=0.2, epochs=4)
    s2 = advance(arrays, SMALL, cfg, init_state(arrays, SMALL, cfg), max_epochs=2)
    tiny = TrainConfig(OptimConfig("sgd", lr=1e-9), batch_size=16, epochs=4)
    s3_tiny = advance(arrays, SMALL, tiny, s2, max_epochs=1)
    s3_same = advance(arrays, SMALL, cfg, s2, max_epochs=1)
    # with a ~0 learning rate the third epoch leaves the weights where epoch 2 left them
    for k, v in weights(s2).items():
        np.testing.assert_allclose(weights(s3_tiny)[k], v, atol=1e-7)
        assert s3_tiny.epoch == 3
    assert any(np.abs(weights(s3_same)[k] - v).max() > 1e-3 for k, v in weights(s2).items())
    assert s3_tiny.optim_state["param_groups"][0]["lr"] == 1e-9
    assert len(s3_tiny.history) == 3 and curves(s3_tiny)[:2] == curves(s2)


def test_momentum_buffers_survive_between_calls():
    arrays, cfg = blobs(), tcfg("momentum", lr=0.05, epochs=3)
    s1 = advance(arrays, SMALL, cfg, init_state(arrays, SMALL, cfg), max_epochs=1)
    bufs = [v["momentum_buffer"] for v in s1.optim_state["state"].values()]
    assert len(bufs) == 4 and all(isinstance(b, np.ndarray) and np.abs(b).sum() > 0 for b in bufs)


def test_divergence_is_detected_and_last_finite_weights_kept():
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(64, 3)) * 100).astype(np.float32)  # unscaled inputs
    y = (X @ np.array([3.0, -2.0, 5.0]) * 10).astype(np.float32)  # unscaled targets (~1e4)
    arrays = TrainArrays(X[:48], y[:48], X[48:], y[48:], Task.REGRESSION, 1)
    model_cfg = ModelConfig(hidden=(LayerSpec(8, "relu"),))
    cfg = TrainConfig(OptimConfig("sgd", lr=10.0), batch_size=8, epochs=20)
    state = fit(arrays, model_cfg, cfg)
    assert state.status == "diverged"
    assert state.diverged_epoch is not None and state.diverged_step is not None
    assert 1 <= state.diverged_step <= 6 and state.diverged_epoch <= 20
    assert len(state.history) == state.diverged_epoch - 1 == state.epoch
    assert all(np.isfinite(v).all() for v in weights(state).values())
    again = advance(arrays, model_cfg, cfg, state, max_epochs=5)
    assert again is state  # a diverged run does not go on


def test_early_stopping_on_validation_loss():
    # validation labels are the opposite of the training rule: learning makes val loss worse
    arrays = blobs(flip_val=True)
    state = fit(arrays, SMALL, tcfg(epochs=30, patience=2))
    assert state.status == "early_stopped"
    assert state.epoch == len(state.history) == 3  # best at epoch 1, then 2 epochs without improving
    assert state.bad_epochs == 2 and state.best_val_loss == state.history[0].val_loss


def test_max_seconds_zero_runs_exactly_one_epoch_and_on_epoch_streams_records():
    arrays, cfg = blobs(), tcfg(epochs=5)
    seen = []
    s = advance(arrays, SMALL, cfg, init_state(arrays, SMALL, cfg), max_epochs=5, max_seconds=0.0,
                on_epoch=seen.append)
    assert s.epoch == 1 and s.status == "paused" and seen == s.history
    full = []
    s = fit(arrays, SMALL, cfg, on_epoch=full.append)
    assert [r.epoch for r in full] == [1, 2, 3, 4, 5]


def test_init_state_shows_the_seeded_initial_weights_and_is_plain_data():
    arrays, cfg = blobs(), tcfg(seed=9)
    torch.manual_seed(0)
    rng_before = torch.get_rng_state()
    state = init_state(arrays, SMALL, cfg)
    assert torch.equal(torch.get_rng_state(), rng_before)
    ref = MLP(SMALL, 2, 2, seed=9)
    for k, v in ref.state_dict().items():
        np.testing.assert_array_equal(weights(state)[k], v.numpy())
    assert state.status == "ready" and state.epoch == 0 and state.optim_state is None

    def no_tensors(obj):
        if isinstance(obj, dict):
            return all(no_tensors(v) for v in obj.values())
        if isinstance(obj, (list, tuple)):
            return all(no_tensors(v) for v in obj)
        return not isinstance(obj, torch.Tensor)

    done = fit(arrays, SMALL, tcfg(epochs=1))
    assert no_tensors(done.model_state) and no_tensors(done.optim_state) and isinstance(done.rng_state, np.ndarray)


def test_load_model_and_predict_shapes_for_each_head():
    arrays = blobs()
    for head, n_out in (("logit", 1), ("softmax", 2)):
        cfg = ModelConfig(hidden=(LayerSpec(4, "relu"),), binary_head=head)
        state = fit(arrays, cfg, tcfg(epochs=2))
        model = load_model(cfg, arrays, state)
        assert not model.training and model.n_outputs == n_out
        proba = predict(model, arrays.X_val, Task.BINARY)
        assert proba.shape == (len(arrays.y_val), 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        same = load_model(cfg, (2, n_out), state)
        np.testing.assert_array_equal(predict(same, arrays.X_val, "binary"), proba)
    linear = MLP(ModelConfig(hidden=()), 1, 1, seed=0)
    with torch.no_grad():
        linear.linears[0].weight.fill_(2.0)
        linear.linears[0].bias.fill_(1.0)
    np.testing.assert_allclose(predict(linear, np.array([[0.0], [3.0]]), Task.REGRESSION), [1.0, 7.0])


def test_train_arrays_validation():
    X = np.zeros((4, 2), dtype=np.float32)
    with pytest.raises(DataError, match="class ids from 0 to 3 but there are 2 classes"):
        TrainArrays(X, np.array([0, 1, 2, 3]), X, np.array([0, 1, 0, 1]), Task.MULTICLASS, 2)
    with pytest.raises(DataError, match="there are 3 columns in validation"):
        TrainArrays(X, np.array([0, 1, 0, 1]), np.zeros((4, 3)), np.array([0, 1, 0, 1]), Task.BINARY, 2)
    a = TrainArrays(X.astype(np.float64), np.array([0, 1, 0, 1]), X, np.array([1, 0, 1, 0]), "binary", 2)
    assert a.X_train.dtype == np.float32 and a.y_train.dtype == np.int64 and a.task is Task.BINARY


# ---- the system on its own ---------------------------------------------------------------------


def test_losses_and_penalty_match_hand_computation():
    cfg = ModelConfig(hidden=(LayerSpec(2, "relu"),), l2=0.1, l1=0.01)
    sys_bce = MLPSystem(cfg, OptimConfig(), 2, 1, Task.BINARY, seed=0)
    out = torch.tensor([[0.0], [2.0]])
    y = torch.tensor([0, 1])
    expected = (math.log(2) + math.log(1 + math.exp(-2))) / 2
    assert sys_bce.loss_kind == "bce"
    assert sys_bce.data_loss(out, y).item() == pytest.approx(expected, rel=1e-6)
    w = [lin.weight for lin in sys_bce.model.linears]
    manual = 0.1 * sum((v**2).sum() for v in w) + 0.01 * sum(v.abs().sum() for v in w)
    assert sys_bce.penalty().item() == pytest.approx(manual.item(), rel=1e-6)

    reg = ModelConfig(hidden=(), loss="mae")
    sys_mae = MLPSystem(reg, OptimConfig(), 1, 1, Task.REGRESSION, seed=0)
    assert sys_mae.loss_kind == "mae" and sys_mae.penalty() is None
    assert sys_mae.data_loss(torch.tensor([[1.0], [2.0]]), torch.tensor([0.0, 4.0])).item() == pytest.approx(1.5)
    assert MLPSystem(ModelConfig(hidden=(), loss="huber"), OptimConfig(), 1, 1, "regression").loss_kind == "huber"
    assert MLPSystem(ModelConfig(hidden=()), OptimConfig(), 1, 3, "multiclass").loss_kind == "ce"


def test_evaluate_gives_mse_and_r2():
    system = MLPSystem(ModelConfig(hidden=()), OptimConfig(), 1, 1, Task.REGRESSION, seed=0)
    with torch.no_grad():  # out = x
        system.model.linears[0].weight.fill_(1.0)
        system.model.linears[0].bias.zero_()
    loss, r2 = system.evaluate(torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([1.0, 2.0, 4.0]))
    # SSE = 1, SST = 42/9 -> R² = 1 - 9/42
    assert loss == pytest.approx(1 / 3) and r2 == pytest.approx(1 - 9 / 42)


def test_evaluate_accuracy_with_a_logit_head():
    system = MLPSystem(ModelConfig(hidden=()), OptimConfig(), 1, 1, Task.BINARY, seed=0)
    with torch.no_grad():  # out = x: positive -> class 1
        system.model.linears[0].weight.fill_(1.0)
        system.model.linears[0].bias.zero_()
    _, acc = system.evaluate(torch.tensor([[-1.0], [2.0], [3.0], [-0.5]]), torch.tensor([0, 1, 0, 0]))
    assert acc == pytest.approx(0.75)


@pytest.mark.filterwarnings("ignore:.*LeafSpec")  # a deprecation inside Lightning itself
def test_system_drops_into_a_plain_lightning_trainer():
    arrays = blobs()
    system = MLPSystem(SMALL, OptimConfig("adam", lr=0.05), 2, 2, "binary", seed=0)
    train = DataLoader(TensorDataset(torch.from_numpy(arrays.X_train), torch.from_numpy(arrays.y_train)),
                       batch_size=16, shuffle=True)
    val = DataLoader(TensorDataset(torch.from_numpy(arrays.X_val), torch.from_numpy(arrays.y_val)), batch_size=64)
    trainer = L.Trainer(max_epochs=3, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_checkpointing=False, enable_model_summary=False)
    trainer.fit(system, train, val)
    metrics = trainer.callback_metrics
    assert {"train_loss", "train_metric", "val_loss", "val_metric"} <= set(metrics)
    assert trainer.global_step == 3 * math.ceil(len(arrays.y_train) / 16)  # one step per batch
    assert float(metrics["val_metric"]) >= 0.8


@pytest.mark.filterwarnings("ignore:.*LeafSpec", "ignore:.*val_dataloader")
def test_system_reports_the_diverging_step_within_the_epoch_with_a_dataloader():
    X = torch.ones(12, 1)
    y = torch.ones(12)
    system = MLPSystem(ModelConfig(hidden=()), OptimConfig("sgd", lr=1.0), 1, 1, Task.REGRESSION, seed=0)
    with torch.no_grad():
        system.model.linears[0].weight.fill_(1.0)
        system.model.linears[0].bias.zero_()
    # batches of 4: steps 1 and 2 see finite losses, the third batch holds an inf input
    X[9, 0] = float("inf")
    trainer = L.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_checkpointing=False, enable_model_summary=False)
    trainer.fit(system, DataLoader(TensorDataset(X, y), batch_size=4))
    assert system.diverged_step == 3 and trainer.should_stop
    assert trainer.global_step == 2


def test_switching_optimizer_between_calls_keeps_weights_and_starts_fresh_state():
    arrays = blobs()
    s1 = advance(arrays, SMALL, tcfg("adam", epochs=3), init_state(arrays, SMALL, tcfg("adam", epochs=3)))
    assert s1.optim_name == "adam"
    sgd = tcfg("sgd", lr=1e-9, epochs=3)
    s2 = advance(arrays, SMALL, sgd, s1)
    assert s2.optim_name == "sgd" and s2.epoch == 2 and "exp_avg" not in str(s2.optim_state)
    for k, v in weights(s1).items():  # a ~0 learning rate: the weights stayed where Adam left them
        np.testing.assert_allclose(weights(s2)[k], v, atol=1e-7)


def test_weights_of_another_architecture_are_a_training_error():
    from mlcore.errors import TrainingError

    arrays = blobs()
    state = init_state(arrays, SMALL, tcfg())
    bigger = ModelConfig(hidden=(LayerSpec(7, "tanh"),), binary_head="softmax")
    with pytest.raises(TrainingError, match="do not fit this network") as info:
        advance(arrays, bigger, tcfg(), state)
    assert info.value.key == "err.train.state_mismatch"
