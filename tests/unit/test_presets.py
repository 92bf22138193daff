"""Every lesson preset, run with mlcore.train.fit, shows the outcome its explanation claims."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import numpy as np
import pytest

from mlcore import presets as P
from mlcore.config import TrainConfig
from mlcore.i18n import LANGS, t
from mlcore.model import layer_outputs
from mlcore.train import TrainArrays, fit, load_model


@lru_cache(maxsize=None)
def _arrays(preset_id: str, step_key: str) -> TrainArrays:
    return TrainArrays.from_prepared(P.prepare_source(P.get_preset(preset_id).step(step_key).source))


def _run(preset_id: str, step_key: str, epochs: int | None = None):
    step = P.get_preset(preset_id).step(step_key)
    train = step.train if epochs is None else replace(step.train, epochs=epochs)
    arrays = _arrays(preset_id, step_key)
    return fit(arrays, step.model, train), arrays, step


def _final(state):
    return state.history[-1]


def test_every_preset_has_its_texts_and_a_valid_link():
    from mlcore.share import decode, encode

    for preset in P.PRESETS:
        for lang in LANGS:
            for key in (preset.title_key, preset.prompt_key, preset.explain_key):
                assert t(key, lang) != key
            for step in preset.steps:
                assert t(f"preset.{preset.id}.step.{step.key}", lang) != f"preset.{preset.id}.step.{step.key}"
        for step in preset.steps:
            query = encode(step.model, step.train, step.source)
            source, model, train, notices = decode(query)
            assert notices == []
            assert (model, train) == (step.model, step.train)
            assert source["scale"] == step.source["scale"] and source["name"] == step.source["name"]
    assert P.parse_ref("xor.hidden")[1].key == "hidden"
    assert P.parse_ref("xor")[1].key == "linear"
    assert P.parse_ref("nope.x") is None and P.parse_ref("xor.nope") is None


def test_xor_needs_a_hidden_layer():
    linear, _, _ = _run("xor", "linear")
    hidden, _, _ = _run("xor", "hidden")
    # no hidden layer: one straight line; the loss stays at ln 2 (a 50/50 guess), accuracy near 50 %
    assert _final(linear).val_metric < 0.6
    assert _final(linear).val_loss > 0.68
    assert _final(hidden).val_metric > 0.9


def test_overfit_then_l2_and_early_stopping_fix_it():
    over, _, _ = _run("overfit", "overfit")
    h = over.history
    best = min(r.val_loss for r in h)
    assert h[-1].train_loss < 0.05 and h[-1].train_metric == 1.0  # memorised the training points
    assert h[-1].val_loss > 3 * best  # while the validation loss climbed back up
    l2, _, _ = _run("overfit", "l2")
    assert _final(l2).val_loss < 0.3 * h[-1].val_loss
    early, _, _ = _run("overfit", "early")
    assert early.status == "early_stopped" and early.epoch < 150
    assert _final(early).val_loss < 0.3 * h[-1].val_loss


def test_overfit_dropout_fix():
    over, _, _ = _run("overfit", "overfit", epochs=150)
    drop, _, _ = _run("overfit", "dropout", epochs=150)
    assert _final(drop).val_loss < 0.5 * _final(over).val_loss


def test_high_learning_rate_diverges_at_epoch_one():
    high, _, _ = _run("diverge", "high")
    assert high.status == "diverged" and high.diverged_epoch == 1
    low, _, _ = _run("diverge", "low")
    assert low.status == "done" and math.isfinite(_final(low).val_loss)


def _hidden_weights(state):
    return [v for k, v in sorted(state.model_state.items()) if k.endswith("weight")][:-1]


def test_zero_init_keeps_neurons_identical():
    zeros, _, _ = _run("zeros", "zeros")
    for W in _hidden_weights(zeros):
        assert np.abs(W).max() > 0.05  # they did learn ...
        np.testing.assert_allclose(W, np.broadcast_to(W[0], W.shape), atol=1e-6)  # ... all the same thing
    default, _, _ = _run("zeros", "default")
    for W in _hidden_weights(default):
        assert np.abs(W - W[0]).max() > 0.05
    # 8 identical neurons are one neuron: no closed boundary around the inner circle
    assert _final(zeros).val_metric < 0.75 < 0.9 < _final(default).val_metric


def test_scaling_matters():
    raw, arrays, _ = _run("scaling", "raw")
    assert arrays.X_train.max() > 100  # proline in its own units
    scaled, arrays_s, _ = _run("scaling", "scaled")
    assert abs(arrays_s.X_train.mean()) < 0.2
    assert _final(raw).val_metric < 0.6
    assert _final(scaled).val_metric > 0.9


def test_adam_beats_sgd_on_ill_conditioned_features():
    sgd, arrays, _ = _run("adam_sgd", "sgd")
    adam, _, _ = _run("adam_sgd", "adam")
    majority = max(np.mean(arrays.y_val), 1 - np.mean(arrays.y_val))
    assert _final(sgd).val_metric <= majority + 0.05
    assert _final(adam).val_metric > 0.88


def _dead_units(state, arrays, model_cfg) -> int:
    outs = layer_outputs(load_model(model_cfg, arrays, state), arrays.X_train)
    return int(sum(((o > 0).sum(axis=0) == 0).sum() for o in outs))


def test_high_learning_rate_kills_relus():
    high, arrays, step = _run("dead_relu", "high")
    normal, _, _ = _run("dead_relu", "normal")
    n_units = sum(layer.units for layer in step.model.hidden)
    dead_high = _dead_units(high, arrays, step.model)
    assert dead_high >= n_units // 2
    assert dead_high >= 2 * _dead_units(normal, arrays, step.model)


def test_batch_size_one_is_noisy():
    full_step = P.get_preset("batch").step("full")
    assert full_step.train.batch_size == len(_arrays("batch", "full").y_train)

    def roughness(key):
        state, _, _ = _run("batch", key, epochs=8)
        return float(np.abs(np.diff([r.val_loss for r in state.history])).mean())

    one, full = roughness("one"), roughness("full")
    assert one > 5 * full
