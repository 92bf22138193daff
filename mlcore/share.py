"""Share links: dataset choice, architecture and training settings as URL query parameters.

A teacher hands the class an exact starting point, as TensorFlow Playground does. Decoding never
raises: an invalid or tampered group of parameters falls back to its defaults and adds a notice
(catalogue key + params) for the page to show.

Only built-in datasets travel in a link (an uploaded CSV lives in one browser session only).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping

from mlcore.config import BuiltinConfig, LayerSpec, ModelConfig, OptimConfig, SplitConfig, TrainConfig
from mlcore.errors import MLCoreError

Notice = tuple[str, dict[str, Any]]

# query key -> OptimConfig field
_OPTIM_KEYS = {"opt": "name", "lr": "lr", "mom": "momentum", "nest": "nesterov", "b1": "beta1",
               "b2": "beta2", "eps": "eps", "wd": "weight_decay", "alpha": "alpha", "eta": "trust_coef"}
_TRAIN_KEYS = {"bs": "batch_size", "ep": "epochs", "seed": "seed", "pat": "patience"}
_MODEL_KEYS = {"init": "init", "drop": "dropout", "l2": "l2", "l1": "l1", "head": "binary_head", "loss": "loss"}
_DATA_KEYS = {"ds": "name", "n": "n_samples", "noise": "noise", "k": "n_classes", "dseed": "seed"}
_SPLIT_KEYS = {"val": "val_frac", "test": "test_frac", "sseed": "seed"}


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _non_default(obj, keymap: dict[str, str]) -> dict[str, str]:
    default = type(obj)()
    out = {}
    for key, attr in keymap.items():
        value = getattr(obj, attr)
        if value != getattr(default, attr):
            out[key] = _fmt(value)
    return out


def encode(model_cfg: ModelConfig, train_cfg: TrainConfig, source: Mapping[str, Any] | None = None
           ) -> dict[str, str]:
    """Query parameters for this setup (defaults are left out to keep links short)."""
    params: dict[str, str] = {}
    if source and source.get("kind") == "builtin":
        builtin = BuiltinConfig(**{f.name: source[f.name] for f in fields(BuiltinConfig) if f.name in source})
        params["ds"] = builtin.name
        params.update({k: _fmt(getattr(builtin, a)) for k, a in _DATA_KEYS.items() if k != "ds"})
        split = SplitConfig(val_frac=source.get("val_frac", 0.2), test_frac=source.get("test_frac", 0.2),
                            seed=source.get("split_seed", source.get("seed", 0)))
        params.update({k: _fmt(getattr(split, a)) for k, a in _SPLIT_KEYS.items()})
        if source.get("scale") is False:  # real data kept in raw units (lesson "scaling matters")
            params["sc"] = "0"
    params["arch"] = ",".join(f"{layer.units}:{layer.activation}" for layer in model_cfg.hidden) or "-"
    params.update(_non_default(model_cfg, _MODEL_KEYS))
    params.update(_non_default(train_cfg.optim, _OPTIM_KEYS))
    params["opt"] = train_cfg.optim.name
    params.update(_non_default(train_cfg, _TRAIN_KEYS))
    return params


def _convert(raw: str, like: Any, attr: str):
    if attr == "patience" or attr == "loss":
        if raw in ("", "none", "None"):
            return None
        return int(raw) if attr == "patience" else raw
    if isinstance(like, bool):
        if raw not in ("0", "1", "true", "false"):
            raise ValueError(raw)
        return raw in ("1", "true")
    if isinstance(like, int):
        return int(raw)
    if isinstance(like, float):
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(raw)
        return value
    return raw


def _build(cls, keymap: dict[str, str], query: Mapping[str, str], **extra):
    default = cls()
    kwargs = dict(extra)
    for key, attr in keymap.items():
        if key in query:
            kwargs[attr] = _convert(str(query[key]), getattr(default, attr), attr)
    return cls(**kwargs)


def _parse_arch(raw: str) -> tuple[LayerSpec, ...]:
    if raw in ("", "-"):
        return ()
    layers = []
    for part in raw.split(","):
        units, _, act = part.partition(":")
        layers.append(LayerSpec(int(units), act or "relu"))
    return tuple(layers)


def decode(query: Mapping[str, str]) -> tuple[dict[str, Any] | None, ModelConfig, TrainConfig, list[Notice]]:
    """(builtin dataset source or None, model config, train config, notices). Never raises."""
    notices: list[Notice] = []

    def attempt(group: str, build, fallback):
        try:
            return build()
        except (MLCoreError, ValueError, TypeError, KeyError):
            notices.append(("share.invalid", {"group": group}))
            return fallback

    source = None
    if "ds" in query:
        def build_source():
            from mlcore.data import BUILTINS  # light module (no torch)

            builtin = _build(BuiltinConfig, _DATA_KEYS, query)
            if builtin.name not in BUILTINS:
                raise ValueError(builtin.name)
            split = _build(SplitConfig, _SPLIT_KEYS, query)
            scale = _convert(str(query.get("sc", "1")), True, "scale")
            return {"kind": "builtin", **{f.name: getattr(builtin, f.name) for f in fields(builtin)},
                    "val_frac": split.val_frac, "test_frac": split.test_frac, "split_seed": split.seed,
                    "scale": scale}

        source = attempt("data", build_source, None)

    model_cfg = attempt(
        "model",
        lambda: _build(ModelConfig, _MODEL_KEYS, query,
                       **({"hidden": _parse_arch(str(query["arch"]))} if "arch" in query else {})),
        ModelConfig(),
    )
    optim = attempt("optimizer", lambda: _build(OptimConfig, _OPTIM_KEYS, query), OptimConfig())
    train_cfg = attempt("training", lambda: _build(TrainConfig, _TRAIN_KEYS, query, optim=optim),
                        TrainConfig(optim=optim))
    return source, model_cfg, train_cfg, notices


def is_share_link(query: Mapping[str, str]) -> bool:
    return any(key in query for key in ("arch", "opt", "ds", *VIEW_KEYS))


# ---- teacher mode and lesson presets in links --------------------------------------------------
# control id (ui.teacher.visible) -> short code in the link's ``hide`` parameter
HIDE_CODES = {
    "data.dataset": "ds",
    "build.architecture": "arch",
    "build.init": "init",
    "build.regularisation": "reg",
    "build.loss": "loss",
    "train.optimizer": "opt",
    "train.lr": "lr",
    "train.hyper": "hyp",
    "train.batch": "bs",
    "train.epochs": "ep",
    "train.seed": "seed",
    "train.early_stopping": "es",
}
_HIDE_IDS = {code: control for control, code in HIDE_CODES.items()}
VIEW_KEYS = ("hide", "tm", "preset")


def encode_view(hidden=(), teacher: bool = False, preset: str | None = None) -> dict[str, str]:
    """Link parameters for teacher mode: controls to hide (``hide=opt,lr``), the teacher's own
    switch (``tm=1``) and the lesson preset step (``preset=xor.hidden``). Empty ones are left out."""
    params: dict[str, str] = {}
    codes = [HIDE_CODES[c] for c in HIDE_CODES if c in set(hidden)]  # fixed order: stable links
    if codes:
        params["hide"] = ",".join(codes)
    if teacher:
        params["tm"] = "1"
    if preset:
        params["preset"] = str(preset)
    return params


def decode_view(query: Mapping[str, str]) -> tuple[tuple[str, ...], bool, str | None, list[Notice]]:
    """(hidden control ids, teacher mode, preset ref or None, notices). Never raises: an unknown
    control code is dropped, an unreadable ``tm`` means off, each with a notice."""
    notices: list[Notice] = []
    hidden: list[str] = []
    raw = str(query.get("hide", "") or "")
    bad = []
    for code in (part.strip() for part in raw.split(",")):
        if not code:
            continue
        if code in _HIDE_IDS:
            if _HIDE_IDS[code] not in hidden:
                hidden.append(_HIDE_IDS[code])
        else:
            bad.append(code)
    if bad:
        notices.append(("share.invalid", {"group": "hide"}))
    teacher = False
    if "tm" in query:
        try:
            teacher = bool(_convert(str(query["tm"]), False, "tm"))
        except ValueError:
            notices.append(("share.invalid", {"group": "tm"}))
    preset = str(query["preset"])[:40] if query.get("preset") else None
    return tuple(hidden), teacher, preset, notices
