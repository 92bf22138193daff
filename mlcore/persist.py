"""Save and load trained models as safetensors files, never with pickle.

A model file is a standard ``.safetensors`` file: the weights as float32 tensors named as in
``MLP.state_dict()`` (``net.0.weight``, ``net.0.bias``, ...), and in the header's string metadata:

- ``format``: ``"mlp-lab"`` and ``format_version``: ``"1"``;
- ``model_config``: the :class:`~mlcore.config.ModelConfig` as JSON;
- ``n_inputs`` / ``n_outputs``;
- ``meta``: JSON with what the app needs to use the model again (task, class names, feature
  names, target and dataset name, see :func:`meta_for`).

Loading reads the header as JSON and the tensors with ``safetensors.numpy``: nothing in a file is
ever executed, so an uploaded pickle (or a ``torch.save`` file, which is a pickle inside a zip)
is rejected as "not a safetensors file" without being unpickled. Every problem is a
:class:`~mlcore.errors.ModelFileError` with a catalogue key the UI can show in either language.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import torch
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from mlcore.config import LayerSpec, ModelConfig
from mlcore.errors import ConfigError, ModelFileError
from mlcore.model import MLP

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_FILE_BYTES", "save_model", "load_model_bytes", "meta_for",
           "config_to_dict", "config_from_dict"]

FORMAT = "mlp-lab"
FORMAT_VERSION = "1"
MAX_FILE_BYTES = 64 * 1024 * 1024  # the largest allowed MLP (8 x 512 x 512) is about 8 MB


# ------------------------------------------------------------------------------------------------
# ModelConfig <-> plain dict
# ------------------------------------------------------------------------------------------------


def config_to_dict(cfg: ModelConfig) -> dict[str, Any]:
    return {
        "hidden": [{"units": h.units, "activation": h.activation} for h in cfg.hidden],
        "init": cfg.init,
        "dropout": cfg.dropout,
        "l2": cfg.l2,
        "l1": cfg.l1,
        "binary_head": cfg.binary_head,
        "loss": cfg.loss,
    }


def config_from_dict(d: dict[str, Any]) -> ModelConfig:
    """Inverse of :func:`config_to_dict`; raises ``ConfigError`` (bad values) or ``KeyError`` /
    ``TypeError`` (bad structure)."""
    if not isinstance(d, dict) or not isinstance(d.get("hidden"), list):
        raise TypeError("model_config must be an object with a 'hidden' list")
    hidden = tuple(LayerSpec(int(h["units"]), str(h["activation"])) for h in d["hidden"])
    return ModelConfig(
        hidden=hidden,
        init=str(d.get("init", "default")),
        dropout=float(d.get("dropout", 0.0)),
        l2=float(d.get("l2", 0.0)),
        l1=float(d.get("l1", 0.0)),
        binary_head=str(d.get("binary_head", "logit")),
        loss=d.get("loss"),
    )


# ------------------------------------------------------------------------------------------------
# Save
# ------------------------------------------------------------------------------------------------


def meta_for(data: Any) -> dict[str, Any]:
    """The metadata worth keeping with a model trained on ``data`` (a ``PreparedData``)."""
    return {
        "task": data.task.value,
        "dataset": data.name,
        "target_name": data.target_name,
        "feature_names": list(data.feature_names),
        "raw_feature_names": list(data.raw_feature_names),
        "class_names": list(data.class_names) if data.class_names is not None else None,
    }


def _weights_dict(weights: Any) -> dict[str, np.ndarray]:
    """numpy float32 weights from a TrainState, an nn.Module or a state dict."""
    if hasattr(weights, "model_state"):  # a TrainState
        weights = weights.model_state
    if isinstance(weights, torch.nn.Module):
        weights = weights.state_dict()
    out = {}
    for name, value in dict(weights).items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        out[str(name)] = np.ascontiguousarray(value, dtype=np.float32)
    return out


def save_model(model_cfg: ModelConfig, weights: Any, meta: dict[str, Any] | None = None) -> bytes:
    """The ``.safetensors`` bytes of a model: ``weights`` is a ``TrainState``, an ``MLP`` or its
    state dict (numpy or torch); ``meta`` is any JSON-serialisable dict (see :func:`meta_for`)."""
    tensors = _weights_dict(weights)
    n_inputs, n_outputs = _io_sizes(model_cfg, tensors)
    _check_shapes(model_cfg, n_inputs, n_outputs, tensors)
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_config": json.dumps(config_to_dict(model_cfg)),
        "n_inputs": str(n_inputs),
        "n_outputs": str(n_outputs),
        "meta": json.dumps(meta or {}, ensure_ascii=False, default=str),
    }
    return st_save(tensors, metadata=metadata)


# ------------------------------------------------------------------------------------------------
# Load
# ------------------------------------------------------------------------------------------------


def _read_header(raw: bytes) -> dict[str, Any]:
    """The safetensors JSON header (8-byte little-endian length, then JSON), validated lightly."""
    if len(raw) < 8:
        raise ModelFileError("err.modelfile.not_safetensors", size=len(raw))
    (n,) = struct.unpack("<Q", raw[:8])
    if n < 2 or 8 + n > len(raw):
        raise ModelFileError("err.modelfile.not_safetensors", size=len(raw))
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError("err.modelfile.not_safetensors", size=len(raw)) from None
    if not isinstance(header, dict):
        raise ModelFileError("err.modelfile.not_safetensors", size=len(raw))
    return header


def load_model_bytes(
    raw: bytes,
    expected_inputs: int | None = None,
    expected_outputs: int | None = None,
) -> tuple[ModelConfig, MLP, dict[str, Any]]:
    """``(ModelConfig, eval-mode MLP, meta)`` from the bytes of a file made by :func:`save_model`.

    ``expected_inputs`` / ``expected_outputs``: the current dataset's number of features and the
    number of output neurons it needs; a model made for other data is refused with a clear error.
    ``meta`` is the saved metadata plus ``n_inputs`` and ``n_outputs``.
    """
    raw = bytes(raw)
    if len(raw) > MAX_FILE_BYTES:
        raise ModelFileError("err.modelfile.too_large", size_mb=round(len(raw) / 2**20, 1),
                             max_mb=MAX_FILE_BYTES // 2**20)
    header = _read_header(raw)
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError("err.modelfile.not_ours")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ModelFileError("err.modelfile.version", version=metadata.get("format_version"),
                             expected=FORMAT_VERSION)
    try:
        model_cfg = config_from_dict(json.loads(metadata["model_config"]))
        n_inputs, n_outputs = int(metadata["n_inputs"]), int(metadata["n_outputs"])
        meta = json.loads(metadata.get("meta") or "{}")
    except ConfigError as err:
        raise ModelFileError("err.modelfile.config", detail=str(err)) from None
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as err:
        raise ModelFileError("err.modelfile.config", detail=f"{type(err).__name__}: {err}") from None
    if not isinstance(meta, dict):
        meta = {}
    if n_inputs < 1 or n_outputs < 1:
        raise ModelFileError("err.modelfile.config", detail=f"n_inputs={n_inputs}, n_outputs={n_outputs}")
    try:
        tensors = st_load(raw)
    except Exception:  # safetensors raises its own error type for a malformed body
        raise ModelFileError("err.modelfile.not_safetensors", size=len(raw)) from None
    _check_shapes(model_cfg, n_inputs, n_outputs, tensors)
    if expected_inputs is not None and n_inputs != int(expected_inputs):
        raise ModelFileError("err.modelfile.inputs", got=n_inputs, expected=int(expected_inputs))
    if expected_outputs is not None and n_outputs != int(expected_outputs):
        raise ModelFileError("err.modelfile.outputs", got=n_outputs, expected=int(expected_outputs))
    if not all(np.isfinite(v).all() for v in tensors.values()):
        raise ModelFileError("err.modelfile.nonfinite")
    with torch.random.fork_rng(devices=[]):  # the random init is overwritten right away
        model = MLP(model_cfg, n_inputs, n_outputs)
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in tensors.items()})
    model.eval()
    meta = {**meta, "n_inputs": n_inputs, "n_outputs": n_outputs}
    return model_cfg, model, meta


# ------------------------------------------------------------------------------------------------
# Shape checks shared by save and load
# ------------------------------------------------------------------------------------------------


def _io_sizes(model_cfg: ModelConfig, tensors: dict[str, np.ndarray]) -> tuple[int, int]:
    names = sorted((k for k in tensors if k.endswith(".weight")), key=lambda k: int(k.split(".")[1]))
    if len(names) != model_cfg.depth + 1:
        raise ModelFileError("err.modelfile.shapes", detail=f"{len(names)} weight matrices for "
                             f"{model_cfg.depth} hidden layers")
    first, last = tensors[names[0]], tensors[names[-1]]
    if first.ndim != 2 or last.ndim != 2:
        raise ModelFileError("err.modelfile.shapes", detail="weights must be matrices")
    return int(first.shape[1]), int(last.shape[0])


def _check_shapes(model_cfg: ModelConfig, n_inputs: int, n_outputs: int, tensors: dict[str, np.ndarray]) -> None:
    with torch.random.fork_rng(devices=[]):
        reference = {k: tuple(v.shape) for k, v in MLP(model_cfg, n_inputs, n_outputs).state_dict().items()}
    got = {k: tuple(np.shape(v)) for k, v in tensors.items()}
    if set(got) != set(reference):
        missing = sorted(set(reference) - set(got))
        extra = sorted(set(got) - set(reference))
        raise ModelFileError("err.modelfile.shapes", detail=f"missing {missing[:4]}, unexpected {extra[:4]}")
    for name, shape in reference.items():
        if got[name] != shape:
            raise ModelFileError("err.modelfile.shapes", detail=f"{name} is {got[name]}, expected {shape}")
    for name, value in tensors.items():
        if not np.issubdtype(np.asarray(value).dtype, np.floating):
            raise ModelFileError("err.modelfile.shapes", detail=f"{name} has dtype {np.asarray(value).dtype}")
