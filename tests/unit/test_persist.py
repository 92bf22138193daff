"""Model files: safetensors round trip, and every kind of bad file refused without running it."""

from __future__ import annotations

import io
import json
import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from safetensors.numpy import save as st_save

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, Task, TrainConfig
from mlcore.errors import ModelFileError
from mlcore.model import MLP
from mlcore.persist import config_from_dict, config_to_dict, load_model_bytes, meta_for, save_model
from mlcore.train import TrainArrays, fit, load_model, predict

CFG = ModelConfig(hidden=(LayerSpec(5, "tanh"), LayerSpec(3, "elu")), dropout=0.1, init="xavier", l2=0.001)


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    arrays = TrainArrays(X[:40], y[:40], X[40:], y[40:], Task.BINARY, 2)
    state = fit(arrays, CFG, TrainConfig(OptimConfig("adam", lr=0.05), batch_size=8, epochs=3))
    return arrays, state


def fake_data():
    return SimpleNamespace(task=Task.BINARY, name="lunas", target_name="clase", feature_names=["x1", "x2"],
                           raw_feature_names=["x1", "x2"], class_names=["sí", "no"])


def test_round_trip_gives_identical_predictions_and_metadata(trained):
    arrays, state = trained
    raw = save_model(CFG, state, meta_for(fake_data()))
    assert raw[8:9] == b"{"  # a safetensors header
    cfg, model, meta = load_model_bytes(raw, expected_inputs=2, expected_outputs=1)
    assert cfg == CFG
    assert not model.training
    original = load_model(CFG, arrays, state)
    np.testing.assert_array_equal(predict(model, arrays.X_val, "binary"), predict(original, arrays.X_val, "binary"))
    assert meta["class_names"] == ["sí", "no"] and meta["dataset"] == "lunas" and meta["task"] == "binary"
    assert (meta["n_inputs"], meta["n_outputs"]) == (2, 1)


def test_save_accepts_a_model_or_a_state_dict(trained):
    arrays, state = trained
    model = load_model(CFG, arrays, state)
    a = save_model(CFG, model, {"k": 1})
    b = save_model(CFG, model.state_dict(), {"k": 1})
    c = save_model(CFG, state.model_state, {"k": 1})
    loaded = [load_model_bytes(raw)[1].state_dict() for raw in (a, b, c)]
    for name, value in model.state_dict().items():
        assert all(torch.equal(sd[name], value) for sd in loaded)


def test_config_dict_round_trip():
    cfg = ModelConfig(hidden=(LayerSpec(3, "gelu"),), loss="huber", binary_head="softmax", l1=0.2)
    assert config_from_dict(json.loads(json.dumps(config_to_dict(cfg)))) == cfg


class _Evil:
    """Unpickling this would create ``path`` (a stand-in for running arbitrary code)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_payload_is_rejected_and_never_runs(tmp_path):
    marker = tmp_path / "pwned.txt"
    payload = pickle.dumps(_Evil(marker))
    with pytest.raises(ModelFileError, match="not a .safetensors model file") as info:
        load_model_bytes(payload)
    assert info.value.key == "err.modelfile.not_safetensors"
    assert not marker.exists()
    # sanity check of the test itself: unpickling really would have run it
    pickle.loads(payload).close()
    assert marker.exists()


def test_torch_save_file_is_rejected(tmp_path):
    buf = io.BytesIO()
    torch.save(MLP(CFG, 2, 1, seed=0).state_dict(), buf)
    with pytest.raises(ModelFileError) as info:
        load_model_bytes(buf.getvalue())
    assert info.value.key == "err.modelfile.not_safetensors"


@pytest.mark.parametrize("raw", [b"", b"1234567", b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!",
                                 b"\x02\x00\x00\x00\x00\x00\x00\x00[]", bytes(range(256)) * 4])
def test_garbage_is_not_a_safetensors_file(raw):
    with pytest.raises(ModelFileError, match="not a .safetensors model file"):
        load_model_bytes(raw)


def _with_metadata(trained, **changes):
    """A real model file whose metadata is edited (None removes a key)."""
    _, state = trained
    raw = save_model(CFG, state, {})
    n = int.from_bytes(raw[:8], "little")
    metadata = json.loads(raw[8 : 8 + n])["__metadata__"]
    for k, v in changes.items():
        if v is None:
            metadata.pop(k, None)
        else:
            metadata[k] = v
    tensors = {k: np.asarray(v, dtype=np.float32) for k, v in state.model_state.items()}
    return st_save(tensors, metadata=metadata)


def test_other_safetensors_files_are_not_ours():
    raw = st_save({"weight": np.zeros((2, 2), dtype=np.float32)})
    with pytest.raises(ModelFileError, match="was not saved by MLP Lab"):
        load_model_bytes(raw)


def test_missing_or_invalid_config(trained):
    with pytest.raises(ModelFileError, match="missing or invalid") as info:
        load_model_bytes(_with_metadata(trained, model_config=None))
    assert info.value.key == "err.modelfile.config"
    with pytest.raises(ModelFileError, match="missing or invalid.*0 neurons"):
        load_model_bytes(_with_metadata(trained, model_config=json.dumps(
            {"hidden": [{"units": 0, "activation": "relu"}]})))
    with pytest.raises(ModelFileError, match="missing or invalid"):
        load_model_bytes(_with_metadata(trained, model_config="{not json"))


def test_shape_mismatch(trained):
    bigger = config_to_dict(CFG)
    bigger["hidden"][0]["units"] = 6
    with pytest.raises(ModelFileError, match="do not match the network.*net.0.weight") as info:
        load_model_bytes(_with_metadata(trained, model_config=json.dumps(bigger)))
    assert info.value.key == "err.modelfile.shapes"
    with pytest.raises(ModelFileError, match="do not match the network"):
        load_model_bytes(_with_metadata(trained, n_inputs="3"))


def test_wrong_number_of_inputs_or_outputs_for_the_current_dataset(trained):
    raw = save_model(CFG, trained[1], {})
    with pytest.raises(ModelFileError, match="expects 2 inputs but the current dataset has 5 features") as info:
        load_model_bytes(raw, expected_inputs=5)
    assert info.value.key == "err.modelfile.inputs"
    with pytest.raises(ModelFileError, match="1 output neurons but the current task needs 3"):
        load_model_bytes(raw, expected_inputs=2, expected_outputs=3)


def test_version_and_non_finite_weights(trained):
    with pytest.raises(ModelFileError, match="format version 99"):
        load_model_bytes(_with_metadata(trained, format_version="99"))
    _, state = trained
    bad = {k: np.asarray(v, dtype=np.float32).copy() for k, v in state.model_state.items()}
    bad["net.0.weight"][0, 0] = np.nan
    with pytest.raises(ModelFileError, match="not finite"):
        load_model_bytes(save_model(CFG, bad, {}))


def test_spanish_messages_exist(trained):
    with pytest.raises(ModelFileError) as info:
        load_model_bytes(save_model(CFG, trained[1], {}), expected_inputs=4)
    assert "espera 2 entradas" in info.value.message("es")
